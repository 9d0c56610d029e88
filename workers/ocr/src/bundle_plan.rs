//! Which folders of an exhibit are scan bundles, and the one job per bundle
//! that joins its pages' searchable PDFs into one PDF/A, from the ledger.
//!
//! A bundle is a folder of loose page images (TIFF, PNG, JPEG by content or
//! by name) among the exhibit's originals: two or more, or one when the
//! operator gave the bundle's page count. Pages are ordered by the natural
//! order of their file names (`page2` before `page10`). A page file that
//! OCR did not turn into a searchable PDF (not an image, unreadable, failed)
//! is listed as missing, with why; one the OCR policy skipped (a photo, OCR
//! off) is not a page.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap, HashSet};

use exhibit_core::digest::Sha256Digest;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::{ArtefactId, ExhibitRef};
use exhibit_core::params::OcrParams;
pub use exhibit_queue::input::{BundleInput, BundlePage, MissingPage};
use exhibit_queue::{Job, JobId, JobInput, StageInput};

/// Lane of the bundle stage.
pub const BUNDLE_LANE: &str = "ocr-bundle";
/// Rule of a bundle's searchable PDF/A.
pub const BUNDLE_RULE: &str = "ocr-bundle-pdf";
/// Event param and derivation detail describing a bundle's pages.
pub const PARAM_BUNDLE: &str = "bundle_files";
/// Flag on a bundle PDF that lacks a page file of its folder.
pub const FLAG_INCOMPLETE: &str = "incomplete-bundle";

const PAGE_TYPES: [&str; 3] = ["image/tiff", "image/png", "image/jpeg"];
const PAGE_EXTENSIONS: [&str; 5] = ["tif", "tiff", "png", "jpg", "jpeg"];

/// What the ledger says about one original of the exhibit.
#[derive(Debug, Default)]
struct Original {
    id: Option<ArtefactId>,
    path: String,
    sha256: Option<Sha256Digest>,
    mime: Option<String>,
    /// The latest searchable PDF under each OCR policy version.
    pdfs: HashMap<String, PagePdf>,
    /// OCR policy versions that skipped it (a photo, OCR off, already text).
    skipped: HashSet<String>,
    failure: Option<String>,
}

#[derive(Debug, Clone)]
struct PagePdf {
    id: ArtefactId,
    sha256: Sha256Digest,
    pages: u64,
    review: Vec<u64>,
}

/// What bundles need from one exhibit's ledger events, folded in as they
/// are read: a few facts per original, not the events.
#[derive(Debug)]
pub struct BundleFacts {
    exhibit: ExhibitRef,
    originals: HashMap<ArtefactId, Original>,
}

impl BundleFacts {
    /// Facts of `exhibit`; events of other exhibits are ignored.
    pub fn new(exhibit: &ExhibitRef) -> Self {
        Self { exhibit: exhibit.clone(), originals: HashMap::new() }
    }

    /// Folds in one event (in ledger order).
    pub fn note(&mut self, e: &CustodyEvent) {
        if e.exhibit.as_ref() != Some(&self.exhibit) {
            return;
        }
        let artefact = e.artefact.as_ref().and_then(|a| a.id.clone());
        match (&e.action, &e.outcome) {
            (Action::Acquired, Outcome::Ok) => {
                let facts = e.acquired_params().and_then(|p| p.facts);
                let path = facts.as_ref().and_then(|f| f.pointer("/source/path/display")).and_then(|p| p.as_str());
                if let (Some(id), Some(path), Some(a)) = (artefact, path, &e.artefact) {
                    let o = self.originals.entry(id.clone()).or_default();
                    (o.id, o.path, o.sha256) = (Some(id), path.to_owned(), Some(a.sha256));
                }
            }
            (Action::Identified, Outcome::Ok) => {
                if let (Some(id), Some(mime)) = (artefact, e.identified_params().and_then(|p| p.media_type)) {
                    self.originals.entry(id).or_default().mime = Some(mime);
                }
            }
            (Action::Ocr, Outcome::Ok) => self.note_ocr(e, artefact),
            (Action::Failed, Outcome::Failed { reason }) => {
                let job_input = e.failed_params().and_then(|p| p.input);
                let artefact = job_input.as_ref().and_then(|i| i.get("artefact")).and_then(|a| a.as_str());
                if let Some(id) = artefact.and_then(|a| a.parse::<ArtefactId>().ok()) {
                    self.originals.entry(id).or_default().failure = Some(reason.clone());
                }
            }
            _ => {}
        }
    }

