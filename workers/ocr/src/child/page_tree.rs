//! A PDF's pages, found by walking its page tree's `/Kids` (bounded in
//! depth and pages, and safe against cycles). The root's `/Count` is only a
//! claim: a file can say 1 and hold 3 pages, or say 5000 and hold 1
//! (tester's repro-8, repro-9). The pages walked are read and judged
//! against `ocr.max_pages`; a disagreement is noted for review. A page
//! object that does not parse (repro-14: an image XObject that is a
//! dictionary, not a stream) is a damaged page, not a damaged document.
//! An intermediate `/Pages` node that cannot be read (not a dictionary, a
//! `/Kids` that is not an array, a missing object) loses only the pages
//! beneath it: it is named in a note, and the other pages are read.

use std::collections::HashSet;

use pdf::error::PdfError;
use pdf::object::{PageTree, PagesNode, PlainRef, RcRef, Resolve};
use pdf::primitive::{Dictionary, Primitive};

use super::pdf_error::describe;
use crate::{OcrError, OcrPolicy};

/// Deepest page tree walked (the `pdf` crate's own lookup stops at 16).
const MAX_DEPTH: usize = 32;

/// US Letter in points, for a damaged page with no box of its own.
const LETTER: (f32, f32) = (612.0, 792.0);

/// Broken nodes named in a note; more are only counted (a `/Kids` of a
/// million missing objects gives one short note).
const BROKEN_NAMED: usize = 4;

/// A page of the tree.
pub enum Leaf {
    Page(RcRef<PagesNode>),
    /// A page object that does not parse: its size in points and why.
    Damaged {
        size: (f32, f32),
        why: String,
    },
}

/// What walking a page tree found.
pub struct Walked {
    /// The leaves, in document order.
    pub pages: Vec<Leaf>,
    /// The first intermediate nodes that could not be read, in document order.
    pub broken: Vec<Broken>,
    /// How many could not be read (only the first few are kept).
    pub broken_count: usize,
    /// The first node met again (a loop, or a node listed twice) and the
    /// pages found before it, and how many times nodes were met again.
    pub first_repeat: Option<(String, usize)>,
    pub repeats: usize,
}

/// An intermediate `/Pages` node that cannot be read: the pages beneath it are lost.
pub struct Broken {
    /// The node's reference, "12 0 R".
    pub node: String,
    /// Pages found before it.
    pub after: usize,
    pub why: String,
}

impl Walked {
    /// The broken nodes for people, and the page (zero-based) to flag with
    /// it: the first page after the first broken node, or the last page.
    /// `None` when every node was read or no page was found.
    pub fn broken_note(&self) -> Option<(u32, String)> {
        let first = self.broken.first()?;
        let last = self.pages.len().checked_sub(1)?;
        let at = u32::try_from(first.after.min(last)).ok()?;
        Some((at, format!("{}; the pages beneath are missing from the outputs", self.broken_nodes())))
    }

    /// A note on the document when a node was met again (each is read
    /// once, so no page is lost or doubled): a page tree that loops back on
    /// itself is not a failure, but a viewer or another tool may hang or
    /// show pages twice. `None` when no node was met again.
    pub fn repeat_note(&self) -> Option<String> {
        let (node, after) = self.first_repeat.as_ref()?;
        let times = if self.repeats == 1 { "once".to_owned() } else { format!("{} times in all", self.repeats) };
        Some(format!(
            "the PDF's page tree lists node {node} again (after page {after}; nodes are met again {times}): it loops back on itself or lists a node twice; each node was read once and {} pages were found",
            self.pages.len()
        ))
    }

    /// "the PDF's page tree node 12 0 R (after page 2) cannot be read: why", the first few named.
    pub fn broken_nodes(&self) -> String {
        let one = |b: &Broken| format!("node {} (after page {}) cannot be read: {}", b.node, b.after, b.why);
        let mut named: Vec<String> = self.broken.iter().take(BROKEN_NAMED).map(one).collect();
        let more = self.broken_count.saturating_sub(named.len());
        if more > 0 {
            named.push(format!("{more} more broken nodes"));
        }
        format!("the PDF's page tree {}", named.join("; "))
    }
}

/// The leaves of the page tree under `root`, in document order. A node met
/// twice (a cycle, or a page listed twice) is read once.
pub fn walk(root: &PageTree, r: &impl Resolve, policy: &OcrPolicy) -> Result<Walked, OcrError> {
    let mut walk = Walk {
        r,
        max_pages: policy.max_pages,
        seen: HashSet::new(),
        pages: Vec::new(),
        broken: Vec::new(),
        broken_count: 0,
        first_repeat: None,
        repeats: 0,
    };
    walk.tree(root, 0)?;
    Ok(Walked {
        pages: walk.pages,
        broken: walk.broken,
        broken_count: walk.broken_count,
        first_repeat: walk.first_repeat,
        repeats: walk.repeats,
    })
}

/// What to flag when `/Count` disagrees with the pages walked, and on which
/// page: the first page past the count, or the last page when it claims more.
pub fn count_note(claimed: u32, found: usize) -> Option<(u32, String)> {
    let found32 = u32::try_from(found).ok()?;
    if claimed == found32 || found == 0 {
        return None;
    }
    let pages = |n: u32| if n == 1 { "1 page".to_owned() } else { format!("{n} pages") };
    let note = format!(
        "the PDF's page tree says /Count {claimed} but holds {}; all {found} were read: a viewer that trusts /Count shows {}",
        pages(found32),
        pages(claimed)
    );
    Some((claimed.min(found32 - 1), note))
}

