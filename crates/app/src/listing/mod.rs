//! The `listing` use case: every entry found on an exhibit's images, from
//! the listings explore stored, as [`ListingLine`]s streamed one at a time
//! (a disk image can hold millions of entries), with the image paths and
//! the exhibit's latest item-manifest row. An exhibit of files and folders
//! lists its originals instead. Rendering (DFXML, CSV, JSON) is the
//! caller's.

mod folder;

use std::io::{BufRead, BufReader, Lines};

use exhibit_core::Sha256Digest;
use exhibit_core::event::{Action, CustodyEvent, Outcome};
use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_core::item::ItemRecord;
use exhibit_core::layout::object_key;
use exhibit_core::params::EventParams;
use exhibit_custody::LedgerSnapshot;
use exhibit_intake::explore::listing::ListingLine;
use exhibit_store::{ObjectStore, VerifyingReader};
use tracing::instrument;

use crate::{AppError, Result};

/// An exhibit's listing, read lazily: [`ExhibitListing::next_line`] gives
/// the lines of each stored listing in turn, re-hashed as they are read.
pub struct ExhibitListing<'a> {
    /// The path of each image listed, in order.
    pub images: Vec<String>,
    /// The exhibit's metadata from the latest item-manifest row.
    pub item: Option<ItemRecord>,
    store: &'a dyn ObjectStore,
    case: CaseId,
    folder: std::vec::IntoIter<ListingLine>,
    stored: std::vec::IntoIter<Sha256Digest>,
    current: Option<(Sha256Digest, Lines<BufReader<VerifyingReader>>)>,
}

/// The listing of `exhibit`, reading the case's ledger once; `None` when
/// the exhibit holds nothing.
#[instrument(skip(store), fields(case = %case, exhibit = %exhibit))]
pub async fn listing<'a>(
    store: &'a dyn ObjectStore,
    case: &CaseId,
    exhibit: &ExhibitRef,
) -> Result<Option<ExhibitListing<'a>>> {
    let snapshot = LedgerSnapshot::read(store, case).await?;
    let events: Vec<CustodyEvent> = snapshot.events().map(|(_, e)| e.clone()).collect();
    drop(snapshot);
    ExhibitListing::from_events(store, &events, case, exhibit).await
}

impl<'a> ExhibitListing<'a> {
    /// The listing of `exhibit` from the case's events, already read (by
    /// `export`, say); `None` when the exhibit holds nothing.
    pub async fn from_events(
        store: &'a dyn ObjectStore,
        events: &[CustodyEvent],
        case: &CaseId,
        exhibit: &ExhibitRef,
    ) -> Result<Option<Self>> {
        let stored = stored_listings(events, exhibit);
        // An exhibit of files and folders has no image listing: its
        // originals are its entries.
        let folder = match stored.is_empty() {
            true => folder::originals_as_listing(store, case, exhibit).await?,
            false => Vec::new(),
        };
        if stored.is_empty() && folder.is_empty() {
            return Ok(None);
        }
        Ok(Some(Self {
            images: stored.iter().map(|(path, _)| path.clone()).collect(),
            item: latest_item(events, exhibit),
            store,
            case: case.clone(),
            folder: folder.into_iter(),
            stored: stored.into_iter().map(|(_, sha256)| sha256).collect::<Vec<_>>().into_iter(),
            current: None,
        }))
    }

    /// The next line, or `None` after the last. A stored listing that
    /// fails its hash check, or a line that does not parse, is an error.
    pub async fn next_line(&mut self) -> Result<Option<ListingLine>> {
        if let Some(line) = self.folder.next() {
            return Ok(Some(line));
        }
        loop {
            if let Some((sha256, lines)) = &mut self.current {
                if let Some(line) = lines.next() {
                    return parse_line(*sha256, line).map(Some);
                }
                self.current = None;
            }
            let Some(sha256) = self.stored.next() else { return Ok(None) };
            let reader = self.store.get(&object_key(&self.case, &sha256), Some(sha256)).await?;
            self.current = Some((sha256, BufReader::new(reader).lines()));
        }
    }
}

fn parse_line(sha256: Sha256Digest, line: std::io::Result<String>) -> Result<ListingLine> {
    let line = line.map_err(|e| AppError::Unreadable {
        what: format!("the stored listing {sha256} failed its hash check or could not be read"),
        source: Box::new(e),
    })?;
    serde_json::from_str(&line).map_err(|e| AppError::Unreadable {
        what: "a stored listing line does not parse; run `exhibit verify`".to_owned(),
        source: Box::new(e),
    })
}

/// The exhibit's metadata from the latest item manifest row describing it.
fn latest_item(events: &[CustodyEvent], exhibit: &ExhibitRef) -> Option<ItemRecord> {
    events
        .iter()
        .rev()
        .filter(|e| e.action == Action::Described && e.outcome == Outcome::Ok && e.exhibit.as_ref() == Some(exhibit))
        .find_map(|e| e.described_params()?.item_record())
}

/// Listings recorded by successful `explored` events of this exhibit, with
/// the path of the image each describes.
fn stored_listings(events: &[CustodyEvent], exhibit: &ExhibitRef) -> Vec<(String, Sha256Digest)> {
    events
        .iter()
        .filter(|e| e.action == Action::Explored && e.outcome == Outcome::Ok && e.exhibit.as_ref() == Some(exhibit))
        .filter_map(|e| {
            let artefact = e.artefact.as_ref()?;
            let image = e.inputs.first()?;
            let image_path = events
                .iter()
                .filter(|a| a.action == Action::Acquired || a.action == Action::Extracted)
                .find(|a| a.artefact.as_ref().and_then(|x| x.id.as_ref()) == Some(&image.id))
                .and_then(|a| match a.typed_params().ok()? {
                    EventParams::Acquired(p) => p.source_display().map(str::to_owned),
                    EventParams::Extracted(p) => p.facts?.pointer("/source/path/display")?.as_str().map(str::to_owned),
                    _ => None,
                })
                .unwrap_or_else(|| image.id.to_string());
            Some((image_path, artefact.sha256))
        })
        .collect()
}
