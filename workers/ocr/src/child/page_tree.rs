//! A PDF's pages, found by walking its page tree's `/Kids` (bounded in
//! depth and pages, and safe against cycles). The root's `/Count` is only a
//! claim: a file can say 1 and hold 3 pages, or say 5000 and hold 1
//! (tester's repro-8, repro-9). The pages walked are read and judged
//! against `ocr.max_pages`; a disagreement is noted for review. A page
//! object that does not parse (repro-14: an image XObject that is a
//! dictionary, not a stream) is a damaged page, not a damaged document.

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

/// A page of the tree.
pub enum Leaf {
    Page(RcRef<PagesNode>),
    /// A page object that does not parse: its size in points and why.
    Damaged {
        size: (f32, f32),
        why: String,
    },
}

/// The leaves of the page tree under `root`, in document order. A node met
/// twice (a cycle, or a page listed twice) is read once.
pub fn walk(root: &PageTree, r: &impl Resolve, policy: &OcrPolicy) -> Result<Vec<Leaf>, OcrError> {
    let mut walk = Walk { r, max_pages: policy.max_pages, seen: HashSet::new(), pages: Vec::new() };
    walk.tree(root, 0)?;
    Ok(walk.pages)
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
}

impl<R: Resolve> Walk<'_, R> {
    fn tree(&mut self, tree: &PageTree, depth: usize) -> Result<(), OcrError> {
        if depth >= MAX_DEPTH {
            return Err(OcrError::corrupt(format!("PDF page tree is deeper than {MAX_DEPTH} levels")));
        }
        for kid in &tree.kids {
            if !self.seen.insert(kid.get_inner()) {
                tracing::warn!(node = ?kid.get_inner(), "PDF page tree node met twice; read once");
                continue;
            }
            match self.r.get(*kid) {
                Ok(node) => match &*node {
                    PagesNode::Tree(sub) => self.tree(sub, depth + 1)?,
                    PagesNode::Leaf(_) => self.push(Leaf::Page(node))?,
                },
                Err(e) => {
                    let leaf = self.damaged_leaf(kid.get_inner(), &e).ok_or_else(|| {
                        let after = self.pages.len();
                        OcrError::corrupt(format!("PDF page tree: node after page {after}: {}", describe(&e)))
                    })?;
                    self.push(leaf)?;
                }
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

    /// A node that does not parse but is a page dictionary (no `/Kids`): a
    /// damaged page. `None` for anything else (a damaged subtree fails the
    /// document: how many pages it holds is unknown).
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
}
