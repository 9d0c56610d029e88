//! The `pdf` crate's errors for people: its chains name source files of the
//! crate (`Try at .../pdf-0.10.0/src/file.rs:175`) and span lines. A reason
//! in the ledger says what is wrong with the file, on one line; the full
//! chain goes to the debug log.

use pdf::error::PdfError;

use crate::error::one_line;

/// Longest reason kept from a parser message (lexemes come from the file).
const MAX_REASON: usize = 160;

/// What is wrong with the file, in one line without source paths.
pub fn describe(e: &PdfError) -> String {
    tracing::debug!(error = %e, "PDF parser error chain");
    one_line(&innermost(e), MAX_REASON)
}

/// The innermost cause, in words, walking past the crate's wrappers.
fn innermost(e: &PdfError) -> String {
    match e {
        PdfError::Try { source, .. } | PdfError::FromPrimitive { source, .. } => innermost(source),
        PdfError::Shared { source } => innermost(source),
        PdfError::Either { left_e, .. } => innermost(left_e),
        PdfError::EOF => "the file ends early (truncated?)".into(),
        PdfError::NotFound { word } if word == "startxref" => {
            "no cross-reference table ('startxref' not found): not a complete PDF".into()
        }
        PdfError::UnexpectedLexeme { pos, lexeme, expected } => {
            format!("damaged at byte {pos}: found '{lexeme}' where '{expected}' should be (truncated or edited?)")
        }
        PdfError::NoneError { .. } => "a required value is missing".into(),
        PdfError::UnknownType { pos, first_lexeme, .. } => {
            format!("expected an object at byte {pos}, found '{first_lexeme}'")
        }
        PdfError::Parse { source } | PdfError::Encoding { source } => source.to_string(),
        PdfError::Io { source } => source.to_string(),
        PdfError::Jpeg { source } => format!("JPEG: {source}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wrapped_chain_becomes_its_cause() {
        let inner = PdfError::UnexpectedLexeme { pos: 84, lexeme: "0009\n\x1b[2J".into(), expected: "endstream" };
        let e = PdfError::Try {
            file: "/root/.cargo/registry/src/pdf-0.10.0/src/parser/mod.rs",
            line: 109,
            column: 5,
            context: pdf::error::Context(vec![("r", "PlainRef".into())]),
            source: Box::new(PdfError::Shared { source: std::sync::Arc::new(inner) }),
        };
        let text = describe(&e);
        assert_eq!(
            text,
            "damaged at byte 84: found '0009 \\u{1b}[2J' where 'endstream' should be (truncated or edited?)"
        );
    }

    #[test]
    fn long_reasons_are_cut() {
        let text = one_line(&"x".repeat(1000), MAX_REASON);
        assert!(text.chars().count() <= MAX_REASON + 1);
    }
}
