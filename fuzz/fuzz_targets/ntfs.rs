//! Fuzzes the ntfs reader: open, walk, and read every entry's content.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    exhibit_media_ntfs::fuzz_one(data);
});
