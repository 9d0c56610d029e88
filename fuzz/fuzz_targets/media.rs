//! Fuzzes the whole opening path: classify a medium, find its volumes, open
//! each file system, walk it and read every entry's content, as explore does.
#![no_main]

use std::io::Read;
use std::sync::Arc;

use exhibit_media::{BytesAt, Limits, ReadAt, classify, open_content, open_volumes};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let medium: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let _ = classify(medium.as_ref());
    let limits = Limits { max_alloc: 16 << 20, max_entries: 100_000, ..Limits::default() };
    let mut budget = (data.len() as u64).saturating_mul(4).max(1 << 20);
    for volume in open_volumes(medium, &limits).into_iter().flatten() {
        let fs = volume.fs;
        let _ = fs.walk(&limits, &mut |entry| {
            if entry.has_content() && budget > 0 {
                let mut reader = open_content(fs.volume(), &entry).take(entry.size.min(budget));
                let copied = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
                budget = budget.saturating_sub(copied.max(1));
            }
            Ok(())
        });
    }
});
