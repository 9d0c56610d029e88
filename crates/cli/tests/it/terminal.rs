//! At a real terminal (a pseudo-terminal from util-linux `script`): the
//! progress bars draw, colour follows `NO_COLOR`, and evidence file names
//! holding escape sequences are shown escaped by `ingest`, `show` and
//! `hash`. Through a pipe, nothing writes an escape byte.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::common::{Sandbox, stderr};

const CASE: &str = "42AB1234520";
/// Sets the window title, then clears the screen, if printed raw.
const TITLE: &str = "evil\u{1b}]0;pwned\u{7}.txt";
const CLEAR: &str = "clear\u{1b}[2J.txt";
const RTL: &str = "invoice\u{202e}fdp.exe";

/// Hostile names, a FIFO (recorded as failed, so the failure lines name
/// it) and enough ordinary files for the bar to move.
fn hostile_sources(sb: &Sandbox) -> PathBuf {
    let src = sb.dir.path().join("hostile");
    std::fs::create_dir_all(&src).unwrap();
    for name in [TITLE, CLEAR, RTL] {
        std::fs::write(src.join(name), name).unwrap();
    }
    for n in 0..40 {
        std::fs::write(src.join(format!("page{n:02}.bin")), vec![n as u8; 64 * 1024]).unwrap();
    }
    let fifo = src.join("fifo\u{1b}[31mred");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    src
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Runs `exhibit ARGS` in a pseudo-terminal; returns what the terminal got.
fn in_terminal(sb: &Sandbox, args: &str, env: &[(&str, &str)]) -> String {
    let line = format!("{} {args}", quote(Path::new(env!("CARGO_BIN_EXE_exhibit"))));
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("EXHIBIT_DATA", sb.data())
        .env("EXHIBIT__SIGNING__KEY_FILE", sb.key_file())
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .env_remove("EXHIBIT_CONFIG")
        .env_remove("EXHIBIT_LOG")
        .stdin(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("script (bsdutils) runs");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn assert_nothing_raw(screen: &str) {
    for raw in ["\u{1b}]0;pwned", "\u{1b}[2J", "\u{202e}", "\u{1b}[31mred"] {
        assert!(!screen.contains(raw), "{raw:?} reached the terminal raw: {screen:?}");
    }
}

/// SGR (colour) sequences: ESC [ digits/semicolons m.
fn has_colour(screen: &str) -> bool {
    screen.split('\u{1b}').skip(1).any(|rest| {
        rest.strip_prefix('[').is_some_and(|r| {
            let end = r.find(|c: char| !c.is_ascii_digit() && c != ';').unwrap_or(r.len());
            r[end..].starts_with('m')
        })
    })
}

#[test]
fn bars_draw_and_hostile_names_are_escaped_at_a_terminal() {
    let sb = Sandbox::new();
    let src = hostile_sources(&sb);
    let ingest = format!("ingest --case {CASE} --exhibit JS/1 --operator Tester {}", quote(&src));
    let screen = in_terminal(&sb, &ingest, &[]);
    assert!(screen.contains("acquire [") && screen.contains("/44 files"), "no progress bar: {screen:?}");
    assert!(screen.contains("acquire done: "), "{screen:?}");
    assert!(screen.contains("fifo\\x1b[31mred"), "the failure names the FIFO, escaped: {screen:?}");
    assert_nothing_raw(&screen);

    let show = in_terminal(&sb, &format!("show --case {CASE}"), &[]);
    for escaped in ["evil\\x1b]0;pwned\\x07.txt", "clear\\x1b[2J.txt", "invoice\\u{202e}fdp.exe"] {
        assert!(show.contains(escaped), "show: {escaped} missing: {show:?}");
    }
    assert_nothing_raw(&show);

    let hash = in_terminal(&sb, &format!("hash {}", quote(&src)), &[]);
    assert!(hash.contains("evil\\x1b]0;pwned\\x07.txt") && hash.contains("clear\\x1b[2J.txt"), "hash: {hash:?}");
    assert_nothing_raw(&hash);
}

#[test]
fn every_phase_draws_a_bar() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("mixed");
    std::fs::create_dir_all(&src).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures");
    for (from, to) in [("iso/iso.iso", "disc.iso"), ("ocr/memo.png", "memo.png")] {
        std::fs::copy(fixtures.join(from), src.join(to)).unwrap();
    }
    let ingest = format!("ingest --case {CASE} --exhibit JS/1 --operator Tester {}", quote(&src));
    let screen = in_terminal(&sb, &ingest, &[]);
    // indicatif draws at most 20 frames a second and always draws a bar's
    // end: a phase over within one frame (exploring one small disc) may
    // show only its done line (seen in a CI run).
    for phase in ["acquire", "explore", "derive"] {
        assert!(screen.contains(&format!("{phase} done: ")), "{phase} did not finish: {screen:?}");
    }
    for phase in ["acquire", "derive"] {
        assert!(screen.contains(&format!("{phase} [")), "no {phase} bar: {screen:?}");
    }
    assert!(screen.contains("acquire done: 2 files"), "{screen:?}");
    assert!(screen.contains("explore done: 1 file,"), "one image explored: {screen:?}");
    let quiet = in_terminal(&sb, &ingest.replace("ingest --case", "-q ingest --case"), &[]);
    assert!(!quiet.contains(" [") && !quiet.contains("done: "), "-q draws no bars: {quiet:?}");
    assert!(!quiet.contains("already recorded") && !quiet.contains("needs attention"), "no table: {quiet:?}");
}

/// A folder of page scans: the phase that joins their searchable PDFs into
/// the bundle's one PDF/A has a bar of its own, counting pages, and the
/// derive bar counts the page files, not the bundle's jobs.
#[test]
fn the_bundle_pdf_has_a_bar_counting_pages() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ocr");
    for (from, to) in [("memo.png", "page1.png"), ("rotated-90.png", "page2.png"), ("statement-g4.tif", "page3.tif")] {
        std::fs::copy(fixtures.join(from), src.join(to)).unwrap();
    }
    let ingest = format!("ingest --case {CASE} --exhibit JS/1 --operator Tester {}", quote(&src));
    let screen = in_terminal(&sb, &ingest, &[]);
    assert!(screen.contains("bundle [") && screen.contains("/3 pages"), "no bundle bar: {screen:?}");
    assert!(screen.contains("bundle done: 3 pages"), "{screen:?}");
    assert!(screen.contains("derive done: 3 files"), "the page files only: {screen:?}");
}

/// Names inside a disk image (ext4 keeps any byte but `/` and NUL) reach
/// `show` and `listing` escaped at a terminal, in every listing format.
#[test]
fn names_inside_an_image_are_escaped_by_show_and_listing() {
    let sb = Sandbox::new();
    let tree = sb.dir.path().join("tree");
    std::fs::create_dir_all(&tree).unwrap();
    for name in ["del\u{7f}name", CLEAR, RTL] {
        std::fs::write(tree.join(name), "x").unwrap();
    }
    let image = sb.dir.path().join("disk.img");
    let made =
        Command::new("mke2fs").args(["-q", "-t", "ext4", "-d"]).arg(&tree).arg(&image).arg("2M").output().unwrap();
    assert!(made.status.success(), "{}", stderr(&made));
    let out = sb.run(&["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "T", image.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut screens = vec![in_terminal(&sb, &format!("show --case {CASE}"), &[])];
    for format in ["json", "csv", "dfxml"] {
        screens.push(in_terminal(&sb, &format!("listing --case {CASE} --exhibit JS/1 --format {format}"), &[]));
    }
    for screen in &screens {
        // The terminal escaper writes `\x7f`; the listing formats carry
        // their own reversible escape (`\u{7F}`), which is just as inert.
        let lower = screen.to_lowercase();
        assert!(["del\\x7fname", "del\\u007fname", "del\\u{7f}name"].iter().any(|e| lower.contains(e)), "{screen:?}");
        assert!(lower.contains("\\u{202e}") || lower.contains("\\u202e"), "{screen:?}");
        assert!(!screen.contains('\u{7f}'), "raw DEL: {screen:?}");
        assert_nothing_raw(screen);
    }
}

#[test]
fn colour_only_at_a_terminal_and_never_with_no_color() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let ingest = format!("-v ingest --case {CASE} --exhibit JS/1 --operator Tester {}", quote(&src));
    let coloured = in_terminal(&sb, &ingest, &[]);
    assert!(coloured.contains("INFO"), "{coloured:?}");
    assert!(has_colour(&coloured), "a terminal gets coloured log levels: {coloured:?}");
    let plain = in_terminal(&sb, &ingest, &[("NO_COLOR", "1")]);
    assert!(plain.contains("INFO"), "{plain:?}");
    assert!(!has_colour(&plain), "NO_COLOR: {plain:?}");
}

#[test]
fn through_a_pipe_nothing_writes_an_escape_byte() {
    let sb = Sandbox::new();
    let src = hostile_sources(&sb);
    let mut seen = Vec::new();
    for args in [
        vec!["-vv", "ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "Tester", src.to_str().unwrap()],
        vec!["-v", "show", "--case", CASE],
        vec!["-v", "verify", "--case", CASE],
        vec!["-v", "listing", "--case", CASE, "--exhibit", "JS/1"],
        vec!["hash", &format!("{}/{TITLE}", src.display())],
        vec!["hash", &format!("{}/missing{CLEAR}", src.display())],
    ] {
        let out = sb.run(&args);
        assert!(!out.stderr.contains(&0x1b), "{args:?} stderr: {}", stderr(&out));
        // `hash` writes names raw into a pipe, as sha256sum does, so the
        // checksum file names the real file.
        if args[0] != "hash" {
            assert!(!out.stdout.contains(&0x1b), "{args:?} stdout: {}", String::from_utf8_lossy(&out.stdout));
        }
        seen.push(stderr(&out) + &String::from_utf8_lossy(&out.stdout));
    }
    assert!(seen[0].contains("fifo\\x1b[31mred"), "{}", seen[0]);
    assert!(seen[1].contains("evil\\x1b]0;pwned\\x07.txt"), "{}", seen[1]);
    assert!(seen[5].contains("missingclear\\x1b[2J.txt"), "the error names the file escaped: {}", seen[5]);
}

/// A manifest ingest at a terminal: the bars, each row's attention table
/// and the manifest's table render, and hostile names from the manifest
/// and the file system are shown escaped there and in `show`'s tree.
#[test]
fn a_manifest_ingest_renders_its_tables_with_names_escaped() {
    let sb = Sandbox::new();
    let desk = sb.dir.path().join("desk");
    std::fs::create_dir_all(desk.join("box")).unwrap();
    std::fs::write(desk.join("box").join(TITLE), "title").unwrap();
    for n in 0..20 {
        std::fs::write(desk.join("box").join(format!("page{n:02}.bin")), vec![n as u8; 32 * 1024]).unwrap();
    }
    let csv = format!("exhibit,path,description,pages\nJS/1,box,Box of papers,5\nJS/2,box,\"bad {CLEAR}\",\n");
    std::fs::write(desk.join("items.csv"), csv).unwrap();
    let ingest = format!("ingest --case {CASE} --operator Tester --manifest {}", quote(&desk.join("items.csv")));
    let screen = in_terminal(&sb, &ingest, &[]);
    assert!(screen.contains("acquire [") && screen.contains("acquire done: "), "no progress bar: {screen:?}");
    assert!(screen.contains("needs attention: 1 item(s)") && screen.contains("what to do:"), "{screen:?}");
    assert!(screen.contains("2 row(s): 0 clean, 1 need attention, 0 failed, 1 refused"), "{screen:?}");
    assert!(screen.contains("line 3 exhibit JS/2: refused: description: holds the control character"), "{screen:?}");
    assert_nothing_raw(&screen);
    let show = in_terminal(&sb, &format!("show --case {CASE}"), &[]);
    assert!(show.contains("exhibit JS/1: Box of papers") && show.contains("├─ "), "{show:?}");
    assert!(show.contains("evil\\x1b]0;pwned\\x07.txt"), "{show:?}");
    assert_nothing_raw(&show);
}

/// Repro 12: `verify` printed a needs-review page's file name raw in its
/// `note:` line (a window title set, a forged "OK" line). Every
/// evidence-derived string it prints is escaped as `show` escapes it,
/// whether or not at a terminal.
#[test]
fn verify_escapes_file_names_in_its_notes() {
    let sb = Sandbox::new();
    let src = sb.dir.path().join("scans");
    std::fs::create_dir_all(&src).unwrap();
    let forged = "x\u{1b}]0;pwned\u{7}\nOK: every page verified\n.png";
    std::fs::write(src.join(forged), crate::scan_desk::white_png(800, 600)).unwrap();
    let out = sb.run(&["ingest", "--case", CASE, "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3), "a page for review: {}", stderr(&out));
    let check = |screen: &str| {
        assert!(!screen.contains('\u{1b}') && !screen.contains('\u{7}'), "raw control bytes: {screen:?}");
        assert!(!screen.lines().any(|l| l.starts_with("OK: every page")), "a forged line: {screen:?}");
        assert!(screen.contains("x\\x1b]0;pwned\\x07\\nOK: every page verified\\n.png"), "{screen:?}");
    };
    let verified = sb.run(&["verify", "--case", CASE]);
    let piped = String::from_utf8_lossy(&verified.stdout).into_owned();
    assert!(piped.lines().any(|l| l.starts_with("note: ") && l.contains("needs-review")), "{piped}");
    check(&piped);
    check(&in_terminal(&sb, &format!("verify --case {CASE}"), &[]));
}
