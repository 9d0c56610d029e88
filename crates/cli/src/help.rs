//! Examples shown after `--help`, one block per command. Each names a real
//! flag; `help_examples_parse` in the tests runs every example line through
//! the parser, so they cannot drift from the flags.

pub const MAIN: &str = "\
Examples:
  exhibit ingest --case 42AB1234520 --exhibit JS/1 --operator \"DC Jane Smith\" /media/usb-stick
  exhibit verify --case 42AB1234520
  exhibit show --case 42AB1234520 --exhibit JS/1
  exhibit completions bash > /etc/bash_completion.d/exhibit
  exhibit man > exhibit.1 && man -l exhibit.1

Exit codes: 0 ok, 1 verification failed, 2 usage or input error (for
ingest also: a file failed in a way a rerun could fix), 3 done but needs a
person: verify found the case intact but could not check everything (no
trusted keys, or anchors without a TSA CA); ingest finished but the
evidence needs attention (damaged or truncated media, media nothing could
convert, pages to review, a page count that does not match).
Data lives in ./exhibit-data (or $EXHIBIT_DATA, or --store); settings in config/exhibit.toml.";

pub const INGEST: &str = "\
Examples:
  exhibit ingest --case 42AB1234520 --exhibit JS/1 --operator \"DC Jane Smith\" /media/usb-stick
  exhibit ingest --case 42AB1234520 --exhibit JS/2 --operator \"DC Jane Smith\" interview.E01 interview.E02
  exhibit ingest --case 42AB1234520 --exhibit JS/3 --operator \"DC Jane Smith\" /dev/sr0
  exhibit ingest --case 42AB1234520 --exhibit JS/4 --operator \"DC Jane Smith\" --pages 12 scans/
  exhibit ingest --case 42AB1234520 --exhibit JS/5 --operator \"DC Jane Smith\" --json phone/ > result.json
  exhibit ingest --case 2024/00123/POL --operator \"DC Jane Smith\" --manifest desk/items.csv

A manifest (CSV with a header row, or a JSON array of objects) has one row
per exhibit: exhibit, path (relative to the manifest's folder, and staying
inside it), then any of description, seized_by, seized_at (RFC 3339 or
YYYY-MM-DD), seized_place, seal, device_make, device_model, device_serial,
pages, ocr (on/off), notes. A bad row is named by its line and the others
go ahead; the exit code is the worst row's. Case IDs and exhibit refs may
hold '/' and single spaces (2024/00123/POL, SB 1) and are compared without
regard to case (js/1 is JS/1; in exhibit refs, JS/01 is JS/1 too).

Ends with a table of the exhibit (items, originals, files found inside
images, derivatives, duplicates) and what needs attention, each line with
what to do; --json prints the same as one JSON document with every
artefact ID and its path. Exit 0 clean; 3 done, but something needs a
person (damaged or truncated evidence, media nothing could convert, pages
to review, a page count that does not match); 2 bad usage or input, or a
file failed in a way a rerun could fix (fix the cause, run the same
command again). An interrupted ingest resumes when the same command is
run again.";

pub const VERIFY: &str = "\
Examples:
  exhibit verify --case 42AB1234520
  exhibit verify --case 42AB1234520 --trusted-keys /etc/exhibit/allowed_signers
  exhibit verify --case 42AB1234520 --trusted-keys allowed_signers --expect-head 42:5f0c9a1e2b3d4c5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f
  exhibit verify --case 42AB1234520 --json > report.json
  exhibit verify --case 42AB1234520 --trusted-keys allowed_signers --report report.html
  exhibit verify --all --trusted-keys /etc/exhibit/allowed_signers

Exit 0 when every artefact is intact and every signer is trusted, 1 when
problems were found, 2 for an unknown case or store, 3 when intact but no
trusted-keys file was given (signers not checked) or anchors were found and
no TSA CA is configured (anchors not checked).";

pub const AUDIT: &str = "\
Examples:
  exhibit audit --case 42AB1234520
  exhibit audit --all --sample 20 --operator \"Jane Smith\"
  exhibit audit --case 42AB1234520 --json

