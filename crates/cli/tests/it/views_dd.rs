//! What the README promises: from the DFXML listing alone, `dd` cuts a
//! file's bytes out of the image and `sha256sum` checks them.

use std::path::Path;
use std::process::Command;

use crate::common::{Sandbox, stderr};

/// One file of a DFXML listing: name, SHA-256, runs
/// (`file_offset`, `img_offset` or `None` for zeros, `len`).
pub struct Listed {
    pub name: String,
    pub sha256: String,
    pub runs: Vec<(u64, Option<u64>, u64)>,
}

pub fn listed_files(xml: &str) -> Vec<Listed> {
    let doc = roxmltree::Document::parse(xml).unwrap();
    let text = |n: roxmltree::Node, tag: &str| {
        n.children().find(|c| c.has_tag_name(tag)).and_then(|c| c.text()).unwrap_or_default().to_owned()
    };
    let num = |n: roxmltree::Node, a: &str| n.attribute(a).map(|v| v.parse::<u64>().unwrap());
    doc.descendants()
        .filter(|n| n.has_tag_name("fileobject") && text(*n, "name_type") == "r" && text(*n, "alloc") == "1")
        .filter_map(|n| {
            let sha256 = n
                .children()
                .find(|c| c.has_tag_name("hashdigest") && c.attribute("type") == Some("sha256"))?
                .text()?
                .to_owned();
            let runs = n
                .descendants()
                .filter(|c| c.has_tag_name("byte_run"))
                .map(|r| (num(r, "file_offset").unwrap(), num(r, "img_offset"), num(r, "len").unwrap()))
                .collect::<Vec<_>>();
            let size: u64 = text(n, "filesize").parse().unwrap();
            (size > 0 && !runs.is_empty()).then(|| Listed { name: text(n, "filename"), sha256, runs })
        })
        .collect()
}

/// Rebuilds a file with `dd` (and zeros for fill runs) as the README says,
/// and returns what `sha256sum` prints for it.
pub fn dd_and_sha256sum(image: &Path, file: &Listed, out: &Path) -> String {
    let mut script = format!(": > '{}'\n", out.display());
    let mut runs = file.runs.clone();
    runs.sort();
    for (_, img, len) in runs {
        match img {
            Some(at) => script.push_str(&format!(
                "dd if='{}' iflag=skip_bytes,count_bytes skip={at} count={len} bs=64K status=none >> '{}'\n",
                image.display(),
                out.display()
            )),
            None => script.push_str(&format!("head -c {len} /dev/zero >> '{}'\n", out.display())),
        }
    }
    script.push_str(&format!("sha256sum '{}'\n", out.display()));
    let res = Command::new("sh").arg("-c").arg(&script).output().unwrap();
    assert!(res.status.success(), "{script}: {}", stderr(&res));
    String::from_utf8(res.stdout).unwrap().split_whitespace().next().unwrap().to_owned()
}

#[test]
fn dd_and_sha256sum_rebuild_three_files_from_the_dfxml_listing() {
    let sb = Sandbox::new();
    let image = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/fat/fat16-mbr.img");
    let out = sb.ingest("DD-1", &image);
    assert!(out.status.success(), "{}", stderr(&out));
    let xml = sb.run(&["listing", "--case", "DD-1", "--exhibit", "JS/1", "--format", "dfxml"]);
    assert!(xml.status.success(), "{}", stderr(&xml));
    let files = listed_files(&String::from_utf8(xml.stdout).unwrap());
    assert!(files.len() >= 3, "the listing has files with byte runs");
    let sources = std::fs::read_to_string(image.with_extension("img.sha256")).unwrap();
    for file in files.iter().filter(|f| sources.contains(&f.sha256)).take(3) {
        let rebuilt = dd_and_sha256sum(&image, file, &sb.dir.path().join("rebuilt"));
        assert_eq!(rebuilt, file.sha256, "{}: dd + sha256sum from the listing", file.name);
    }
    assert!(files.iter().filter(|f| sources.contains(&f.sha256)).count() >= 3, "three source files are listed");
}
