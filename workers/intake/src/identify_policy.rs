//! `[identify]` in config: which identification steps run.

use serde::{Deserialize, Serialize};

/// What identification runs on each file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IdentifyPolicy {
    /// Match PRONOM signatures and record PUIDs (`media_type.pronom`). Off,
    /// no PUIDs are recorded and files are typed by infer, libavformat and
    /// the text check alone (a format only PRONOM knows, and that is not
    /// audio or video, is then `application/octet-stream`).
    pub pronom: bool,
}

impl Default for IdentifyPolicy {
    fn default() -> Self {
        Self { pronom: true }
    }
}
