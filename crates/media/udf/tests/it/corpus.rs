//! The shared corpus: `libcdio/udf102.iso` [T].

use std::path::PathBuf;

use exhibit_media_core::{EntryKind, Limits};

use crate::{entries, open_bytes};

fn corpus() -> Option<PathBuf> {
    exhibit_testkit::corpus_dir()
}

#[test]
fn libcdio_udf102_label_and_root_file() {
    let Some(dir) = corpus() else { return };
    let bytes = std::fs::read(dir.join("libcdio/udf102.iso")).expect("read udf102.iso");
    let limits = Limits::default();
    let (volume, fs) = open_bytes(bytes, &limits).expect("open");
    assert_eq!(fs.kind(), "udf");
    assert_eq!(fs.label().as_deref(), Some("FéжΘvrier"));
    let all = entries(&*fs, &limits).expect("walk");
    let file = all.iter().find(|e| e.path.0 == vec![b"F\xc3\xa9\xd0\xb6\xce\x98vrier".to_vec()]).expect("root file");
    assert_eq!(file.kind, EntryKind::File);
    assert_eq!(file.size, 10);
    assert!(file.allocated);
    let mut content = Vec::new();
    std::io::Read::read_to_end(&mut exhibit_media_core::open_content(volume, file), &mut content).expect("content");
    assert_eq!(content.len(), 10);
}
