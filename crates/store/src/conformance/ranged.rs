//! Conformance checks of ranged gets and positional readers.

use std::sync::Arc;

use exhibit_core::digest::HashSelection;
use exhibit_core::read_at::read_exact_at;

use super::{body, key, scope};
use crate::{MAX_RANGE, ObjectStore, StoreErrorKind, open_read_at};

fn sample(len: usize) -> Vec<u8> {
    (0..len as u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect()
}

/// Ranged gets return exactly the bytes asked for, clipped at the end of
/// the object; a missing object is `NotFound`; an oversized range is
/// `TooLarge`; and the positional reader agrees with them everywhere.
pub async fn ranged_reads_match_the_object(store: Arc<dyn ObjectStore>) {
    let k = key(&format!("{}image.bin", scope("ranged")));
    let data = sample(3 * 1024 * 1024 + 7);
    store.put_new(&k, body(data.clone()), HashSelection::SHA256_ONLY).await.unwrap_or_else(|e| panic!("put {k}: {e}"));
    let size = data.len() as u64;
    for (offset, len) in [(0, 10), (4095, 8193), (size - 5, 5), (size - 5, 100), (size, 10), (size + 100, 10), (0, 0)] {
        let got =
            store.get_range(&k, offset, len).await.unwrap_or_else(|e| panic!("get_range {k} {offset}+{len}: {e}"));
        let start = (offset as usize).min(data.len());
        let end = (offset.saturating_add(len) as usize).min(data.len());
        assert!(got == data[start..end], "get_range {k} at {offset} for {len} returned the wrong bytes");
    }
    let err = store.get_range(&k, 0, MAX_RANGE + 1).await.expect_err("a range over MAX_RANGE must be refused");
    assert_eq!(err.kind(), StoreErrorKind::TooLarge, "oversized range: {err}");

    let at = open_read_at(&store, &k).await.unwrap_or_else(|e| panic!("open_read_at {k}: {e}"));
    tokio::task::spawn_blocking(move || {
        assert_eq!(at.size(), size, "positional reader size");
        let mut buf = vec![0u8; 70_001];
        read_exact_at(at.as_ref(), 1_000_003, &mut buf).unwrap_or_else(|e| panic!("read_at: {e}"));
        assert!(buf == data[1_000_003..1_070_004], "positional read returned the wrong bytes");
        assert_eq!(at.read_at(size, &mut buf).unwrap_or(1), 0, "a read at the end returns nothing");
        assert!(read_exact_at(at.as_ref(), size - 3, &mut buf).is_err(), "reading past the end must fail");
    })
    .await
    .unwrap_or_else(|e| panic!("positional checks: {e}"));

    let missing = key(&format!("{}missing", scope("ranged-missing")));
    let err = store.get_range(&missing, 0, 1).await.expect_err("ranged get of a missing object must fail");
    assert_eq!(err.kind(), StoreErrorKind::NotFound, "get_range {missing}: {err}");
    let err = open_read_at(&store, &missing).await.err().expect("opening a missing object must fail");
    assert_eq!(err.kind(), StoreErrorKind::NotFound, "open_read_at {missing}: {err}");
}
