//! A sparse NTFS file far longer than the image (issue 11): sparse runs
//! cost nothing, so it is kept; a file refused by the sparse limit is
//! refused under that limit's name, not as "unconverted".

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::common::{Sandbox, stderr};

/// Appends a sparse run of `extra` bytes to `sparse.bin` of the NTFS
/// fixture, in its MFT record (update sequence fixed up).
const GROW: &str = r#"
import struct, sys
path, extra = sys.argv[1], int(sys.argv[2])
img = bytearray(open(path, "rb").read())
part = 2048 * 512
bps, spc = struct.unpack_from("<HB", img, part + 11)
cs = bps * spc
mft = part + struct.unpack_from("<Q", img, part + 0x30)[0] * cs
c = struct.unpack_from("<b", img, part + 0x40)[0]
rs = c * cs if c > 0 else 1 << -c
def fixups(rec, restore):
    usa, n = struct.unpack_from("<HH", rec, 4)
    usn = rec[usa:usa + 2]
    for i in range(1, n):
        end = i * bps - 2
        if restore:
            rec[end:end + 2] = rec[usa + 2 * i:usa + 2 * i + 2]
        else:
            rec[usa + 2 * i:usa + 2 * i + 2] = rec[end:end + 2]
            rec[end:end + 2] = usn
for r in range(64, 512):
    at = mft + r * rs
    rec = bytearray(img[at:at + rs])
    if rec[:4] != b"FILE":
        continue
    fixups(rec, True)
    if "sparse.bin".encode("utf-16-le") not in rec:
        continue
    pos = struct.unpack_from("<H", rec, 0x14)[0]
    while struct.unpack_from("<I", rec, pos)[0] != 0x80:
        pos += struct.unpack_from("<I", rec, pos + 4)[0]
    alen = struct.unpack_from("<I", rec, pos + 4)[0]
    runs = pos + struct.unpack_from("<H", rec, pos + 32)[0]
    p = runs
    while rec[p] != 0:
        p += 1 + (rec[p] & 0xF) + (rec[p] >> 4)
    clusters = extra // cs
    new_runs = bytes(rec[runs:p]) + bytes([0x04]) + struct.pack("<I", clusters) + b"\0"
    body = bytes(rec[pos:runs]) + new_runs
    body += b"\0" * (-len(body) % 8)
    used = struct.unpack_from("<I", rec, 0x18)[0]
    tail = bytes(rec[pos + alen:used])
    rec[pos:pos + len(body) + len(tail)] = body + tail
    struct.pack_into("<I", rec, pos + 4, len(body))
    struct.pack_into("<I", rec, 0x18, used - alen + len(body))
    last = struct.unpack_from("<Q", rec, pos + 24)[0] + clusters
    size = struct.unpack_from("<Q", rec, pos + 40)[0] + clusters * cs
    struct.pack_into("<QQQQ", rec, pos + 24, last, 0, 0, 0)
    struct.pack_into("<H", rec, pos + 32, runs - pos)
    struct.pack_into("<QQQ", rec, pos + 40, size, size, size)
    fixups(rec, False)
    img[at:at + rs] = rec
    open(path, "wb").write(img)
    print(size)
    sys.exit(0)
sys.exit("sparse.bin not found")
"#;

/// The NTFS fixture with `sparse.bin` grown by `extra` sparse bytes; its
/// new size.
fn grown_fixture(dir: &Path, extra: u64) -> (PathBuf, u64) {
    let evidence = dir.join("evidence");
    std::fs::create_dir_all(&evidence).unwrap();
    let img = evidence.join("sparse-ntfs.img");
    std::fs::copy(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ntfs/disk.img"), &img).unwrap();
    let out = Command::new("python3").args(["-c", GROW]).arg(&img).arg(extra.to_string()).output().expect("python3");
    assert!(out.status.success(), "{}", stderr(&out));
    (evidence, String::from_utf8(out.stdout).unwrap().trim().parse().unwrap())
}

fn sparse_entry(sb: &Sandbox, case: &str) -> Value {
    let out = sb.run(&["listing", "--case", case, "--exhibit", "JS/1", "--format", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = v["entries"].as_array().unwrap();
    entries.iter().find(|e| e["path"]["display"] == "/sparse.bin" && e["stream"].is_null()).expect("listed").clone()
}

/// The original sparse.bin: START, zeros, END!! at its end, 300000 bytes.
fn expected(size: u64) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    let mut head = vec![0u8; 300_000];
    head[..5].copy_from_slice(b"START");
    head[299_995..].copy_from_slice(b"END!!");
    h.update(&head);
    let zeros = vec![0u8; 1 << 20];
    let mut left = size - 300_000;
    while left > 0 {
        let n = left.min(zeros.len() as u64);
        h.update(&zeros[..n as usize]);
        left -= n;
    }
    hex::encode(h.finalize())
}

#[test]
fn a_sparse_file_longer_than_the_image_allows_is_kept() {
    let sb = Sandbox::new();
    // 64 MiB of sparse runs on a 4 MiB image: 16x, past max_expansion_ratio.
    let (evidence, size) = grown_fixture(sb.dir.path(), 64 << 20);
    let out = sb.ingest("NTFS-SPARSE", &evidence);
    let seen = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{seen}");
    let e = sparse_entry(&sb, "NTFS-SPARSE");
    assert_eq!(e["size"], size);
    assert_eq!(e["digests"]["sha256"], expected(size), "{e:#}");
    let sparse: u64 =
        e["sparse"].as_array().unwrap().iter().map(|r| r[1].as_u64().unwrap() - r[0].as_u64().unwrap()).sum();
    assert!(sparse >= 64 << 20, "the sparse runs are recorded: {e:#}");
    let (code, report) = sb.verify_json("NTFS-SPARSE");
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn a_file_refused_for_its_sparse_runs_names_the_limit_that_refused_it() {
    let sb = Sandbox::new();
    let (evidence, _) = grown_fixture(sb.dir.path(), 64 << 20);
    let out = sb
        .exhibit()
        .env("EXHIBIT__LIMITS__MAX_SPARSE_BYTES", (16u64 << 20).to_string())
        .args(["ingest", "--case", "NTFS-CAP", "--exhibit", "JS/1", "--operator", "Test"])
        .arg(&evidence)
        .output()
        .unwrap();
    let seen = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(3), "{seen}");
    assert!(seen.contains("limits.max_sparse_bytes") && !seen.contains("unconverted"), "{seen}");
    assert!(sparse_entry(&sb, "NTFS-CAP")["error"].as_str().unwrap().contains("limits.max_sparse_bytes"));
}
