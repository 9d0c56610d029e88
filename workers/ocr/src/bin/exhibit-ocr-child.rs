//! The isolated OCR process: see `exhibit_ocr::child`. Not meant to be run by hand.

fn main() {
    std::process::exit(exhibit_ocr::child::main());
}
