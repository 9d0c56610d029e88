//! How explore keeps the files it finds: as views into the stored image
//! (the default: no second copy is written), or as copies. Set per media
//! type of the file where a user wants copies of some kinds only.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How an extracted file's content is kept.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StoreMode {
    /// A view: the image plus the file's runs. Files whose content is not
    /// plain runs of the image (resident data, E01 or cue media) are
    /// copied whatever this says.
    #[default]
    View,
    /// A copy of the content as its own object.
    Copy,
}

/// `[explore]` in config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ExplorePolicy {
    /// The mode for every file no override names.
    pub store: StoreMode,
    /// Modes by the file's media type: an exact MIME type
    /// (`"video/mpeg"`) or a whole top-level type (`"video/*"`).
    pub store_by_type: BTreeMap<String, StoreMode>,
}

impl ExplorePolicy {
    /// The mode for a file of media type `mime`: an exact override, else
    /// its top-level type's, else the default.
    pub fn mode_for(&self, mime: &str) -> StoreMode {
        let top = mime.split_once('/').map(|(t, _)| format!("{t}/*"));
        self.store_by_type
            .get(mime)
            .or_else(|| top.and_then(|t| self.store_by_type.get(&t)))
            .copied()
            .unwrap_or(self.store)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_pick_exact_then_top_level_then_default() {
        let policy: ExplorePolicy =
            toml_like(r#"{"store":"view","store_by_type":{"video/*":"copy","video/mpeg":"view"}}"#);
        assert_eq!(policy.mode_for("video/mpeg"), StoreMode::View);
        assert_eq!(policy.mode_for("video/x-msvideo"), StoreMode::Copy);
        assert_eq!(policy.mode_for("text/plain"), StoreMode::View);
        assert_eq!(ExplorePolicy::default().mode_for("anything"), StoreMode::View);
        let copy: ExplorePolicy = toml_like(r#"{"store":"copy"}"#);
        assert_eq!(copy.mode_for("text/plain"), StoreMode::Copy);
    }

    fn toml_like(json: &str) -> ExplorePolicy {
        serde_json::from_str(json).unwrap()
    }
}
