//! The case summary at the top of the report: verdict, ledger head,
//! signers and their trust, anchors, problems, failures, notes, audits.

use exhibit_custody::Problem;

use crate::html::{Page, verdict_class};
use crate::model::IntegrityReport;

pub(crate) fn summary(p: &mut Page, r: &IntegrityReport) {
    verdict(p, r);
    ledger(p, r);
    signers(p, r);
    anchors(p, r);
    problems(p, r);
    failures(p, r);
    notes(p, r);
    audits(p, r);
}

fn open(p: &mut Page, id: &str, heading: &str) {
    p.raw("<section id=\"").raw(id).raw("\" aria-labelledby=\"").raw(id).raw("-h\"><h2 id=\"").raw(id).raw("-h\">");
    p.text(heading).raw("</h2>");
}

fn verdict(p: &mut Page, r: &IntegrityReport) {
    open(p, "verdict", "Verdict");
    let v = &r.verify;
    p.raw("<p id=\"verdict-text\" class=\"verdict ").raw(verdict_class(r.verdict)).raw("\"><strong>");
    p.text(r.verdict.headline()).raw("</strong></p><dl class=\"facts\">");
    p.pair("Case", v.case.as_str());
    p.pair("Ledger entries", &v.entries.to_string());
    p.pair("Artefacts", &v.artefacts.to_string());
    p.pair("Content objects (re-hashed)", &v.objects.to_string());
    p.pair("Problems", &v.problems.len().to_string());
    p.pair("Recorded failures", &r.failures.len().to_string());
    p.raw("</dl></section>");
}

fn ledger(p: &mut Page, r: &IntegrityReport) {
    open(p, "ledger", "Ledger head");
    match &r.verify.head {
        Some(h) => {
            p.raw("<p>The chain ends at entry <strong>").num(h.seq).raw("</strong>, whose signed body has SHA-256 ");
            p.code(&h.sha256.to_hex()).raw(". Keep this receipt: a later <code>exhibit verify --expect-head ");
            p.text(&format!("{}:{}", h.seq, h.sha256)).raw("</code> fails if the ledger is rewritten or cut back.</p>");
        }
        None => {
            p.raw("<p>The ledger has no intact entry.</p>");
        }
    }
    if let Some(expected) = &r.verify.expected_head {
        let held = !r
            .verify
            .problems
            .iter()
            .any(|p| matches!(p, Problem::ReceiptMismatch { .. } | Problem::ReceiptBeyondHead { .. }));
        p.raw("<p>Receipt checked: ").code(&expected.to_string());
        p.raw(if held { " is held by the chain.</p>" } else { " is <strong>NOT</strong> held by the chain.</p>" });
    }
    p.raw("</section>");
}

fn signers(p: &mut Page, r: &IntegrityReport) {
    open(p, "signers", "Signers and their trust");
    let v = &r.verify;
    match &v.trusted_keys {
        Some(file) => p.raw("<p>Checked against the trusted keys in ").code(file).raw(".</p>"),
        None => p.raw(
            "<p class=\"warn\"><strong>Signers were not checked:</strong> no trusted keys (the organisation's \
             allowed_signers) were given, so anyone who can write the store could have re-signed this case.</p>",
        ),
    };
    p.table("Keys that signed ledger entries", &["Fingerprint", "Principals", "Entries", "First entry", "Trust"]);
    for s in &v.signers {
        let untrusted = v
            .problems
            .iter()
            .any(|pr| matches!(pr, Problem::UntrustedKey { fingerprint, .. } if *fingerprint == s.fingerprint));
        let trust = match (v.signers_checked, untrusted, &s.principals) {
            (false, ..) => "not checked",
            (true, true, _) => "NOT trusted",
            (true, false, Some(_)) => "trusted (pinned)",
            (true, false, None) => "trusted (introduced by a trusted key)",
        };
        p.raw("<tr><td>").code(&s.fingerprint).raw("</td>");
        p.el("td", s.principals.as_deref().unwrap_or("-")).el("td", &s.entries.to_string());
        p.el("td", &s.first_seq.to_string()).el("td", trust).raw("</tr>");
    }
    p.end_table().raw("</section>");
}

