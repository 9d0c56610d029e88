//! `exhibit ingest` anchors the ledger head with a loopback TSA (made from
//! `openssl ts -reply`), `exhibit verify` checks the anchors, and a TSA
//! outage loses nothing.

use std::path::Path;
use std::process::Output;

use exhibit_timestamp::loopback::{KeyKind, LoopbackTsa, Mode, unreachable_url};

use crate::common::{Sandbox, stderr};

struct Anchored {
    sb: Sandbox,
    tsa: LoopbackTsa,
    _tsa_dir: tempfile::TempDir,
}

impl Anchored {
    fn new() -> Self {
        let tsa_dir = tempfile::tempdir().unwrap();
        let tsa = LoopbackTsa::start(tsa_dir.path(), KeyKind::EcP256).unwrap();
        Self { sb: Sandbox::new(), tsa, _tsa_dir: tsa_dir }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_at(&self.tsa.url(), args)
    }

    fn run_at(&self, tsa_url: &str, args: &[&str]) -> Output {
        self.sb
            .exhibit()
            .env("EXHIBIT__ANCHORING__TSA_URL", tsa_url)
            .env("EXHIBIT__ANCHORING__CA_FILE", self.tsa.ca_file())
            .args(args)
            .output()
            .unwrap()
    }

    fn ingest(&self, src: &Path) -> Output {
        self.ingest_at(&self.tsa.url(), src)
    }