    fn note_ocr(&mut self, e: &CustodyEvent, artefact: Option<ArtefactId>) {
        let params = e.ocr_params().unwrap_or_default();
        let (Some(input), Some(version)) = (e.inputs.first(), params.policy_version.clone()) else {
            return;
        };
        let o = self.originals.entry(input.id.clone()).or_default();
        if params.skipped.is_some() || params.not_ocred.is_some() {
            o.skipped.insert(version);
        } else if params.rule.as_deref() == Some("ocr-searchable-pdf") {
            let pages = params.pages.unwrap_or(0);
            if let (Some(id), Some(a)) = (artefact, &e.artefact) {
                let pdf = PagePdf { id, sha256: a.sha256, pages, review: review_pages(&params) };
                // OCRed after a run whose selection settings skipped it
                // (a lower `min_page_side`, OCR switched on): a page now.
                o.skipped.remove(&version);
                o.pdfs.insert(version, pdf);
            }
        }
    }

    /// The exhibit's bundles under the OCR policy `policy_version`;
    /// `expected` is the bundle's page count if the operator gave one.
    pub fn plan(&self, policy_version: &str, expected: Option<u32>) -> Vec<BundleInput> {
        let mut folders: BTreeMap<&str, Vec<&Original>> = BTreeMap::new();
        let acquired = self.originals.values().filter(|o| o.id.is_some());
        for original in acquired.filter(|o| is_page_file(o) && !o.skipped.contains(policy_version)) {
            let folder = original.path.rsplit_once(['/', '\\']).map_or("", |(dir, _)| dir);
            folders.entry(folder).or_default().push(original);
        }
        let least = if expected.is_some() { 1 } else { 2 };
        folders
            .into_iter()
            .filter(|(_, files)| files.len() >= least)
            .filter_map(|(folder, mut files)| {
                // Names shown alike (two names that are not UTF-8 both
                // show U+FFFD) keep one order on every run: by artefact ID.
                files.sort_by(|a, b| natural_cmp(file_name(&a.path), file_name(&b.path)).then_with(|| a.id.cmp(&b.id)));
                bundle(folder, &files, policy_version)
            })
            .collect()
    }
}

fn bundle(folder: &str, files: &[&Original], version: &str) -> Option<BundleInput> {
    let mut pages = Vec::new();
    let mut missing = Vec::new();
    for file in files {
        match (file.pdfs.get(version), file.sha256, &file.id) {
            (Some(pdf), Some(sha256), Some(id)) => pages.push(BundlePage {
                path: file.path.clone(),
                original: id.clone(),
                original_sha256: sha256,
                pdf: pdf.id.clone(),
                pdf_sha256: pdf.sha256,
                pages: pdf.pages,
                review: pdf.review.clone(),
            }),
            _ => missing.push(MissingPage { path: file.path.clone(), why: why_missing(file) }),
        }
    }
    if pages.is_empty() {
        return None;
    }
    let name = folder.rsplit(['/', '\\']).next().filter(|n| !n.is_empty()).unwrap_or(".");
    Some(BundleInput { folder: format!("{name}/"), pages, missing })
}

fn why_missing(file: &Original) -> String {
    match (&file.failure, &file.mime) {
        (Some(reason), _) => format!("OCR failed: {reason}"),
        (None, Some(mime)) if !PAGE_TYPES.contains(&mime.as_str()) => {
            format!("not a page image: its content is {mime}")
        }
        _ => "no searchable PDF was made of it".to_owned(),
    }
}

fn is_page_file(o: &Original) -> bool {
    let by_type = o.mime.as_deref().is_some_and(|m| PAGE_TYPES.contains(&m));
    let ext = file_name(&o.path).rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    by_type || ext.is_some_and(|e| PAGE_EXTENSIONS.contains(&e.as_str()))
}

fn file_name(path: &str) -> &str {
    path.rsplit(['/', '\\']).next().unwrap_or(path)
}

/// The pages an OCR output event flags for review.
fn review_pages(params: &OcrParams) -> Vec<u64> {
    let list = params.needs_review.as_deref().unwrap_or_default();
    list.iter().filter_map(|p| p.get("page").and_then(|n| n.as_u64())).collect()
}

