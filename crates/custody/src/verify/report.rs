//! The text form of a verify report: the verdict line, the problems, the
//! signers, the receipt checked and the head to keep, and the warning when
//! no trusted keys were given.

use std::fmt;

use super::{Problem, VerifyReport};

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = format!(
            "{}, {}, {}",
            count(self.entries, "entry", "entries"),
            count(self.artefacts, "artefact", "artefacts"),
            count(self.objects, "object", "objects")
        );
        match (self.is_clean(), &self.trusted_keys) {
            (true, Some(file)) => write!(f, "OK: {counts} intact, every signer trusted by {file}")?,
            (true, None) => write!(f, "INTACT, SIGNERS NOT CHECKED: {counts} intact")?,
            (false, _) => {
                let n = self.problems.len();
                write!(
                    f,
                    "FAILED: case {}: {n} problem{} ({counts} checked)",
                    self.case,
                    if n == 1 { "" } else { "s" }
                )?;
                for p in &self.problems {
                    // A problem can quote stored text (a planted file's
                    // name, a reason): it stays on its own one line.
                    write!(f, "\n  {}", one_line(&p.to_string()))?;
                }
            }
        }
        for s in &self.signers {
            let by = s.principals.as_deref().map(|p| format!(" = {p}")).unwrap_or_default();
            let entries = count(s.entries, "entry", "entries");
            write!(f, "\nsigner: {}{by} ({entries} from entry {})", s.fingerprint, s.first_seq)?;
        }
        if let Some(expected) = &self.expected_head {
            let held = !self
                .problems
                .iter()
                .any(|p| matches!(p, Problem::ReceiptMismatch { .. } | Problem::ReceiptBeyondHead { .. }));
            write!(f, "\nreceipt: {expected}: {}", if held { "held by the chain" } else { "NOT held by the chain" })?;
        }
        self.anchors.write_line(f)?;
        if let Some(head) = &self.head {
            write!(f, "\nhead: {head}")?;
        }
        if !self.signers_checked {
            write!(
                f,
                "\nwarning: signers were not checked: anyone who can write the store can re-sign a case with a key of their own; pass --trusted-keys FILE (the organisation's allowed_signers) or set [verify] trusted_keys"
            )?;
        }
        Ok(())
    }
}

/// `text` with its line ends shown as `\n` and `\r`, so a name cannot
/// forge a line of the report; a terminal escapes the rest.
fn one_line(text: &str) -> String {
    text.replace('\r', "\\r").replace('\n', "\\n")
}

/// `1 entry`, `2 entries`.
fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_quoting_a_line_break_stays_one_line() {
        let planted = Problem::UnexpectedFile { key: "cases/C/x\r\nOK: every page verified".into() };
        let line = one_line(&planted.to_string());
        assert_eq!(line, "file cases/C/x\\r\\nOK: every page verified: unexpected (exhibit never writes it there)");
    }
}
