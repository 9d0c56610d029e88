//! `exhibit-ocr INPUT OUT_DIR [MEDIA_TYPE] [POLICY_JSON]`: OCRs one document
//! the way the worker does (searchable PDF as PDF/A-2b, titled with the input's
//! name and dated now) and prints the outcome as JSON (for benchmarks and
//! manual checks; the pipeline calls `exhibit_ocr::ocr_to_pdfa`).

use std::path::Path;

use exhibit_ocr::{DocumentInfo, OcrPolicy, ocr_to_pdfa};

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
    let info = DocumentInfo { title: args[0].clone(), created: time::OffsetDateTime::now_utc() };
    match ocr_to_pdfa(Path::new(&args[0]), media_type, &policy, Path::new(&args[1]), &info) {
        Ok(outcome) => println!("{}", serde_json::to_string_pretty(&outcome).unwrap_or_default()),
        Err(e) => {
            eprintln!("exhibit-ocr: {e}");
            std::process::exit(1);
        }
    }
}
