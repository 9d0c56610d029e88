//! What to tell a person about a page the OCR worker flagged for review,
//! shared by the CLI's attention table and the dashboard's review list: a
//! page whose image is damaged (the worker's reason says "damaged"), or one
//! flagged for a broken node of the PDF's page tree (the pages beneath it
//! are lost), is not a page OCR was unsure of.

/// Advice for a page OCR was unsure of.
pub const REVIEW: &str = "OCR was unsure of this page: read the page image against its text";

/// Advice for a page whose image is damaged, or that follows a broken
/// node of the PDF's page tree.
pub const DAMAGED_PAGE: &str = "the page image or the PDF's page tree is damaged (why is in its OCR record): its text holds only what decoded, parts may be blank or garbled, and pages beneath a broken page-tree node are missing. Read the original, and look for a better copy or rescan it if there is one";

/// What to do about one flagged page, from the reason the OCR worker gave.
pub fn review_advice(reason: Option<&str>) -> &'static str {
    if is_damaged(reason) { DAMAGED_PAGE } else { REVIEW }
}

/// What to do about a document's flagged pages, given in one place: a
/// damaged page's advice when any of them is damaged.
pub fn document_review_advice<'a>(reasons: impl IntoIterator<Item = Option<&'a str>>) -> &'static str {
    if reasons.into_iter().any(is_damaged) { DAMAGED_PAGE } else { REVIEW }
}

/// The OCR output manifest's per-page results (`derivation.details.pages`):
/// the reasons of the pages flagged for review.
pub fn flagged_page_reasons(details: &serde_json::Map<String, serde_json::Value>) -> Vec<Option<&str>> {
    let Some(pages) = details.get("pages").and_then(|p| p.as_array()) else { return Vec::new() };
    let flagged = pages.iter().filter(|p| p.get("needs_review").and_then(|f| f.as_bool()) == Some(true));
    flagged.map(|p| p.get("reason").and_then(|r| r.as_str())).collect()
}

/// The OCR child's note on the page after a `/Pages` node it could not
/// read ("the PDF's page tree node 4 0 R (after page 2) cannot be read:
/// ..."): the document is damaged, whatever OCR made of the page itself.
const BROKEN_PAGE_TREE: &str = "the PDF's page tree node ";

fn is_damaged(reason: Option<&str>) -> bool {
    reason.is_some_and(|r| r.contains("damaged") || r.contains(BROKEN_PAGE_TREE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_page_gets_damage_advice_not_ocr_was_unsure() {
        let reason = "the page is damaged (TIFF page 2: ...); 1702 of 1754 rows decode; rows 53-104 are left white";
        assert_eq!(review_advice(Some(reason)), DAMAGED_PAGE);
        assert_eq!(review_advice(Some("mean confidence 41 is below 60")), REVIEW);
        assert_eq!(review_advice(None), REVIEW);
    }

    /// Attack pass of stop 27: the note of a broken `/Pages` node sits on a
    /// page whose own text may be fine or empty; it read "OCR was unsure".
    #[test]
    fn a_broken_page_tree_node_gets_damage_advice() {
        let reason = "no words found; the PDF's page tree node 5 0 R (after page 2) cannot be read: not a dictionary; the pages beneath are missing from the outputs";
        assert_eq!(review_advice(Some(reason)), DAMAGED_PAGE);
        assert_eq!(document_review_advice([Some("no words found"), Some(reason)]), DAMAGED_PAGE);
        let count_only = "the PDF's page tree says /Count 4 but holds 3 pages; all 3 were read: a viewer that trusts /Count shows 4 pages";
        assert_eq!(review_advice(Some(count_only)), REVIEW);
    }

    #[test]
    fn a_document_with_any_damaged_page_gets_damage_advice() {
        assert_eq!(document_review_advice([Some("no words found"), Some("the page is damaged (x)")]), DAMAGED_PAGE);
        assert_eq!(document_review_advice([Some("no words found"), None]), REVIEW);
        assert_eq!(document_review_advice([]), REVIEW);
    }

    #[test]
    fn flagged_reasons_are_read_from_the_pages_detail() {
        let details = serde_json::json!({"pages": [
            {"index": 0, "needs_review": false, "reason": null},
            {"index": 1, "needs_review": true, "reason": "the page is damaged (x)"},
            {"index": 2, "needs_review": true},
        ]});
        let details = details.as_object().unwrap();
        assert_eq!(flagged_page_reasons(details), [Some("the page is damaged (x)"), None]);
        assert!(flagged_page_reasons(&serde_json::Map::new()).is_empty());
    }
}
