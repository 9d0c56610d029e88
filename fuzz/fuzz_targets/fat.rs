//! Fuzzes the fat reader: open, walk, and read every entry's content.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    exhibit_media_fat::fuzz_one(data);
});
