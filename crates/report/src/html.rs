//! The report as one self-contained HTML page: no scripts (a CSP forbids
//! them, so even a missed escape could not run one), no external assets,
//! landmarks and table headers for screen readers, and print CSS for A4.
//! The case summary comes first; each exhibit follows, with its full
//! artefact table collapsed when it is long.

use std::fmt::Write as _;

use crate::escape::push_html;
use crate::html_exhibit::exhibit;
use crate::model::{IntegrityReport, Verdict};

const STYLE: &str = include_str!("style.css");

/// Tables longer than this start collapsed.
pub(crate) const OPEN_ROWS: usize = 200;

/// A growing page. `text` escapes, `raw` is for markup written here.
pub(crate) struct Page(pub String);

impl Page {
    pub fn raw(&mut self, s: &str) -> &mut Self {
        self.0.push_str(s);
        self
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        push_html(&mut self.0, s);
        self
    }

    pub fn num(&mut self, n: u64) -> &mut Self {
        let _ = write!(self.0, "{n}");
        self
    }

    /// `<tag>text</tag>`.
    pub fn el(&mut self, tag: &str, s: &str) -> &mut Self {
        self.raw("<").raw(tag).raw(">").text(s).raw("</").raw(tag.split(' ').next().unwrap_or(tag)).raw(">")
    }

    /// `<dt>term</dt><dd>value</dd>`.
    pub fn pair(&mut self, term: &str, value: &str) -> &mut Self {
        self.el("dt", term).el("dd", value)
    }

    /// A digest or ID, in monospace so it reads character by character.
    pub fn code(&mut self, s: &str) -> &mut Self {
        self.el("code", s)
    }

    /// Opens a collapsible block, open when it holds at most
    /// [`OPEN_ROWS`] rows.
    pub fn details(&mut self, summary: &str, rows: usize) -> &mut Self {
        self.raw(if rows <= OPEN_ROWS { "<details open>" } else { "<details>" }).el("summary", summary)
    }

    /// Opens a table in a focusable scrolling region, with a caption and
    /// column headers.
    pub fn table(&mut self, caption: &str, columns: &[&str]) -> &mut Self {
        self.raw("<div class=\"scroll\" tabindex=\"0\" role=\"region\" aria-label=\"")
            .text(caption)
            .raw("\"><table>")
            .el("caption", caption)
            .raw("<thead><tr>");
        for c in columns {
            self.el("th scope=\"col\"", c);
        }
        self.raw("</tr></thead><tbody>")
    }

    pub fn end_table(&mut self) -> &mut Self {
        self.raw("</tbody></table></div>")
    }
}

/// Renders the whole report as one HTML document.
pub fn render_report(report: &IntegrityReport) -> String {
    let case = report.verify.case.as_str();
    let mut p =
        Page(String::with_capacity(4096 + report.exhibits.iter().map(|e| e.artefacts.len()).sum::<usize>() * 700));
    p.raw("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .raw("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">")
        .raw("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
        .raw("<title>Integrity report: case ")
        .text(case)
        .raw("</title><style>")
        .raw(STYLE)
        .raw("</style></head><body>");
    p.raw("<header><h1>Integrity report: case ").text(case).raw("</h1><p>Written ").text(&report.generated_at);
    p.raw(" by ").text(&report.generated_by).raw(".</p></header>");
    contents(&mut p, report);
    p.raw("<main>");
    crate::html_summary::summary(&mut p, report);
    p.raw("<section id=\"exhibits\" aria-labelledby=\"exhibits-h\"><h2 id=\"exhibits-h\">Exhibits</h2>");
    crate::html_exhibit::overview(&mut p, report);
    for (n, e) in report.exhibits.iter().enumerate() {
        exhibit(&mut p, n, e);
    }
    p.raw("</section></main><footer><p>Every name, path and metadata value from the evidence is shown as recorded; ")
        .raw("characters that could hide or reorder text appear as <code>\\u{...}</code> escapes and a backslash as ")
        .raw("<code>\\\\</code>.</p></footer></body></html>\n");
    p.0
}

fn contents(p: &mut Page, report: &IntegrityReport) {
    p.raw("<nav aria-label=\"Contents\"><h2 id=\"contents-h\">Contents</h2><ul>");
    for (id, label) in [
        ("verdict", "Verdict"),
        ("ledger", "Ledger head"),
        ("signers", "Signers"),
        ("anchors", "Timestamp anchors"),
        ("problems", "Problems"),
        ("failures", "Recorded failures"),
        ("audits", "Fixity audits"),
        ("exhibits", "Exhibits"),
    ] {
        p.raw("<li><a href=\"#").raw(id).raw("\">").raw(label).raw("</a></li>");
    }
    p.raw("</ul></nav>");
    let _ = report;
}

/// The CSS class of a verdict.
pub(crate) fn verdict_class(v: Verdict) -> &'static str {
    match v {
        Verdict::Trusted => "ok",
        Verdict::IntactUnchecked => "warn",
        Verdict::Failed => "bad",
    }
}
