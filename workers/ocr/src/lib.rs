//! The OCR worker of exhibit: turns scanned pages (TIFF, PNG, JPEG, scanned
//! PDF) into UTF-8 text, hOCR and a searchable PDF, with a mean confidence,
//! a word count and a review flag for every page.
//!
//! Leptonica and Tesseract decode hostile input, so each document is OCRed in
//! a child process (`exhibit-ocr-child`) under a timeout and rlimits: a crash,
//! hang or runaway allocation there fails that document with an [`OcrError`],
//! never the worker.
//!
//! ```no_run
//! use exhibit_ocr::{OcrPolicy, ocr_document};
//! let outcome = ocr_document(
//!     "scan.tif".as_ref(),
//!     "image/tiff",
//!     &OcrPolicy::default(),
//!     "out".as_ref(),
//! )?;
//! for page in &outcome.pages {
//!     println!("page {}: {} words, confidence {}", page.index, page.word_count, page.mean_confidence);
//! }
//! # Ok::<(), exhibit_ocr::OcrError>(())
//! ```

mod accuracy;
mod bundle_pdf;
mod bundle_plan;
mod bundle_stage;
#[doc(hidden)]
pub mod child;
mod error;
mod image_size;
mod memory_cap;
mod outcome;
mod pdfa;
mod photo;
mod policy;
mod runner;
mod selection;
mod stage;
mod tiff_bytes;

pub use accuracy::{char_accuracy, levenshtein, normalise_whitespace};
pub use bundle_plan::{
    BUNDLE_LANE, BUNDLE_RULE, BundleFacts, BundleInput, BundlePage, FLAG_INCOMPLETE, MissingPage, PARAM_BUNDLE,
    bundle_job, natural_cmp,
};
pub use bundle_stage::{OcrBundleStage, bundle_pdf, bundle_title};
pub use error::{OcrError, OcrErrorKind};
pub use outcome::{HOCR_FILE, OcrOutcome, PDF_FILE, PageResult, TEXT_FILE, reconcile};
pub use pdfa::{DocumentInfo, convert_file as make_pdfa_file, make_pdfa};
pub use photo::is_camera_photo;
pub use policy::OcrPolicy;
pub use runner::{CHILD_ENV, count_pages, ocr_document};
pub use stage::{
    DETAIL_PDF_CREATED, DETAIL_PDF_TITLE, FLAG_NEEDS_REVIEW, OcrStage, PARAM_NOT_OCRED, ocr_to_pdfa, output_file,
    pdf_title,
};
