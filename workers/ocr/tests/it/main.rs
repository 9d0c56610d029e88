//! Integration tests of exhibit-ocr: one binary, modules per concern.

mod bad_input;
mod common;
mod corpus;
mod damaged_images;
mod fixtures;
mod memory_limit;
mod mixed_pdf;
mod page_faults;
mod page_tree;
mod pdfa;
mod text_layer;
mod tools;
mod vector_pages;
