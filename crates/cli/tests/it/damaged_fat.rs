//! A FAT file whose cluster chain ends before its size (issue 11): the
//! bytes the chain reaches are kept, the rest is recorded as missing.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

const PATCH: &str = r#"
import struct, sys
path = sys.argv[1]
img = bytearray(open(path, "rb").read())
bps, spc, reserved, nfats, root_entries = struct.unpack_from("<HBHBH", img, 11)
fat_sectors = struct.unpack_from("<H", img, 22)[0]
root = (reserved + nfats * fat_sectors) * bps
for i in range(root_entries):
    e = root + 32 * i
    if img[e:e + 11] == b"SHORT   BIN":
        second = struct.unpack_from("<H", img, e + 26)[0] + 1
for f in range(nfats):
    fat = (reserved + f * fat_sectors) * bps
    off = fat + second * 3 // 2
    cur = struct.unpack_from("<H", img, off)[0]
    cur = (cur & 0xF000) | 0xFFF if second % 2 == 0 else (cur & 0x000F) | (0xFFF << 4)
    struct.pack_into("<H", img, off, cur)
open(path, "wb").write(img)
"#;

fn seeded(seed: u32, len: usize) -> Vec<u8> {
    let code = format!("import random,sys; sys.stdout.buffer.write(random.Random({seed}).randbytes({len}))");
    Command::new("python3").args(["-c", &code]).output().expect("python3").stdout
}

fn run(cmd: &mut Command) {
    let out = cmd.env("MTOOLS_SKIP_CHECK", "1").output().expect("tool (scripts/setup-debian.sh installs it)");
    assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
}

/// FAT12, 512-byte clusters: ONE.TXT, SHORT.BIN (3000 bytes, 6 clusters)
/// whose chain is cut to its first two clusters, TWO.TXT.
fn short_chain_image(dir: &Path, short: &[u8]) -> PathBuf {
    let evidence = dir.join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    let img = evidence.join("short-chain.img");
    run(Command::new("mkfs.fat").args(["-C", "-F", "12", "-s", "1", "-n", "SHORT"]).arg(&img).arg("1024"));
    for (name, bytes) in [("ONE.TXT", &b"fat file one\n"[..]), ("SHORT.BIN", short), ("TWO.TXT", b"fat file two\n")] {
        std::fs::write(dir.join(name), bytes).unwrap();
        run(Command::new("mcopy").arg("-i").arg(&img).arg(dir.join(name)).arg("::/"));
    }
    run(Command::new("python3").args(["-c", PATCH]).arg(&img));
    evidence
}

fn listing(sb: &Sandbox, case: &str) -> Vec<Value> {
    let out = sb.run(&["listing", "--case", case, "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice::<Value>(&out.stdout).unwrap()["entries"].as_array().unwrap().clone()
}

#[test]
fn a_short_fat_chain_keeps_the_bytes_it_reaches() {
    let sb = Sandbox::new();
    let short = seeded(21, 3000);
    let evidence = short_chain_image(sb.dir.path(), &short);
    let out = sb.ingest("FAT-SHORT", &evidence);
    let seen = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "done, but a person must look: {seen}");
    assert!(seen.contains("/SHORT.BIN") && !seen.contains("damaged-record"), "{seen}");
    let entries = listing(&sb, "FAT-SHORT");
    let e = entries.iter().find(|e| e["path"]["display"] == "/SHORT.BIN").expect("listed");
    assert_eq!(e["missing"], serde_json::json!([[1024, 3000]]), "{e:#}");
    assert!(e["error"].is_null(), "{e:#}");
    let file = sb.dir.path().join("short.out");
    let id = e["artefact"].as_str().expect("kept");
    let got = sb.run(&["get", "--case", "FAT-SHORT", id, "-o", file.to_str().unwrap()]);
    assert!(got.status.success(), "{}", stderr(&got));
    let bytes = std::fs::read(&file).unwrap();
    assert_eq!(bytes.len(), 3000);
    assert!(bytes[..1024] == short[..1024] && bytes[1024..].iter().all(|&b| b == 0));
    let shown = sb.show_json("FAT-SHORT");
    let m = shown["artefacts"].as_array().unwrap().iter().find(|a| a["id"] == id).unwrap();
    assert!(m["flags"].as_array().unwrap().contains(&"truncated".into()), "{m:#}");
    for name in ["/ONE.TXT", "/TWO.TXT"] {
        assert!(entries.iter().any(|e| e["path"]["display"] == name && e["artefact"].is_string()), "{name}");
    }
    let (code, report) = sb.verify_json("FAT-SHORT");
    assert_eq!(code, 0, "{report:#}");
}

/// The CSV listing carries the missing ranges JSON and DFXML carry.
#[test]
fn the_csv_listing_names_missing_ranges() {
    let sb = Sandbox::new();
    let evidence = short_chain_image(sb.dir.path(), &seeded(22, 3000));
    sb.ingest("FAT-CSV", &evidence);
    let out = sb.run(&["listing", "--case", "FAT-CSV", "--exhibit", "JS/1", "--format", "csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let column = header.iter().position(|h| *h == "missing").expect("a missing column");
    assert!(header.contains(&"sparse"), "{header:?}");
    let row = lines.find(|l| l.contains("/SHORT.BIN")).expect("SHORT.BIN row");
    let cells: Vec<&str> = row.split(',').collect();
    assert_eq!(cells.len(), header.len(), "{row}");
    assert_eq!(cells[column], "1024-3000", "{row}");
}
