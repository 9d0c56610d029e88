//! The [T] expectations of the shared corpus for NTFS (ntfs-rs/testfs1).

use std::path::PathBuf;
use std::sync::Arc;

use exhibit_media_core::{DataLayout, FileAt, Limits, ReadAt};

use crate::common::{collect, content, find};

fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

#[test]
fn testfs1_meets_its_expectations() {
    let Some(dir) = corpus() else { return };
    let volume: Arc<dyn ReadAt> = Arc::new(FileAt::open(&dir.join("ntfs-rs/testfs1")).unwrap());
    let limits = Limits::default();
    let fs = exhibit_media_ntfs::open(volume, &limits).unwrap();
    assert_eq!(fs.kind(), "ntfs");
    assert_eq!(fs.label().as_deref(), Some("mylabel"));
    let (entries, end) = collect(&*fs, &limits);
    end.unwrap();

    let small = find(&entries, "file-with-12345");
    assert!(matches!(small.data, DataLayout::Inline(_)), "file-with-12345 is resident");
    assert_eq!(content(&*fs, small).unwrap(), b"12345");

    let thousand = find(&entries, "1000-bytes-file");
    assert!(matches!(thousand.data, DataLayout::Extents(_)), "1000-bytes-file is non-resident");
    assert_eq!(content(&*fs, thousand).unwrap().len(), 1000);

    let sparse = find(&entries, "sparse-file");
    assert_eq!(sparse.size, 500_005);
    let DataLayout::Extents(extents) = &sparse.data else { panic!("sparse-file has no extents") };
    let kinds: Vec<bool> = extents.iter().map(|e| e.volume_offset.is_some()).collect();
    assert_eq!(kinds, [true, false, true], "data, sparse, data: {extents:?}");
    let data = content(&*fs, sparse).unwrap();
    assert_eq!(data.len(), 500_005);
    assert_eq!(&data[..5], b"12345");
    assert_eq!(&data[data.len() - 5..], b"11111");

    let subdirs: Vec<&[u8]> = entries
        .iter()
        .filter(|e| e.path.depth() == 2 && e.path.0[0] == b"many_subdirs")
        .map(|e| e.path.0[1].as_slice())
        .collect();
    assert_eq!(subdirs.len(), 512);
    for i in 1..=512 {
        assert!(subdirs.contains(&i.to_string().as_bytes()), "many_subdirs/{i}");
    }
    let empty = find(&entries, "empty-file");
    assert_eq!(empty.size, 0);
    assert_eq!(content(&*fs, empty).unwrap(), b"");
}
