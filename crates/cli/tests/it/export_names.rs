//! Files found inside an image get bag paths every file system takes, and
//! the bag's path map gives their names back exactly.

use std::process::Command;

use crate::common::stderr;
use crate::export::{Exported, python_tool, stdout};

/// Names a file system inside an image may hold that no single file system
/// of the recipient takes as they are.
const IMAGE_NAMES: [&[u8]; 12] = [
    b"CON",
    b"aux.txt",
    b"Report.txt",
    b"report.TXT",
    b"trailing. ",
    b"a:b|c?d*e<f>g\"h\\i",
    b"100%=x",
    b"bom\xef\xbf\xbe and \xef\xbf\xbf",
    b"line\nbreak",
    b"\xe2\x80\xaegpj.exe",
    b"bad \xff\xfe utf8",
    b"...",
];

#[test]
fn files_inside_an_image_get_safe_bag_paths_and_the_map_gives_back_their_names() {
    use std::os::unix::ffi::OsStrExt;
    let e = Exported::new();
    let src = e.sb.dir.path().join("names");
    let deep = src.join((0..30).map(|i| format!("folder-{i:02}")).collect::<Vec<_>>().join("/"));
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("deep.txt"), "deep").unwrap();
    let long = vec![b'L'; 250];
    for name in IMAGE_NAMES.iter().copied().chain([long.as_slice()]) {
        std::fs::write(src.join(std::ffi::OsStr::from_bytes(name)), name).unwrap();
    }
    let image = e.sb.dir.path().join("names.ext4");
    let mkfs = Command::new("mkfs.ext4").arg("-q").arg("-d").arg(&src).arg(&image).arg("4M").output().unwrap();
    assert!(mkfs.status.success(), "{}", stderr(&mkfs));
    let bag = e.bag_of(&image);
    let out = Command::new(python_tool("bagit.py")).arg("--validate").arg(&bag).output().unwrap();
    assert!(out.status.success(), "bagit.py: {}", stderr(&out));
    let out = e.verify_sh(&bag);
    assert_eq!(out.status.code(), Some(0), "verify.sh: {}", stdout(&out));

    // Every name comes back exactly from the path map, and every bag path
    // is short, inside data/, and free of characters some system refuses.
    let map = std::fs::read_to_string(bag.join("exhibit/path-map.tsv")).unwrap();
    let mut originals = std::collections::BTreeSet::new();
    for line in map.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let bag_path = cols[0];
        assert!(bag_path.starts_with("data/") && bag_path.len() <= exhibit_export::MAX_PATH_BYTES, "{bag_path}");
        assert!(!bag_path.contains(['%', ':', '\\', '\n', '*', '?', '"', '<', '>', '|']), "{bag_path}");
        assert!(bag_path.split('/').all(|c| c.len() <= 120 && c != ".." && !c.ends_with(['.', ' '])), "{bag_path}");
        assert!(bag.join(bag_path).is_file(), "{bag_path}");
        assert_eq!(cols[2], "JS/1", "the exhibit column: {line}");
        let original: Vec<u8> = match cols[4] {
            "-" => serde_json::from_str::<String>(cols[3]).unwrap().into_bytes(),
            hex => hex::decode(hex).unwrap(),
        };
        originals.insert(original);
    }
    for name in IMAGE_NAMES.iter().copied().chain([long.as_slice()]) {
        // As manifests record paths inside a volume: `\` doubled.
        let mut path = b"/".to_vec();
        for &b in name {
            path.extend_from_slice(if b == b'\\' { b"\\\\" } else { std::slice::from_ref(&b) });
        }
        assert!(originals.contains(&path), "{} is not in the map", String::from_utf8_lossy(name));
    }
    let lower: Vec<String> = map.lines().skip(1).map(|l| l.split('\t').next().unwrap().to_lowercase()).collect();
    assert_eq!(lower.len(), lower.iter().collect::<std::collections::BTreeSet<_>>().len(), "a case collision is left");
    assert!(map.contains("/long-paths/"), "the deep file moved under long-paths: {map}");
    // The image's full listing rides along as DFXML that xmllint parses.
    let dfxml = bag.join("exhibit/listings/JS/1.dfxml");
    let out = Command::new("xmllint").arg("--noout").arg(&dfxml).output().unwrap();
    assert!(out.status.success(), "xmllint: {}", stderr(&out));
    assert!(std::fs::read_to_string(&dfxml).unwrap().contains("deep.txt"));
}
