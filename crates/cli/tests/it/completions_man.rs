//! Shell completions (checked by loading them into bash), the man page
//! (rendered by man-db and groff) and the examples in each `--help`.

use std::process::{Command, Stdio};

use crate::common::{Sandbox, stderr};

#[test]
fn bash_completion_loads_and_knows_the_commands() {
    let sb = Sandbox::new();
    let out = sb.run(&["completions", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = sb.dir.path().join("exhibit.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // Load it, then ask bash what it would complete after `exhibit ing` and
    // `exhibit ingest --log-`.
    let probe = r#"source "$1"
complete -p exhibit
for line in "exhibit ing" "exhibit ingest --log-"; do
  COMP_WORDS=($line); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$line"; COMP_POINT=${#line}
  _exhibit exhibit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "${COMPREPLY[@]}"
done"#;
    let bash = Command::new("bash").args(["-c", probe, "probe"]).arg(&script).output().unwrap();
    let text = String::from_utf8_lossy(&bash.stdout);
    assert!(bash.status.success(), "{}{}", text, stderr(&bash));
    assert!(text.contains("-F _exhibit"), "{text}");
    assert!(text.lines().any(|l| l.trim() == "ingest"), "{text}");
    assert!(text.contains("--log-format"), "{text}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let out = sb.run(&["completions", shell]);
        assert!(out.status.success() && String::from_utf8_lossy(&out.stdout).contains("ingest"), "{shell}");
    }
    assert_eq!(sb.run(&["completions", "tcsh"]).status.code(), Some(2));
}

#[test]
fn the_man_page_renders_without_warnings() {
    let sb = Sandbox::new();
    for page in [&["man"][..], &["man", "ingest"][..]] {
        let out = sb.run(page);
        assert!(out.status.success(), "{}", stderr(&out));
        let roff = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(roff.starts_with(".ie") || roff.contains(".TH"), "{roff}");
        let file = sb.dir.path().join("exhibit.1");
        std::fs::write(&file, &out.stdout).unwrap();
        let man = Command::new("man")
            .args(["-l", "--warnings"])
            .arg(&file)
            .env("MANWIDTH", "100")
            .env_remove("MAN_KEEP_FORMATTING")
            .stdin(Stdio::null())
            .output();
        let Ok(man) = man else {
            // Without man-db, check the roff structure directly.
            for section in [".TH", ".SH NAME", ".SH SYNOPSIS", ".SH OPTIONS"] {
                assert!(roff.contains(section), "{section} missing");
            }
            continue;
        };
        assert!(man.status.success(), "{}", stderr(&man));
        assert_eq!(stderr(&man), "", "groff warned");
        let text = String::from_utf8_lossy(&man.stdout).replace(['\u{2010}', '\u{2212}'], "-");
        // groff justifies lines with extra spaces, where depends on the page.
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for needle in ["NAME", "SYNOPSIS", "--quiet", "--log-format", "Examples:", "exhibit ingest"] {
            assert!(text.contains(needle), "{needle} missing from {page:?}: {text}");
        }
    }
    assert_eq!(sb.run(&["man", "nosuch"]).status.code(), Some(2));
}

#[test]
fn every_subcommand_help_shows_examples() {
    let sb = Sandbox::new();
    for sub in
        ["ingest", "verify", "show", "get", "hash", "listing", "reproduce", "cases", "completions", "man", "export"]
    {
        let out = sb.run(&[sub, "--help"]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Examples:") && text.contains(&format!("exhibit {sub}")), "{sub}: {text}");
    }
}
