//! Fuzzes the whole opening path: classify a medium, find its volumes, open
//! each file system, walk it, map every entry's content (sparse, missing and
//! outside ranges) and read it, zero-filling missing runs, as explore does.
#![no_main]

use std::io::Read;
use std::sync::Arc;

use exhibit_media::{BytesAt, Limits, ReadAt, classify, content_map, open_content, open_volumes};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let medium: Arc<dyn ReadAt> = Arc::new(BytesAt::new(data.to_vec()));
    let _ = classify(medium.as_ref());
    let limits = Limits { max_alloc: 16 << 20, max_entries: 100_000, ..Limits::default() };
    let mut budget = (data.len() as u64).saturating_mul(4).max(1 << 20);
    for volume in open_volumes(medium, &limits).into_iter().flatten() {
        let fs = volume.fs;
        let _ = fs.walk(&limits, &mut |entry| {
            let held = fs.volume().size();
            let map = content_map(&entry, entry.size, held, fs.declared_size().unwrap_or(held));
            if entry.has_content() && entry.damage.is_none() && budget > 0 {
                let Ok(map) = map else { return Ok(()) };
                let content = open_content(fs.volume(), &entry);
                let content = if map.missing.is_empty() { content } else { content.filling_missing() };
                let mut reader = content.take(entry.size.min(budget));
                let copied = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_or(0);
                budget = budget.saturating_sub(copied.max(1));
            }
            Ok(())
        });
    }
});
