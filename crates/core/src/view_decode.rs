//! Bases whose bytes are decoded before a view's runs address them: the
//! media an E01 set holds, and the user data of a CD data track in a `.bin`.
//! The runs of such a view are offsets in the decoded bytes, so a file on
//! an E01 or a cue track is a view like a file on a raw image.

use std::io;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::digest::Sha256Digest;
use crate::ids::ArtefactId;
use crate::read_at::ReadAt;

/// User data bytes in each sector of a CD data track (mode 1, mode 2 form 1).
pub const CD_USER_BYTES: u64 = 2048;
/// The most segments an E01 set may have (`E01..E99`, `EAA..ZZZ`).
pub const MAX_EWF_SEGMENTS: usize = 14_971;

/// A stored artefact a decoded base reads besides the base artefact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaseMember {
    /// The member artefact.
    pub artefact: ArtefactId,
    /// Its content hash.
    pub sha256: Sha256Digest,
    /// Its size in bytes.
    pub size: u64,
}

/// How a base's stored bytes become the bytes the runs address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum BaseDecode {
    /// The media an E01 set holds, read through chunk reads that check
    /// every chunk's checksum. The base artefact is the first segment;
    /// `segments` are the later ones, in order.
    Ewf {
        /// Segments 2, 3, ... of the set.
        segments: Vec<BaseMember>,
        /// Bytes of media the set holds (less than it declares when a
        /// later segment is missing or cut).
        media_size: u64,
    },
    /// The user data of a CD data track: byte `i` is byte
    /// `start + (i / 2048) * sector_size + user_offset + i % 2048` of the
    /// base artefact (a `.bin`), for `sectors` sectors.
    CdSectors {
        /// Where the track's first sector starts in the `.bin`.
        start: u64,
        /// Raw bytes per sector (2048, 2336 or 2352).
        sector_size: u64,
        /// Where the user data starts within a sector.
        user_offset: u64,
        /// Sectors in the track.
        sectors: u64,
    },
}

impl BaseDecode {
    /// Bytes the decoded base holds, or why the record cannot be right for
    /// a base artefact of `stored` bytes.
    pub fn decoded_size(&self, stored: u64) -> Result<u64, String> {
        match self {
            Self::Ewf { segments, media_size } => {
                if segments.len() >= MAX_EWF_SEGMENTS {
                    return Err(format!("{} E01 segments, more than a set may have", segments.len() + 1));
                }
                Ok(*media_size)
            }
            Self::CdSectors { start, sector_size, user_offset, sectors } => {
                let fits = user_offset.checked_add(CD_USER_BYTES).is_some_and(|end| end <= *sector_size);
                let raw_end = sectors.checked_mul(*sector_size).and_then(|len| len.checked_add(*start));
                match raw_end {
                    Some(end) if fits && end <= stored => Ok(sectors * CD_USER_BYTES),
                    _ => Err(format!(
                        "{sectors} sectors of {sector_size} bytes (user data at {user_offset}) from byte {start} \
                         do not fit the {stored}-byte track file"
                    )),
                }
            }
        }
    }
}

/// The user data of a CD data track as one medium.
pub struct CdSectorsAt {
    raw: Arc<dyn ReadAt>,
    start: u64,
    sector_size: u64,
    user_offset: u64,
    size: u64,
}

impl CdSectorsAt {
    /// The user data of `sectors` sectors of `sector_size` bytes from byte
    /// `start` of `raw`, each at `user_offset` within its sector. Reads past
    /// the end of `raw` come back short, as from a file cut short.
    pub fn new(raw: Arc<dyn ReadAt>, start: u64, sector_size: u64, user_offset: u64, sectors: u64) -> Self {
        let sane = user_offset.saturating_add(CD_USER_BYTES) <= sector_size;
        let size = if sane { sectors.saturating_mul(CD_USER_BYTES) } else { 0 };
        Self { raw, start, sector_size, user_offset, size }
    }
}

impl ReadAt for CdSectorsAt {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let mut done = 0usize;
        while done < buf.len() {
            let pos = offset.saturating_add(done as u64);
            if pos >= self.size {
                break;
            }
            let (sector, within) = (pos / CD_USER_BYTES, pos % CD_USER_BYTES);
            let n = usize::try_from(CD_USER_BYTES - within).unwrap_or(usize::MAX).min(buf.len() - done);
            // `size` bounds `sector`, and `new` kept the offsets sane, but a
            // huge `start` may still overflow: that reads as the end.
            let Some(at) = sector
                .checked_mul(self.sector_size)
                .and_then(|s| s.checked_add(self.start))
                .and_then(|s| s.checked_add(self.user_offset + within))
            else {
                break;
            };
            let got = self.raw.read_at(at, &mut buf[done..done + n])?;
            if got == 0 {
                break;
            }
            done += got;
        }
        Ok(done)
    }

    fn size(&self) -> u64 {
        self.size
    }
}
