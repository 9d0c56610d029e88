//! Corpus expectations for ext. The corpus holds its ext2 volume only inside
//! an EWF container (`dfvfs/ext2.E01`), which another crate decodes; the
//! [T] expectations are asserted here on `fixtures/volumes/ext2.img`, whose
//! tree mirrors it, and the E01 path is checked for presence only.

use exhibit_media_core::Limits;

use crate::common::{content, fixture, slash_path, volume, walk};

const PASSWORDS: &[u8] = b"place,user,password\nbank,joesmith,superrich\nalarm system,-,1234\n\
treasure chest,-,1111\nuber secret laire,admin,admin\n";

#[test]
fn dfvfs_ext2_expectations_hold_on_the_mirror_fixture() {
    let vol = volume(fixture("ext2.img"));
    let fs = exhibit_media_ext::open(vol.clone(), &Limits::default()).unwrap();
    let (entries, result) = walk(&*fs);
    result.unwrap();
    let get = |p: &[u8]| entries.iter().find(|e| slash_path(e) == p).unwrap();
    let pw = get(b"passwords.txt");
    assert_eq!((pw.size, content(vol.clone(), pw, 4096).unwrap().as_slice()), (116, PASSWORDS));
    assert_eq!(get(b"a_directory/another_file").size, 22);
}

#[test]
fn corpus_ext2_container_is_present() {
    let Some(dir) = exhibit_testkit::corpus_dir() else { return };
    assert!(dir.join("dfvfs/ext2.E01").is_file(), "dfvfs/ext2.E01 missing from the corpus");
    println!("dfvfs/ext2.E01 needs the EWF reader: wired by the lead (E01 + ext)");
}