struct Walk<'a, R> {
    r: &'a R,
    max_pages: u32,
    seen: HashSet<PlainRef>,
    pages: Vec<Leaf>,
    broken: Vec<Broken>,
    broken_count: usize,
    first_repeat: Option<(String, usize)>,
    /// Nodes met again (logged for the first few only).
    repeats: usize,
}

impl<R: Resolve> Walk<'_, R> {
    fn tree(&mut self, tree: &PageTree, depth: usize) -> Result<(), OcrError> {
        if depth >= MAX_DEPTH {
            return Err(OcrError::corrupt(format!("PDF page tree is deeper than {MAX_DEPTH} levels")));
        }
        for kid in &tree.kids {
            if !self.seen.insert(kid.get_inner()) {
                self.repeats += 1;
                let at = kid.get_inner();
                self.first_repeat.get_or_insert_with(|| (format!("{} {} R", at.id, at.r#gen), self.pages.len()));
                if self.repeats <= BROKEN_NAMED {
                    tracing::warn!(node = ?kid.get_inner(), "PDF page tree node met twice; read once");
                }
                continue;
            }
            match self.r.get(*kid) {
                Ok(node) => match &*node {
                    PagesNode::Tree(sub) => self.tree(sub, depth + 1)?,
                    PagesNode::Leaf(_) => self.push(Leaf::Page(node))?,
                },
                Err(e) => match self.damaged_leaf(kid.get_inner(), &e) {
                    Some(leaf) => self.push(leaf)?,
                    None => self.broken_node(kid.get_inner(), &e),
                },
            }
        }
        Ok(())
    }

    fn push(&mut self, leaf: Leaf) -> Result<(), OcrError> {
        if self.pages.len() >= self.max_pages as usize {
            return Err(OcrError::limit(format!(
                "PDF has more than {0} pages, over the page limit ocr.max_pages = {0}",
                self.max_pages
            )));
        }
        self.pages.push(leaf);
        Ok(())
    }

    /// Records an intermediate node that cannot be read (how many pages it
    /// held is unknown): its pages are lost, the walk goes on.
    fn broken_node(&mut self, at: PlainRef, e: &PdfError) {
        self.broken_count += 1;
        if self.broken.len() >= BROKEN_NAMED {
            return;
        }
        let node = format!("{} {} R", at.id, at.r#gen);
        tracing::warn!(node, after = self.pages.len(), error = %e, "PDF page tree node cannot be read; its pages are lost");
        let why = describe(e).trim_end_matches('.').to_owned();
        self.broken.push(Broken { node, after: self.pages.len(), why });
    }

    /// A node that does not parse but is a page dictionary (no `/Kids`): a
    /// damaged page. `None` for anything else: a broken intermediate node.
    fn damaged_leaf(&self, at: PlainRef, e: &PdfError) -> Option<Leaf> {
        let Ok(Primitive::Dictionary(dict)) = self.r.resolve(at) else { return None };
        let is_page = dict.get("Kids").is_none() && dict.get("Type").is_none_or(|t| t.as_name().ok() == Some("Page"));
        let number = self.pages.len() + 1;
        is_page.then(|| Leaf::Damaged {
            size: own_size(&dict).unwrap_or(LETTER),
            why: format!("PDF page {number}: its page object cannot be read: {}", describe(e)),
        })
    }
}

/// A page dictionary's own crop box, else media box, in points.
fn own_size(dict: &Dictionary) -> Option<(f32, f32)> {
    let b = dict.get("CropBox").or_else(|| dict.get("MediaBox"))?.as_array().ok()?;
    let n = |i: usize| b.get(i).and_then(|p| p.as_number().ok());
    let (w, h) = ((n(2)? - n(0)?).abs(), (n(3)? - n(1)?).abs());
    (w >= 1.0 && h >= 1.0).then_some((w, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_that_agrees_is_not_noted() {
        assert_eq!(count_note(3, 3), None);
    }

    #[test]
    fn a_low_count_flags_the_first_page_past_it_and_a_high_one_the_last() {
        let (at, note) = count_note(1, 3).unwrap();
        assert_eq!(at, 1);
        assert!(note.contains("/Count 1") && note.contains("3 pages"), "{note}");
        let (at, note) = count_note(5000, 1).unwrap();
        assert_eq!(at, 0);
        assert!(note.contains("/Count 5000") && note.contains("holds 1 page;"), "{note}");
    }

    fn walked(pages: usize, broken: usize) -> Walked {
        let leaf = || Leaf::Damaged { size: LETTER, why: String::new() };
        let node = |i: usize| Broken { node: format!("{} 0 R", 10 + i), after: 2, why: "not a dictionary".into() };
        Walked {
            pages: (0..pages).map(|_| leaf()).collect(),
            broken: (0..broken.min(BROKEN_NAMED)).map(node).collect(),
            broken_count: broken,
            first_repeat: None,
            repeats: 0,
        }
    }

    #[test]
    fn a_broken_node_is_named_on_the_page_after_it() {
        let (at, note) = walked(3, 1).broken_note().unwrap();
        assert_eq!(at, 2);
        assert!(note.contains("node 10 0 R (after page 2) cannot be read: not a dictionary"), "{note}");
        assert_eq!(walked(2, 1).broken_note().unwrap().0, 1, "the last page when none follows");
        assert!(walked(3, 0).broken_note().is_none());
        assert!(walked(0, 1).broken_note().is_none(), "no page to flag: the document fails");
    }

    #[test]
    fn a_million_broken_nodes_name_a_few_and_count_the_rest() {
        let note = walked(1, 1_000_000).broken_nodes();
        assert!(note.contains("13 0 R") && !note.contains("14 0 R"), "{note}");
        assert!(note.contains("999996 more broken nodes"), "{note}");
        assert!(note.len() < 500, "{}", note.len());
    }
}
