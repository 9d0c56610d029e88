//! `exhibit-ocr INPUT OUT_DIR [MEDIA_TYPE] [POLICY_JSON]`: OCRs one document
//! the way the worker does and prints the outcome as JSON (for benchmarks and
//! manual checks; the pipeline calls `exhibit_ocr::ocr_document`).

use std::path::Path;

use exhibit_ocr::{OcrPolicy, ocr_document};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args.len() > 4 {
        eprintln!("usage: exhibit-ocr INPUT OUT_DIR [MEDIA_TYPE] [POLICY_JSON]");
        std::process::exit(64);
    }
    let media_type = args.get(2).map_or("application/octet-stream", String::as_str);
    let policy: OcrPolicy = match args.get(3).map(|j| serde_json::from_str(j)) {
        None => OcrPolicy::default(),
        Some(Ok(p)) => p,
        Some(Err(e)) => {
            eprintln!("exhibit-ocr: bad policy: {e}");
            std::process::exit(64);
        }
    };
    match ocr_document(Path::new(&args[0]), media_type, &policy, Path::new(&args[1])) {
        Ok(outcome) => println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default()),
        Err(e) => {
            eprintln!("exhibit-ocr: {e}");
            std::process::exit(1);
        }
    }
}