Each run records a `verified` event per 1,000 objects checked. With
--sample, the objects checked longest ago go first, so five runs at 20 cover
everything. Exit 0 when every object checked is intact, 1 when any is
altered or missing (each is named), 2 for an unknown case or store.";

pub const SHOW: &str = "\
Examples:
  exhibit show --case 42AB1234520
  exhibit show --case 42AB1234520 --exhibit JS/1 --json
  exhibit show --case 42AB1234520 --flag needs-review

Prints a tree per exhibit: each original, the files found inside it, and
the copies made of them, named by what they are; --flag (repeatable) keeps
only artefacts with that flag (needs-review, damaged, deleted, truncated...).
It reads the read model ([read_model], by default .exhibit/readmodel.sqlite
in the store), brought up to the ledger's head first; delete it and it is
rebuilt. Exit 3 when the ledger has a damaged entry or a manifest it does
not record (run verify).";

pub const STATUS: &str = "\
Examples:
  exhibit status --case 42AB1234520
  exhibit status --case 42AB1234520 --json

Prints, per exhibit and recorded action, how many jobs the ledger records
as done and as failed. Exit 0 when none failed, 1 when any did, 3 when the
ledger has a damaged entry (run verify).";

pub const GET: &str = "\
Examples:
  exhibit get --case 42AB1234520 3f2a9c0e51b84d7a9e6f0c1d2b3a4f5e -o copy.bin
  exhibit get --case 42AB1234520 3f2a9c0e51b84d7a9e6f0c1d2b3a4f5e -o copy.bin --force
  exhibit get --case 42AB1234520 3f2a9c0e51b84d7a9e6f0c1d2b3a4f5e -o - | sha256sum

Every access is recorded in the case's ledger. An existing -o file needs --force.
To standard output (no -o, or -o -) the artefact is read twice: checked whole
against its SHA-256 first, written only if it matched; else nothing is written.";

pub const HASH: &str = "\
Examples:
  exhibit hash disc.iso > disc.iso.sha256 && sha256sum -c disc.iso.sha256
  exhibit hash --algorithms md5 disc.iso | md5sum -c
  exhibit hash --algorithms sha256,md5,sha1 evidence/ > SUMS && cksum -c SUMS";

pub const LISTING: &str = "\
Examples:
  exhibit listing --case 42AB1234520 --exhibit JS/2 --format dfxml > JS2.dfxml
  exhibit listing --case 42AB1234520 --exhibit JS/2 --format csv

For an exhibit of files and folders, the entries are its originals.";

pub const REPRODUCE: &str = "\
Examples:
  exhibit reproduce --case 42AB1234520 --artefact 3f2a9c0e51b84d7a9e6f0c1d2b3a4f5e";

pub const CASES: &str = "\
Examples:
  exhibit cases
  exhibit --store file:///srv/exhibit cases";

pub const INTRODUCE_KEY: &str = "\
Examples:
  exhibit introduce-key --case 42AB1234520 --public-key new_key.pub --operator \"DC Jane Smith\"

The configured (already trusted) key signs the key-added entry: that is a
key rotation that verify accepts with a trust file listing only the old key.";

pub const WORKER: &str = "\
Examples:
  exhibit worker --queue amqp://exhibit:PASS@broker:5672/exhibit --store s3://evidence/force-a \\
      --stages explore,transcode,ocr --operator \"Digitisation worker 3\"
  curl http://127.0.0.1:9464/metrics    # with --listen 127.0.0.1:9464

Each job carries its case and its ingest run; the worker opens a case on the
first job of it, checks its ledger as ingest does, and records into it. The
first SIGTERM or SIGINT stops it taking jobs and lets the jobs in hand
finish, then it exits 0; a second one exits at once, and the broker delivers
the unfinished jobs again to another worker.";

pub const SERVE: &str = "\
Examples:
  exhibit admin org add \"Force A\"
  exhibit admin token add --org \"Force A\" --role submitter --user alice > alice.token
  exhibit serve --listen 127.0.0.1:8080
  curl -H \"Authorization: Bearer $(cat alice.token)\" http://127.0.0.1:8080/v1/cases

