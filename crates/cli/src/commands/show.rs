//! `exhibit show`: the artefacts of a case, from their manifests, and the
//! failures its ledger records.

use std::process::ExitCode;

use exhibit_core::event::{Action, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::layout::{manifests_prefix, parse_manifest_name};
use exhibit_core::manifest::ArtefactManifest;
use serde::Serialize;

use crate::config::Config;
use crate::session::{case_events, open_existing_store};
use crate::terminal::{escape_message, escape_name};

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Case ID.
    #[arg(long)]
    case: CaseId,
    /// Only this exhibit.
    #[arg(long)]
    exhibit: Option<ExhibitRef>,
    /// Write JSON instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Serialize)]
struct Failure {
    seq_hint: usize,
    exhibit: Option<ExhibitRef>,
    reason: String,
    input: serde_json::Value,
}

#[derive(Debug, Serialize)]
struct Listing {
    case: CaseId,
    artefacts: Vec<ArtefactManifest>,
    failures: Vec<Failure>,
    /// Images that hold less than they declare, and the files they cut.
    truncated: Vec<serde_json::Value>,
}

pub async fn run(args: ShowArgs, config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    let mut artefacts = Vec::new();
    for meta in store.list(&manifests_prefix(&args.case)).await? {
        let name = meta.key.as_str().rsplit('/').next().unwrap_or_default();
        if parse_manifest_name(name).is_none() {
            continue;
        }
        let bytes = exhibit_store::read_small(store.as_ref(), &meta.key, 1 << 20).await?;
        match serde_json::from_slice::<ArtefactManifest>(&bytes) {
            Ok(m) if args.exhibit.as_ref().is_none_or(|e| *e == m.exhibit) => artefacts.push(m),
            Ok(_) => {}
            Err(e) => eprintln!(
                "exhibit: manifest {} does not parse ({}); run `exhibit verify --case {}`",
                meta.key,
                escape_message(&e.to_string()),
                args.case
            ),
        }
    }
    artefacts.sort_by(|a, b| {
        (&a.exhibit, &a.source.as_ref().map(|s| &s.path.display))
            .cmp(&(&b.exhibit, &b.source.as_ref().map(|s| &s.path.display)))
    });
    let failures = failures(store.as_ref(), &args).await?;
    let truncated = truncated(store.as_ref(), &args).await?;
    let listing = Listing { case: args.case, artefacts, failures, truncated };
    if args.json {
        println!("{}", serde_json::to_string_pretty(&listing)?);
    } else {
        print_text(&listing);
    }
    Ok(ExitCode::SUCCESS)
}

async fn failures(store: &dyn exhibit_store::ObjectStore, args: &ShowArgs) -> anyhow::Result<Vec<Failure>> {
    let events = case_events(store, &args.case).await?;
    Ok(events
        .into_iter()
        .enumerate()
        .filter(|(_, e)| {
            e.action == Action::Failed && args.exhibit.as_ref().is_none_or(|x| e.exhibit.as_ref() == Some(x))
        })
        .filter_map(|(i, e)| match e.outcome {
            Outcome::Failed { reason } => Some(Failure {
                seq_hint: i + 1,
                exhibit: e.exhibit,
                reason,
                input: e.params.get("input").cloned().unwrap_or_default(),
            }),
            Outcome::Ok => None,
        })
        .collect())
}

async fn truncated(store: &dyn exhibit_store::ObjectStore, args: &ShowArgs) -> anyhow::Result<Vec<serde_json::Value>> {
    let mut events = case_events(store, &args.case).await?;
    events.retain(|e| args.exhibit.as_ref().is_none_or(|x| e.exhibit.as_ref() == Some(x)));
    Ok(super::truncation::truncation_notes(&events))
}

fn print_text(listing: &Listing) {
    println!("case {}: {} artefact(s)", listing.case, listing.artefacts.len());
    for m in &listing.artefacts {
        let path = match (&m.source, &m.inside, &m.derivation) {
            (Some(s), _, _) => s.path.display.clone(),
            (_, Some(i), _) => format!("{} (in {} volume at byte {})", i.path.display, i.volume.fs, i.volume.offset),
            (_, _, Some(d)) => format!("(rule {}, policy {})", d.rule, d.policy_version),
            _ => "-".to_owned(),
        };
        println!("{}  {:?}  {}  {}", m.id, m.kind, m.exhibit, escape_name(&path));
        println!("    size {}  type {}{}", m.size, m.media_type.mime, pronom_text(&m.media_type));
        println!("    sha256 {}", m.digests.sha256);
        if let Some(md5) = m.digests.md5 {
            println!("    md5    {md5}");
        }
        if let Some(sha1) = m.digests.sha1 {
            println!("    sha1   {sha1}");
        }
        if let Some(parent) = &m.parent {
            println!("    parent {}", parent.id);
        }
        if !m.flags.is_empty() {
            println!("    flags  {}", m.flags.join(", "));
        }
    }
    for f in &listing.failures {
        println!("failed: {}", escape_message(&f.reason));
    }
    for t in &listing.truncated {
        println!("truncated: {}", t["text"].as_str().unwrap_or_default());
    }
}

/// `  PRONOM fmt/43 (JPEG File Interchange Format 1.01)`, and a note when the
/// name's extension does not fit, or nothing.
fn pronom_text(media: &exhibit_core::manifest::MediaType) -> String {
    let mut out = String::new();
    if let Some(p) = &media.pronom {
        let version = p.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
        out.push_str(&format!("  PRONOM {} ({}{version})", p.puid, p.name));
    }
    if let Some(text) = &media.extension_mismatch {
        out.push_str(&format!("  extension mismatch: {}", escape_name(text)));
    }
    out
}
