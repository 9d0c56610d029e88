//! The `ntfs` crate (trusted on well-formed volumes) as an independent
//! oracle: the root directory of the fixture lists the same names.

use std::collections::BTreeSet;

use exhibit_media_core::{Limits, ReadSeekAt};
use ntfs::Ntfs;
use ntfs::structured_values::NtfsFileNamespace;

use crate::common::{collect, fixture_volume};

#[test]
fn root_listing_matches_the_ntfs_crate() {
    let volume = fixture_volume();
    let mut cursor = ReadSeekAt::new(volume.clone());
    let mut ntfs = Ntfs::new(&mut cursor).unwrap();
    ntfs.read_upcase_table(&mut cursor).unwrap();
    let root = ntfs.root_directory(&mut cursor).unwrap();
    let index = root.directory_index(&mut cursor).unwrap();
    let mut iter = index.entries();
    let mut theirs = BTreeSet::new();
    while let Some(entry) = iter.next(&mut cursor) {
        let entry = entry.unwrap();
        let name = entry.key().unwrap().unwrap();
        if name.namespace() != NtfsFileNamespace::Dos && name.name() != "." {
            theirs.insert(name.name().to_string_lossy().into_bytes());
        }
    }
    let limits = Limits::default();
    let fs = exhibit_media_ntfs::open(volume, &limits).unwrap();
    let (entries, _) = collect(&*fs, &limits);
    let ours: BTreeSet<Vec<u8>> = entries
        .iter()
        .filter(|e| e.allocated && e.path.depth() == 1 && e.stream.is_none() && !e.attributes.contains_key("virtual"))
        .map(|e| e.path.0[0].clone())
        .collect();
    assert_eq!(ours, theirs);
}
