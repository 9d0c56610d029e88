//! Building the report: lineage, trusted and altered manifests, checks,
//! reproductions, failures, escaping in the rendered page.

use exhibit_report::{ManifestState, Verdict, build_report, render_report};

use crate::fixture::{self, HOSTILE};

#[test]
fn report_carries_acquisition_checks_lineage_review_and_reproduction() {
    let case = fixture::case(0);
    let report = build_report(fixture::verify_report(&case), Vec::new(), &case.entries, case.manifests.clone());
    assert_eq!(report.verdict, Verdict::Failed);
    assert_eq!(report.exhibits.len(), 1);
    let js1 = &report.exhibits[0];
    assert_eq!(js1.exhibit.as_str(), "JS/1");
    let acq = &js1.acquisitions[0];
    assert_eq!((acq.operator.as_str(), acq.source.as_str()), ("Jane <b>Smith</b>", "/dev/sdb <script>"));
    assert_eq!(acq.bad_ranges, vec![[4096, 512]]);
    assert_eq!(js1.image_checks[0].md5_matches, Some(true));
    assert_eq!(js1.image_checks[0].segments, vec!["image.E01", "image.E02"]);
    assert_eq!(js1.review[0].pages, vec![1, 3], "pages are shown from 1");
    let d = &js1.derivatives[0];
    assert_eq!(d.artefact, case.derivative);
    assert!(d.reproduced.as_ref().is_some_and(|r| r.matched));
    let row = |id| js1.artefacts.iter().find(|r| &r.id == id).unwrap();
    assert_eq!(row(&case.derivative).lineage, vec![case.image.clone(), case.hostile[0].clone()]);
    assert_eq!(row(&case.image).puid.as_deref(), Some("fmt/1105"));
    assert_eq!(row(&case.hostile[3]).name, "/Users/nul\u{0}inside");
    let altered = row(&case.altered);
    assert_eq!(altered.manifest, ManifestState::Altered);
    assert!(altered.kind.is_none() && altered.name.is_empty(), "an altered manifest's contents are not used");
    assert_eq!(js1.counts.unverified_manifests, 1);
    assert_eq!(report.failures.len(), 1);
}

#[test]
fn json_keeps_the_verify_fields_at_the_top_level() {
    let case = fixture::case(0);
    let report = build_report(fixture::verify_report(&case), Vec::new(), &case.entries, case.manifests.clone());
    let value = serde_json::to_value(&report).unwrap();
    for key in ["case", "entries", "problems", "head", "signers", "signers_checked", "anchors", "exhibits", "verdict"] {
        assert!(value.get(key).is_some(), "{key} missing from {value}");
    }
    let back: exhibit_report::IntegrityReport = serde_json::from_value(value).unwrap();
    assert_eq!(back, report);
}

#[test]
fn hostile_names_render_as_inert_visible_text() {
    let case = fixture::case(0);
    let report = build_report(fixture::verify_report(&case), Vec::new(), &case.entries, case.manifests.clone());
    let html = render_report(&report);
    assert!(!html.contains("<script"), "no script element, from evidence or otherwise");
    assert!(!html.contains("<img"));
    assert!(!html.contains("<b>"));
    for bad in ['\u{0}', '\u{fffe}', '\u{ffff}', '\u{202e}'] {
        assert!(!html.contains(bad), "{:?} must be escaped", bad);
    }
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;.txt"));
    assert!(html.contains("bad\\u{fffe}name\\u{ffff}.doc"));
    assert!(html.contains("invoice\\u{202e}fdp.exe"));
    assert!(html.contains("nul\\u{0000}inside"));
    assert_eq!(HOSTILE.len(), case.hostile.len());
}

#[test]
fn large_exhibits_are_collapsed_and_small_ones_open() {
    let case = fixture::case(1_000);
    let report = build_report(fixture::verify_report(&case), Vec::new(), &case.entries, case.manifests.clone());
    let html = render_report(&report);
    assert!(html.contains("<details><summary>All 1000 artefacts"));
    assert!(html.contains("<details open><summary>All 8 artefacts"));
}