Every request needs a token. A case belongs to the organisation that created
it; another organisation reaches it only when it is shared, read only, and
gets 404 otherwise, as for a case that does not exist. Each download is
recorded in the case's ledger as an `accessed` event naming the user, signed
with the configured key. The OpenAPI 3.1 document is at /openapi.json.";

pub const ADMIN: &str = "\
Examples:
  exhibit admin org add \"Defence LLP\"
  exhibit admin token add --org \"Defence LLP\" --role reviewer --user bob --expires 90d
  exhibit admin token revoke 3f9a0c12b4de
  exhibit admin case add --org \"Force A\" 42AB1234520

`token add` prints the token alone on stdout; it is shown once and stored
only as its SHA-256. Its ID, printed on stderr, names it for `revoke`.";

pub const SUBMIT: &str = "\
Examples:
  exhibit submit desk/items.csv --server https://exhibit.force.example --token-file ~/.exhibit-token
  exhibit submit items.json --server https://localhost:8443 --token-file t --case 42AB1234520 --ca-cert ca.pem

The manifest is an item manifest (as `ingest --manifest` reads) whose rows
each name one file in `path` and its case in `case` (or give --case);
several rows may name one exhibit. Each file is uploaded by tus with a
SHA-256 per chunk; what was sent is kept beside the manifest
(MANIFEST.exhibit-submit.json), so after an interruption the same command
resumes each upload where the server holds it and sends no finished file
again. Then the rows are submitted, case by case, and each row's result
printed. Exit 0: every row accepted and ingested; 2: some row failed (the
others went ahead), or the server could not be reached (run the same
command again). The token file must be readable by its owner only.";

pub const COMPLETIONS: &str = "\
Examples:
  exhibit completions bash > /etc/bash_completion.d/exhibit
  exhibit completions zsh > \"${fpath[1]}/_exhibit\"
  exhibit completions fish > ~/.config/fish/completions/exhibit.fish";

pub const MAN: &str = "\
Examples:
  exhibit man > /usr/local/share/man/man1/exhibit.1
  exhibit man | man -l -";

pub const EXPORT: &str = "\
Examples:
  exhibit export --case 42AB1234520 --bagit /media/out/42AB1234520 --organisation \"Example Police\"
  exhibit export --case 42AB1234520 --exhibit JS/2 --bagit JS2-bag --case-uco JS2.jsonld
  sh /media/out/42AB1234520/verify.sh allowed_signers tsa-ca.pem    # anyone, without exhibit

The bag holds the payload (SHA-256 and MD5 manifests), the whole signed
ledger, its anchors, the manifests and a path map as tag files, and
verify.sh with VERIFYING.md. The folder must be new or empty. The export is
recorded in the case's ledger.";

#[cfg(test)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::*;
    use crate::Cli;

    /// Every help text.
    const ALL: &[&str] =
        &[MAIN, INGEST, VERIFY, AUDIT, SHOW, GET, HASH, LISTING, REPRODUCE, CASES, INTRODUCE_KEY, COMPLETIONS, MAN];

    /// Splits an example line as a shell would (double quotes only), up to
    /// its first redirection or pipe.
    fn example_words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut quoted) = (Vec::new(), String::new(), false);
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' if !quoted => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
                c => word.push(c),
            }
        }
        words.push(word);
        words.into_iter().take_while(|w| !matches!(w.as_str(), ">" | "|" | "&&")).collect()
    }

    #[test]
    fn help_examples_parse() {
        let mut seen = 0;
        for text in ALL {
            for line in text.lines().filter_map(|l| l.trim().strip_prefix("exhibit ")) {
                let words = example_words(&format!("exhibit {line}"));
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("example `{line}` does not parse: {e}");
                }
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen} examples");
        // Every subcommand shows examples.
        for sub in Cli::command().get_subcommands() {
            let help = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(help.contains(&format!("exhibit {}", sub.get_name())), "{} has no example", sub.get_name());
        }
    }
}
