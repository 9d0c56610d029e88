//! Per-organisation case namespaces. A case has a storage ID (the
//! [`CaseId`] the store, the ledger, the read model and the CLI use) and
//! the name its owner organisation gave it; names are unique per owner.
//! API clients know cases only by name: a name resolves in the caller's
//! organisation to its own case of that name, else to the one case of that
//! name shared with it, or to the shared case of the owner it names.
//!
//! A new case is stored under its name when no case and no ledger holds
//! that ID, else under [`fresh_case_id`]; which it was is never told to the
//! client, so a create says nothing of what other organisations hold.

use exhibit_core::ids::CaseId;
use rand_core::{OsRng, RngCore};

use super::{AccessState, CaseAccess, OrgId, VisibleCase};
use crate::error::Result;

/// What a name means to an organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// That case.
    Found(VisibleCase),
    /// No case of that name that the organisation can see.
    NotFound,
    /// Several shared cases carry the name and the organisation owns none
    /// of that name: the owners to choose from (all of them visible to it).
    Ambiguous(Vec<String>),
}

/// Picks the case `name` means among `candidates` (what
/// [`AccessState::cases_named`] found): the one of `owner` when given (an
/// organisation name, letter case not counting), else the caller's own,
/// else the one shared case.
pub fn resolve(candidates: Vec<VisibleCase>, owner: Option<&str>) -> Resolved {
    let mut candidates = candidates;
    if let Some(owner) = owner {
        let key = super::sql::name_key(owner);
        candidates.retain(|c| super::sql::name_key(&c.owner) == key);
    }
    if let Some(own) = candidates.iter().position(|c| c.access == CaseAccess::Owner) {
        return Resolved::Found(candidates.swap_remove(own));
    }
    match candidates.len() {
        0 => Resolved::NotFound,
        1 => candidates.pop().map_or(Resolved::NotFound, Resolved::Found),
        _ => Resolved::Ambiguous(candidates.into_iter().map(|c| c.owner).collect()),
    }
}

/// The case `name` means to `org` ([`resolve`] over what the state holds).
pub async fn resolve_case(state: &dyn AccessState, name: &CaseId, org: OrgId, owner: Option<&str>) -> Result<Resolved> {
    Ok(resolve(state.cases_named(name, org).await?, owner))
}

/// The case `org` itself calls `name`, if any.
pub async fn own_case(state: &dyn AccessState, name: &CaseId, org: OrgId) -> Result<Option<VisibleCase>> {
    let found = state.cases_named(name, org).await?;
    Ok(found.into_iter().find(|c| c.access == CaseAccess::Owner))
}

/// Hex digits of randomness in a fresh storage ID (64 bits).
const RANDOM_HEX: usize = 16;
/// The longest case ID.
const MAX_CASE_ID: usize = 64;

/// A new storage ID for a case named `name` whose own ID is taken: the
/// name cut to fit, `-` and 64 random bits in hex (`2024/00123/POL-9f...`),
/// so an operator listing the store still sees whose case it was meant to
/// be. Always a valid, portable [`CaseId`]; the caller retries on a clash.
pub fn fresh_case_id(name: &CaseId) -> CaseId {
    let mut bytes = [0u8; RANDOM_HEX / 2];
    OsRng.fill_bytes(&mut bytes);
    let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    // Case IDs are ASCII, so any byte count is a character boundary.
    let keep = name.as_str().len().min(MAX_CASE_ID - RANDOM_HEX - 1);
    let stem = name.as_str()[..keep].trim_end_matches(['/', ' ']);
    let candidate = format!("{stem}-{random}");
    match candidate.parse::<CaseId>() {
        Ok(id) if id.non_portable().is_none() => id,
        // Not expected (a stem of a valid ID is one); a plain ID is valid.
        _ => plain_id(&random),
    }
}

fn plain_id(random: &str) -> CaseId {
    format!("case-{random}").parse().unwrap_or_else(|_| unreachable!("letters, digits and '-' make a case ID"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(text: &str) -> CaseId {
        text.parse().unwrap()
    }

    fn visible(name: &str, owner: &str, access: CaseAccess) -> VisibleCase {
        VisibleCase {
            case: case(&format!("{name}-{owner}").replace(' ', "")),
            name: case(name),
            owner: owner.into(),
            access,
        }
    }

    #[test]
    fn fresh_ids_are_valid_distinct_and_start_with_the_name() {
        for name in ["2024/00123/POL", "A", &"x".repeat(64), &format!("{}/{}", "a".repeat(46), "b".repeat(17))] {
            let (one, two) = (fresh_case_id(&case(name)), fresh_case_id(&case(name)));
            assert_ne!(one, two);
            assert!(one.as_str().len() <= 64, "{one}");
            assert!(one.non_portable().is_none());
            let stem = one.as_str().rsplit_once('-').unwrap().0;
            assert!(name.starts_with(stem.trim_end_matches('/')), "{one} from {name}");
        }
        let cut_at_slash = fresh_case_id(&case(&format!("{}/b", "a".repeat(47))));
        assert!(!cut_at_slash.as_str().contains("/-"), "{cut_at_slash}");
    }

    #[test]
    fn own_first_then_the_one_shared_then_ambiguous_unless_an_owner_is_named() {
        let own = visible("C1", "Force B", CaseAccess::Owner);
        let a = visible("C1", "Force A", CaseAccess::Shared);
        let c = visible("C1", "Force C", CaseAccess::Shared);
        let all = vec![a.clone(), own.clone(), c.clone()];
        assert_eq!(resolve(all.clone(), None), Resolved::Found(own.clone()));
        assert_eq!(resolve(all.clone(), Some("force a")), Resolved::Found(a.clone()));
        assert_eq!(resolve(all.clone(), Some("Force B")), Resolved::Found(own));
        assert_eq!(resolve(all, Some("Force Z")), Resolved::NotFound);
        let shared = vec![a.clone(), c.clone()];
        assert_eq!(resolve(shared.clone(), None), Resolved::Ambiguous(vec!["Force A".into(), "Force C".into()]));
        assert_eq!(resolve(shared, Some("Force C")), Resolved::Found(c));
        assert_eq!(resolve(vec![a.clone()], None), Resolved::Found(a));
        assert_eq!(resolve(Vec::new(), None), Resolved::NotFound);
    }
}