    fn ingest_at(&self, tsa_url: &str, src: &Path) -> Output {
        let args = ["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "Test Officer", src.to_str().unwrap()];
        self.run_at(tsa_url, &args)
    }

    fn anchors(&self) -> Vec<String> {
        let dir = self.sb.case_dir("C1").join("anchors");
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
            .unwrap_or_default();
        names.sort();
        names
    }

    fn last_seq(&self) -> u64 {
        self.sb.ledger("C1").last().unwrap().1["seq"].as_u64().unwrap()
    }
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The README's recipe, word for word: the body hash of an entry with
/// python3 and sha256sum.
fn body_sha256(entry: &Path) -> String {
    let recipe = r#"python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d.pop("sig"); sys.stdout.buffer.write(json.dumps(d,sort_keys=True,separators=(",",":"),ensure_ascii=False).encode())' "$1" | sha256sum | cut -d" " -f1"#;
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    assert!(readme.contains(&recipe.replace("\"$1\"", "cases/C1/ledger/$n.json")), "README recipe changed");
    let out = std::process::Command::new("bash").args(["-c", recipe, "recipe"]).arg(entry).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn ingest_anchors_the_head_once_and_both_exhibit_and_openssl_verify_it() {
    let a = Anchored::new();
    let src = a.sb.sources();
    let out = a.ingest(&src);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = a.last_seq();
    assert!(stdout(&out).contains(&format!("anchored: ledger entry {head} (sha256 ")), "{}", stdout(&out));
    assert_eq!(a.anchors(), vec![format!("{head:020}.tsr")]);

    let (entry, _) = a.sb.ledger("C1").pop().unwrap();
    let token = a.sb.case_dir("C1").join("anchors").join(format!("{head:020}.tsr"));
    let check = std::process::Command::new("openssl")
        .args(["ts", "-verify", "-digest", &body_sha256(&entry), "-in"])
        .arg(&token)
        .arg("-CAfile")
        .arg(a.tsa.ca_file())
        .output()
        .unwrap();
    assert!(stdout(&check).contains("Verification: OK"), "{}{}", stdout(&check), stderr(&check));

    let trusted = a.sb.trusted_keys();
    let verify = a.run(&["verify", "--case", "C1", "--trusted-keys", trusted.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", stdout(&verify));
    assert!(stdout(&verify).contains(&format!("anchors: 1 checked against {}", a.tsa.ca_file().display())));

    let (code, report) = a.sb.verify_json("C1");
    assert_eq!(code, 3, "anchors found but not checked is not a clean result");
    assert_eq!(report["anchors"]["found"], 1);
    assert!(report["anchors"]["checked_against"].is_null(), "the sandbox's verify has no CA: {report}");
    assert!(report["anchors"].as_object().unwrap().contains_key("checked_against"), "said explicitly");

    // Nothing new: no new token.
    let again = a.ingest(&src);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(stdout(&again).contains(&format!("ledger entry {head} already has a timestamp")), "{}", stdout(&again));
    assert_eq!((a.anchors().len(), a.tsa.tokens_issued()), (1, 1));

    // Without a CA, verify says loudly that the anchors were not checked.
    let unchecked = a.sb.run(&["verify", "--case", "C1", "--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(unchecked.status.code(), Some(3), "intact but not fully checked: {}", stdout(&unchecked));
    assert!(stdout(&unchecked).contains("WARNING: 1 timestamp anchor(s) were NOT checked"), "{}", stdout(&unchecked));
}

#[test]
fn a_tsa_outage_during_ingest_loses_nothing_and_the_next_run_anchors_the_head() {
    let a = Anchored::new();
    let src = a.sb.sources();
    let down = unreachable_url().unwrap();
    for (url, mode) in [(&down, Mode::Sign), (&a.tsa.url(), Mode::HttpStatus(500)), (&a.tsa.url(), Mode::Garbage)] {
        a.tsa.set_mode(mode);
        std::fs::write(src.join(format!("new-{mode:?}.txt")), format!("{mode:?}")).unwrap();
        let out = a.ingest_at(url, &src);
        assert!(out.status.success(), "{mode:?}: {}", stderr(&out));
        assert!(stderr(&out).contains("WARNING: the ledger head was NOT timestamped"), "{}", stderr(&out));
        assert!(a.anchors().is_empty());
    }
    let ledger = a.sb.ledger("C1");
    let failures: Vec<_> =
        ledger.iter().filter(|(_, e)| e["tool"]["name"].as_str().is_some_and(|n| n.ends_with("/anchor"))).collect();
    assert_eq!(failures.len(), 3, "each failure is on record");
    assert!(failures[0].1["outcome"]["reason"].as_str().unwrap().contains(&format!("cannot reach the TSA at {down}")));
    assert!(failures[1].1["outcome"]["reason"].as_str().unwrap().contains("HTTP status 500"));
    let shown = a.sb.show_json("C1").to_string();
    for name in ["new-Sign.txt", "new-HttpStatus(500).txt", "new-Garbage.txt"] {
        assert!(shown.contains(name), "{name} was not stored");
    }

    a.tsa.set_mode(Mode::Sign);
    let head = a.last_seq();
    let out = a.ingest(&src);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(a.anchors(), vec![format!("{head:020}.tsr")], "the newer head (the failure record) is anchored");
    let trusted = a.sb.trusted_keys();
    let verify = a.run(&["verify", "--case", "C1", "--trusted-keys", trusted.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", stdout(&verify));
}

#[test]
fn cutting_the_ledger_back_past_an_anchor_fails_verify_and_names_the_entry() {
    let a = Anchored::new();
    let out = a.ingest(&a.sb.sources());
    assert!(out.status.success(), "{}", stderr(&out));
    let ledger = a.sb.ledger("C1");
    // `ledger()` lists events; the events of a batch entry share its number.
    let head = ledger.last().unwrap().1["seq"].as_u64().unwrap();
    std::fs::remove_file(&ledger.last().unwrap().0).unwrap();
    let trusted = a.sb.trusted_keys();
    let verify = a.run(&["verify", "--case", "C1", "--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    let anchor = format!("cases/C1/anchors/{head:020}.tsr");
    assert!(
        stdout(&verify).contains(&format!("entry {head} missing: anchor {anchor} shows it existed")),
        "{}",
        stdout(&verify)
    );
}

#[test]
fn a_bad_anchoring_config_is_refused_before_anything_is_written() {
    let sb = Sandbox::new();
    let src = sb.sources();
    let huge = u64::MAX.to_string();
    for (key, value) in [
        ("TSA_URL", "https://tsa.example/"),
        ("CA_FILE", "/nonexistent/ca.pem"),
        ("TIMEOUT_SECS", huge.as_str()),
        ("TIMEOUT_SECS", "0"),
    ] {
        let out = sb
            .exhibit()
            .env("EXHIBIT__ANCHORING__TSA_URL", "http://127.0.0.1:9/")
            .env(format!("EXHIBIT__ANCHORING__{key}"), value)
            .args(["ingest", "--case", "C1", "--exhibit", "JS/1", "--operator", "T", src.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{key}: {}", stderr(&out));
        assert!(stderr(&out).contains("[anchoring]"), "{}", stderr(&out));
        assert!(!sb.case_dir("C1").exists(), "{key}: something was written");
    }
}

#[test]
fn a_fifo_as_ca_file_or_untrusted_file_is_refused_not_opened() {
    let a = Anchored::new();
    let src = a.sb.sources();
    assert_eq!(a.ingest(&src).status.code(), Some(0));
    let fifo = a.sb.dir.path().join("planted.fifo");
    assert!(std::process::Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    for key in ["CA_FILE", "UNTRUSTED_FILE"] {
        for args in [
            &["ingest", "--case", "C1", "--exhibit", "JS/2", "--operator", "Test Officer", src.to_str().unwrap()][..],
            &["verify", "--case", "C1"][..],
        ] {
            // Before the fix, each of these blocked for ever opening the FIFO.
            let out =
                a.sb.exhibit()
                    .env("EXHIBIT__ANCHORING__TSA_URL", a.tsa.url())
                    .env("EXHIBIT__ANCHORING__CA_FILE", a.tsa.ca_file())
                    .env(format!("EXHIBIT__ANCHORING__{key}"), &fifo)
                    .args(args)
                    .output()
                    .unwrap();
            assert_eq!(out.status.code(), Some(2), "{key} {args:?}: {}", stderr(&out));
            assert!(stderr(&out).contains("named pipe"), "{key} {args:?}: {}", stderr(&out));
        }
    }
}

#[test]
fn a_planted_anchor_file_for_the_next_head_is_noticed_and_a_newer_head_anchored() {
    // Ingests JS/1, then plants junk as the anchor of the entry `ahead`
    // past the head, then ingests one file as JS/2.
    let ingest_two = |a: &Anchored, ahead: Option<u64>| {
        assert_eq!(a.ingest(&a.sb.sources()).status.code(), Some(0));
        let first_head = a.last_seq();
        let planted = ahead.map(|n| first_head + n);
        if let Some(seq) = planted {
            std::fs::write(a.sb.case_dir("C1").join(format!("anchors/{seq:020}.tsr")), b"junk\n").unwrap();
        }
        // One file: one job per stage, so no group commit ever holds two
        // jobs, and the second ingest adds as many entries in every run.
        let one = a.sb.dir.path().join("one");
        std::fs::create_dir_all(&one).unwrap();
        std::fs::write(one.join("note.txt"), "seen at 9pm\n").unwrap();
        let args = ["ingest", "--case", "C1", "--exhibit", "JS/2", "--operator", "Test Officer", one.to_str().unwrap()];
        (first_head, planted, a.run(&args))
    };
    // How many entries the second ingest adds, learnt from an untouched run.
    let control = Anchored::new();
    let (first_head, _, out) = ingest_two(&control, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let added = control.last_seq() - first_head;

    let a = Anchored::new();
    let (_, planted, out) = ingest_two(&a, Some(added));
    let head = planted.unwrap();
    let err = stderr(&out);
    assert!(err.contains(&format!("ledger entry {head} is NOT valid")), "{err}");
    assert!(!stdout(&out).contains("already has a timestamp"), "{}", stdout(&out));
    let last = a.last_seq();
    assert!(last > head, "the failure is recorded in the ledger");
    assert!(a.anchors().contains(&format!("{last:020}.tsr")), "the newer head is anchored: {:?}", a.anchors());
    assert_eq!(a.tsa.tokens_issued(), 2, "the TSA was asked for the first head and the newer head only");
}

#[test]
fn an_anchors_path_that_is_a_regular_file_is_reported() {
    let a = Anchored::new();
    assert!(a.ingest(&a.sb.sources()).status.success());
    let anchors = a.sb.case_dir("C1").join("anchors");
    std::fs::remove_dir_all(&anchors).unwrap();
    std::fs::write(&anchors, b"x\n").unwrap();
    let trusted = a.sb.trusted_keys();
    let verify = a.run(&["verify", "--case", "C1", "--trusted-keys", trusted.to_str().unwrap()]);
    assert_eq!(verify.status.code(), Some(1), "{}", stdout(&verify));
    assert!(stdout(&verify).contains("cases/C1/anchors"), "{}", stdout(&verify));
}

#[test]
fn verify_warns_when_the_latest_anchor_is_below_the_head() {
    let a = Anchored::new();
    let src = a.sb.sources();
    assert!(a.ingest(&src).status.success());
    let anchored = a.last_seq();
    // Entries recorded without a TSA leave the tail unanchored.
    let out =
        a.sb.run(&["ingest", "--case", "C1", "--exhibit", "JS/2", "--operator", "Test Officer", src.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = a.last_seq();
    let trusted = a.sb.trusted_keys();
    let verify = a.run(&["verify", "--case", "C1", "--trusted-keys", trusted.to_str().unwrap()]);
    let text = stdout(&verify);
    let want = format!("warning: entries {}..{head} are not anchored", anchored + 1);
    assert!(text.contains(&want), "{text}");
    let json = a.run(&["verify", "--case", "C1", "--json", "--trusted-keys", trusted.to_str().unwrap()]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["anchors"]["unanchored_from"], anchored + 1, "{value}");
}

#[test]
fn get_anchors_the_access_it_records_and_refuses_an_unknown_operator() {
    let a = Anchored::new();
    assert!(a.ingest(&a.sb.sources()).status.success());
    let artefact = a.sb.show_json("C1")["artefacts"][0]["id"].as_str().unwrap().to_owned();
    let before = a.last_seq();
    let out = a.sb.exhibit().env_remove("USER").args(["get", "--case", "C1", &artefact]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--operator"), "{}", stderr(&out));
    assert_eq!(a.last_seq(), before, "nothing recorded for an unknown operator");

    let out = a.run(&["get", "--case", "C1", "--operator", "Test Officer", &artefact]);
    assert!(out.status.success(), "{}", stderr(&out));
    let head = a.last_seq();
    assert_eq!(head, before + 1, "the access is recorded");
    assert!(a.anchors().contains(&format!("{head:020}.tsr")), "the access is anchored: {:?}", a.anchors());
    assert!(stderr(&out).contains(&format!("anchored: ledger entry {head}")), "{}", stderr(&out));
}