/// The job that makes `bundle`'s PDF/A. Its ID comes from the folder, the
/// page PDFs' hashes in order, the missing files and the OCR policy, so a
/// rerun finds it done, and a page added or changed makes a new bundle.
pub fn bundle_job(
    case: &exhibit_core::ids::CaseId,
    exhibit: &ExhibitRef,
    bundle: &BundleInput,
    policy_version: &str,
) -> Option<Job> {
    let mut id = bundle.folder.as_bytes().to_vec();
    for page in &bundle.pages {
        id.extend_from_slice(page.pdf_sha256.as_bytes());
    }
    for missing in &bundle.missing {
        id.push(0);
        id.extend_from_slice(missing.path.as_bytes());
    }
    Some(Job {
        job_id: JobId::derive(BUNDLE_LANE, &id, policy_version),
        case: case.clone(),
        exhibit: exhibit.clone(),
        stage: BUNDLE_LANE.to_owned(),
        input: JobInput::from(StageInput::OcrBundle(bundle.clone())),
        attempt: 0,
        run: None,
        signature: None,
        after: Vec::new(),
    })
}

/// Orders names as people do: runs of digits by value (`page2` < `page10`),
/// the rest without regard to letter case, then byte by byte.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (ka, kb) = (chunks(a), chunks(b));
    for (x, y) in ka.iter().zip(&kb) {
        let order = match (x, y) {
            (Chunk::Number(x), Chunk::Number(y)) => {
                let (x, y) = (x.trim_start_matches('0'), y.trim_start_matches('0'));
                x.len().cmp(&y.len()).then_with(|| x.cmp(y))
            }
            (Chunk::Text(x), Chunk::Text(y)) => x.to_lowercase().cmp(&y.to_lowercase()),
            (Chunk::Number(_), Chunk::Text(_)) => Ordering::Less,
            (Chunk::Text(_), Chunk::Number(_)) => Ordering::Greater,
        };
        if order != Ordering::Equal {
            return order;
        }
    }
    ka.len().cmp(&kb.len()).then_with(|| a.cmp(b))
}

enum Chunk<'a> {
    Number(&'a str),
    Text(&'a str),
}

fn chunks(s: &str) -> Vec<Chunk<'_>> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = s.as_bytes();
    while start < bytes.len() {
        let digit = bytes[start].is_ascii_digit();
        let len = bytes[start..].iter().take_while(|b| b.is_ascii_digit() == digit).count();
        let part = &s[start..start + len];
        out.push(if digit { Chunk::Number(part) } else { Chunk::Text(part) });
        start += len;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_as_people_read_them() {
        let mut names = ["page10.png", "page2.tif", "Page1.jpg", "page-3.tif", "page02b.png", "page0002.png"];
        names.sort_by(|a, b| natural_cmp(a, b));
        // Equal numbers go by what follows ('.' before 'b'); "page-" follows "page".
        assert_eq!(names, ["Page1.jpg", "page0002.png", "page2.tif", "page02b.png", "page10.png", "page-3.tif"]);
        let mut scans = ["page-012.png", "page-002.tif", "page-010.jpg", "page-001.tif"];
        scans.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(scans, ["page-001.tif", "page-002.tif", "page-010.jpg", "page-012.png"]);
        assert_eq!(natural_cmp("a99999999999999999999999", "a100000000000000000000000"), Ordering::Less);
    }

    /// Two page files whose names show alike (`bad\xfe.png`, `bad\xff.png`
    /// both display as `bad\u{FFFD}.png`) are paged in one order on every
    /// run, whatever order the facts were folded in: a rerun planned the
    /// bundle again in another order and stored a second PDF.
    #[test]
    fn names_shown_alike_are_paged_by_artefact_id() {
        let id = |n: u8| format!("{:032x}", n).parse::<ArtefactId>().unwrap();
        let original = |n: u8| Original {
            id: Some(id(n)),
            path: "scans/bad\u{FFFD}.png".into(),
            sha256: Some(Sha256Digest::of(&[n])),
            mime: Some("image/png".into()),
            pdfs: HashMap::from([(
                "v1".to_owned(),
                PagePdf { id: id(n + 100), sha256: Sha256Digest::of(&[n, 1]), pages: 1, review: Vec::new() },
            )]),
            ..Original::default()
        };
        for order in [[1u8, 2, 3], [3, 2, 1], [2, 3, 1]] {
            let mut facts = BundleFacts::new(&"JS/1".parse().unwrap());
            for n in order {
                facts.originals.insert(id(n), original(n));
            }
            let plan = facts.plan("v1", None);
            let pages: Vec<_> = plan[0].pages.iter().map(|p| p.original.clone()).collect();
            assert_eq!(pages, [id(1), id(2), id(3)], "folded in as {order:?}");
        }
    }
}
