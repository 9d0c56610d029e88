//! One manifest gives an exhibit one set of item metadata. Several rows
//! may name one exhibit (one row per file); the first accepted row to give
//! an item column (`description`, `pages`...) registers its value for the
//! exhibit, and a later row that gives the same column another value is
//! rejected, naming both lines, rather than silently replacing it (the
//! ledger would have kept only the last row's words). Rows that repeat the
//! value, or leave the cell empty, go ahead.

use std::collections::HashMap;

use exhibit_app::item_manifest::ManifestRow;

/// What earlier accepted rows of one manifest gave each exhibit, by
/// normalised exhibit and column: the cell and the row's place.
#[derive(Debug, Default)]
pub(crate) struct RowItems(HashMap<String, HashMap<&'static str, (String, String)>>);

impl RowItems {
    /// Why `row` conflicts with an earlier row of its exhibit, if it does.
    pub(crate) fn conflict(&self, row: &ManifestRow) -> Option<String> {
        let given = self.0.get(&row.exhibit.normalised())?;
        row.item_cells.iter().find_map(|(column, cell)| {
            let (first, place) = given.get(column)?;
            (cell_value(column, first) != cell_value(column, cell)).then(|| {
                format!(
                    "exhibit {} has {column} {first:?} from {place}, and this row gives {cell:?}: one manifest gives an exhibit one {column}; repeat it or leave the cell empty",
                    row.exhibit
                )
            })
        })
    }

    /// Registers the item cells of the accepted `row` that its exhibit has
    /// no value for yet.
    pub(crate) fn register(&mut self, row: &ManifestRow) {
        let given = self.0.entry(row.exhibit.normalised()).or_default();
        for (column, cell) in &row.item_cells {
            given.entry(*column).or_insert_with(|| (cell.clone(), row.place.clone()));
        }
    }
}

/// A cell as compared: the value it gives, not its spelling. A page count
/// as a number (`03` is `3`), the OCR switch as on or off (`yes` is
/// `true`), a seizure time as its instant (`+00:00` is `Z`); any other
/// cell, or one that does not parse (the row is refused for it anyway),
/// as its text without surrounding spaces.
#[derive(Debug, PartialEq, Eq)]
enum CellValue<'a> {
    Pages(u32),
    Switch(bool),
    Instant(time::OffsetDateTime),
    Text(&'a str),
}

fn cell_value<'a>(column: &str, cell: &'a str) -> CellValue<'a> {
    use exhibit_core::item;
    let parsed = match column {
        "pages" => item::page_count(cell).ok().flatten().map(CellValue::Pages),
        "ocr" => item::ocr_switch(cell).ok().flatten().map(CellValue::Switch),
        "seized_at" => time::OffsetDateTime::parse(cell.trim(), &time::format_description::well_known::Rfc3339)
            .ok()
            .map(CellValue::Instant),
        _ => None,
    };
    parsed.unwrap_or(CellValue::Text(cell.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(place: &str, exhibit: &str, cells: &[(&'static str, &str)]) -> ManifestRow {
        ManifestRow {
            place: place.into(),
            exhibit: exhibit.parse().unwrap(),
            case: None,
            sources: HashMap::new(),
            item: Default::default(),
            cleared: Vec::new(),
            item_cells: cells.iter().map(|(c, v)| (*c, (*v).to_owned())).collect(),
        }
    }

    #[test]
    fn a_later_row_giving_another_value_conflicts_naming_the_first_line() {
        let mut items = RowItems::default();
        items.register(&row("line 2", "JS/1", &[("description", "Blue laptop")]));
        assert_eq!(items.conflict(&row("line 3", "js/1", &[("description", "Blue laptop ")])), None);
        assert_eq!(items.conflict(&row("line 3", "JS/1", &[])), None, "an empty cell agrees");
        assert_eq!(items.conflict(&row("line 3", "JS/2", &[("description", "Phone")])), None, "another exhibit");
        assert_eq!(items.conflict(&row("line 3", "JS/1", &[("pages", "3")])), None, "a column not given yet");
        let why = items.conflict(&row("line 4", "JS/1", &[("description", "Red phone")])).unwrap();
        assert!(why.contains("line 2") && why.contains("Blue laptop") && why.contains("Red phone"), "{why}");
    }

    #[test]
    fn the_same_value_in_another_spelling_agrees() {
        let mut items = RowItems::default();
        let first = [("pages", "3"), ("ocr", "yes"), ("seized_at", "2024-03-01T14:30:00Z")];
        items.register(&row("line 2", "JS/1", &first));
        let same = [("pages", "03"), ("ocr", "true"), ("seized_at", "2024-03-01T15:30:00+01:00")];
        assert_eq!(items.conflict(&row("line 3", "JS/1", &same)), None);
        assert!(items.conflict(&row("line 4", "JS/1", &[("pages", "4")])).is_some());
        assert!(items.conflict(&row("line 4", "JS/1", &[("ocr", "off")])).is_some());
        let why = items.conflict(&row("line 5", "JS/1", &[("seized_at", "2024-03-01T14:30:00+01:00")])).unwrap();
        assert!(why.contains("line 2"), "{why}");
    }
}
