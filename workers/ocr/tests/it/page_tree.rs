//! Tester's repro-8, repro-9 and repro-14: a PDF's page tree `/Count` is a
//! claim. The pages are those found by walking `/Kids`; a disagreement is
//! flagged for review; a page whose image XObject is not a stream fails alone.

use std::path::Path;

use exhibit_ocr::{OcrPolicy, TEXT_FILE};

use crate::common::{policy, try_ocr};

/// Writes the inputs into `dir` with `scripts/fixtures/page-tree.py`.
fn inputs(dir: &Path) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/fixtures/page-tree.py");
    let out = std::process::Command::new("/usr/bin/python3").arg(script).arg(dir).output().expect("python3");
    assert!(out.status.success(), "PIL, pikepdf and img2pdf are needed: {}", String::from_utf8_lossy(&out.stderr));
}

fn text_of(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(TEXT_FILE)).expect("text output")
}

#[test]
fn a_pdf_whose_count_is_too_low_has_every_page_in_its_tree_ocred_and_flagged() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("count-low.pdf"), "application/pdf", &policy());
    let outcome = r.expect("OCR");
    assert_eq!(outcome.pages.len(), 3, "{:?}", outcome.pages);
    assert_eq!(outcome.pages_ocred, 3);
    let text = text_of(out.path());
    for n in 1..=3 {
        assert!(text.contains(&format!("Page {n} of the statement")), "page {n}: {text}");
    }
    let flagged: Vec<_> = outcome.pages_needing_review().collect();
    assert!(
        flagged.iter().any(|p| p.reason.as_deref().is_some_and(|r| r.contains("/Count") && r.contains("3 pages"))),
        "the disagreement is flagged: {flagged:?}"
    );
}

#[test]
fn the_page_limit_judges_the_pages_walked_not_count() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("count-high.pdf"), "application/pdf", &policy());
    let outcome = r.expect("a 1-page PDF claiming 5000 is not over ocr.max_pages");
    assert_eq!(outcome.pages.len(), 1);
    assert!(text_of(out.path()).contains("Page 1 of the statement"));
    let reason = outcome.pages[0].reason.as_deref().unwrap_or_default();
    assert!(outcome.pages[0].needs_review && reason.contains("/Count") && reason.contains("5000"), "{reason}");
    // The limit still applies to the pages walked.
    let tight = OcrPolicy { max_pages: 2, ..policy() };
    let (_out, r) = try_ocr(&dir.path().join("count-low.pdf"), "application/pdf", &tight);
    let e = r.expect_err("3 pages walked are over a limit of 2");
    assert!(e.message.contains("ocr.max_pages"), "{e}");
}

#[test]
fn a_pdf_page_whose_image_xobject_is_not_a_stream_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("xobject-dict.pdf"), "application/pdf", &policy());
    let outcome = r.unwrap_or_else(|e| panic!("one damaged page failed the document: {e}"));
    assert_eq!(outcome.pages.len(), 4, "{:?}", outcome.pages);
    assert_eq!(outcome.pages_ocred, 4);
    let text = text_of(out.path());
    for n in [1, 3, 4] {
        assert!(text.contains(&format!("Page {n} of the statement")), "page {n}: {text}");
        assert!(!outcome.pages[n - 1].needs_review, "{:?}", outcome.pages[n - 1]);
    }
    let reason = outcome.pages[1].reason.as_deref().unwrap_or_default();
    assert!(outcome.pages[1].needs_review && reason.contains("damaged"), "{reason}");
}

/// A page tree whose `/Kids` lists its own root (a loop) is walked once:
/// its two pages are OCRed, nothing hangs or recurses without end.
#[test]
fn a_page_tree_that_lists_itself_is_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("kids-loop.pdf"), "application/pdf", &policy());
    let outcome = r.expect("OCR of a looping page tree");
    assert_eq!(outcome.pages.len(), 2, "{:?}", outcome.pages);
    let text = text_of(out.path());
    for n in 1..=2 {
        assert!(text.contains(&format!("Page {n} of the statement")), "page {n}: {text}");
    }
}