fn anchors(p: &mut Page, r: &IntegrityReport) {
    open(p, "anchors", "Timestamp anchors (RFC 3161)");
    let a = &r.verify.anchors;
    p.raw("<dl class=\"facts\">").pair("Anchors found", &a.found.to_string());
    let against = match (&a.checked_against, a.found) {
        (Some(ca), _) => ca.as_str(),
        (None, 0) => "no TSA CA configured (no anchors to check)",
        (None, _) => "nothing: no TSA CA configured, so the anchors were NOT checked",
    };
    p.pair("Checked against", against);
    let latest = a.latest.map_or_else(|| "none".to_owned(), |s| format!("entry {s}"));
    p.pair("Latest valid anchor vouches for", &latest);
    if let Some(at) = a.latest_time {
        p.pair("Timestamped at", &crate::events::rfc3339(at));
    }
    if let (Some(from), Some(to)) = (a.unanchored_from, a.unanchored_to) {
        p.pair("Not yet anchored", &format!("entries {from} to {to}"));
    }
    p.raw("</dl></section>");
}

fn problems(p: &mut Page, r: &IntegrityReport) {
    let n = r.verify.problems.len();
    open(p, "problems", &format!("Problems ({n})"));
    if n == 0 {
        p.raw("<p>None: every entry, link, signature, object and manifest checks out.</p>");
    } else {
        p.details(&format!("{n} {}, ledger problems first", if n == 1 { "problem" } else { "problems" }), n)
            .raw("<ol class=\"problems\">");
        for problem in &r.verify.problems {
            p.el("li", &problem.to_string());
        }
        p.raw("</ol></details>");
    }
    p.raw("</section>");
}

fn failures(p: &mut Page, r: &IntegrityReport) {
    let n = r.failures.len();
    open(p, "failures", &format!("Recorded failures ({n})"));
    if n == 0 {
        p.raw("<p>The ledger records no failed step.</p></section>");
        return;
    }
    p.details(&format!("{n} failed {}, as the ledger records them", if n == 1 { "step" } else { "steps" }), n);
    p.table("Failed steps", &["Entry", "When (UTC)", "Exhibit", "What failed and why"]);
    for f in &r.failures {
        p.raw("<tr>").el("td", &f.seq.to_string()).el("td", &f.at);
        p.el("td", f.exhibit.as_ref().map_or("-", |e| e.as_str())).el("td", &f.reason).raw("</tr>");
    }
    p.end_table().raw("</details></section>");
}

fn notes(p: &mut Page, r: &IntegrityReport) {
    if r.notes.is_empty() {
        return;
    }
    open(p, "notes", &format!("Notes for a person ({})", r.notes.len()));
    p.raw("<ul>");
    for note in &r.notes {
        p.el("li", note.get("text").and_then(|t| t.as_str()).unwrap_or_default());
    }
    p.raw("</ul></section>");
}

fn audits(p: &mut Page, r: &IntegrityReport) {
    open(p, "audits", "Fixity audits");
    let a = &r.audits;
    match &a.latest {
        None => p.raw("<p>No fixity audit is recorded. Run <code>exhibit audit</code> to re-hash stored objects.</p>"),
        Some(latest) => {
            p.raw("<p>").num(a.entries).raw(" audit entries; the latest was recorded ").text(latest).raw(".</p>")
        }
    };
    if !a.failed_objects.is_empty() {
        p.raw("<p class=\"bad\"><strong>Objects whose latest audit failed:</strong></p><ul>");
        for o in &a.failed_objects {
            p.raw("<li>").code(o).raw("</li>");
        }
        p.raw("</ul>");
    }
    p.raw("</section>");
}