/// Issue 13 (attack pass of stop 27): the loop back to the root loses no
/// page, so no page is flagged, but it is noted on the document so that
/// the OCR record shows it. Before, it ingested clean with no note.
#[test]
fn a_page_tree_that_loops_back_to_its_root_is_noted_without_flagging_a_page() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (_out, r) = try_ocr(&dir.path().join("kids-loop.pdf"), "application/pdf", &policy());
    let outcome = r.expect("OCR of a looping page tree");
    assert_eq!(outcome.pages.len(), 2, "{:?}", outcome.pages);
    assert_eq!(outcome.pages_needing_review().count(), 0, "{:?}", outcome.pages);
    assert_eq!(outcome.notes.len(), 1, "{:?}", outcome.notes);
    let note = &outcome.notes[0];
    assert!(note.contains("page tree lists node") && note.contains("loops back") && note.contains("2 pages"), "{note}");
}

/// Issue 13: an intermediate `/Pages` node that cannot be read (not a
/// dictionary, a `/Kids` that is not an array, a missing object) fails only
/// the page beneath it: pages 1, 2 and 4 are OCRed, and the document is
/// flagged, naming the broken node and the count that differs.
#[test]
fn a_broken_intermediate_pages_node_fails_only_the_pages_beneath_it() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    for name in ["node-not-dict.pdf", "node-kids-not-array.pdf", "node-missing.pdf"] {
        let (out, r) = try_ocr(&dir.path().join(name), "application/pdf", &policy());
        let outcome = r.unwrap_or_else(|e| panic!("{name}: a broken node failed the document: {e}"));
        assert_eq!(outcome.pages.len(), 3, "{name}: {:?}", outcome.pages);
        assert_eq!(outcome.pages_ocred, 3, "{name}");
        let text = text_of(out.path());
        for n in [1, 2, 4] {
            assert!(text.contains(&format!("Page {n} of the statement")), "{name}: page {n}: {text}");
        }
        assert!(!text.contains("Page 3 of the statement"), "{name}: page 3 is beneath the broken node");
        let reasons: Vec<&str> = outcome.pages_needing_review().filter_map(|p| p.reason.as_deref()).collect();
        assert!(reasons.iter().any(|r| r.contains("/Count 4") && r.contains("3 pages")), "{name}: {reasons:?}");
        let named = |r: &&str| r.contains("page tree node ") && r.contains(" 0 R (after page 2) cannot be read: ");
        assert!(reasons.iter().any(named), "{name}: {reasons:?}");
    }
}

/// Hostile: two intermediate nodes listing each other are each walked once.
#[test]
fn pages_nodes_that_loop_through_each_other_are_walked_once() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("node-loop.pdf"), "application/pdf", &policy());
    let outcome = r.expect("OCR of a page tree whose nodes loop");
    assert_eq!(outcome.pages.len(), 4, "{:?}", outcome.pages);
    let text = text_of(out.path());
    for n in 1..=4 {
        assert_eq!(text.matches(&format!("Page {n} of the statement")).count(), 1, "page {n}: {text}");
    }
}

/// Hostile: a `/Kids` of 10^6 references to missing objects after two
/// pages: the two pages are OCRed and one short note names a few nodes
/// and counts the rest.
#[test]
fn a_million_missing_kids_give_one_short_note() {
    let dir = tempfile::tempdir().unwrap();
    inputs(dir.path());
    let (out, r) = try_ocr(&dir.path().join("kids-million.pdf"), "application/pdf", &policy());
    let outcome = r.expect("the pages that exist are read");
    assert_eq!(outcome.pages.len(), 2, "{:?}", outcome.pages);
    assert!(text_of(out.path()).contains("Page 2 of the statement"));
    let reason = outcome.pages[1].reason.as_deref().unwrap_or_default();
    assert!(reason.contains("999996 more broken nodes") && reason.len() < 1000, "{reason}");
}
