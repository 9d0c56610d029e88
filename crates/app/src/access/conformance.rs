//! The suite every [`AccessState`] backend must pass (SQLite and
//! PostgreSQL). Each check takes a fresh, empty state and panics with what
//! broke, like a test.

use time::{Duration, OffsetDateTime};

use super::names::{Resolved, resolve_case};
use super::{AccessState, CaseAccess, CaseClaim, IssuedToken, OrgId, Role, TokenRefusal, authenticate};
use crate::AppError;
use exhibit_core::ids::CaseId;

/// Runs every check on `make()`'s states, one fresh state per check.
pub async fn run_all<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Box<dyn AccessState>>,
{
    orgs_are_unique_without_regard_to_case(make().await.as_ref()).await;
    users_keep_their_role(make().await.as_ref()).await;
    tokens_authenticate_expire_and_revoke(make().await.as_ref()).await;
    cases_belong_to_one_org(make().await.as_ref()).await;
    shares_are_read_only_and_revocable(make().await.as_ref()).await;
    names_are_per_organisation(make().await.as_ref()).await;
    shared_names_resolve_by_owner(make().await.as_ref()).await;
    hostile_names_are_refused_or_kept_exactly(make().await.as_ref()).await;
    passwords_name_one_user_and_can_change(make().await.as_ref()).await;
    tokens_are_found_by_id(make().await.as_ref()).await;
    user_by_id_finds_the_user_with_org_and_role(make().await.as_ref()).await;
    crate::intake::conformance::run_all(&make).await;
}

async fn user_by_id_finds_the_user_with_org_and_role(state: &dyn AccessState) {
    let org = state.add_org("A").await.unwrap();
    let user = state.user(&org, "alice", Role::Submitter).await.unwrap();
    assert_eq!(state.user_by_id(user.id).await.unwrap(), Some(user.clone()));
    assert_eq!(state.user_by_id(user.id + 1000).await.unwrap(), None);
}

fn case(text: &str) -> CaseId {
    text.parse().expect("a valid case ID")
}

async fn orgs_are_unique_without_regard_to_case(state: &dyn AccessState) {
    assert!(state.orgs().await.unwrap().is_empty());
    let force = state.add_org("Force A").await.unwrap();
    assert!(matches!(state.add_org("force a").await, Err(AppError::Taken { .. })));
    assert_eq!(state.org("FORCE A").await.unwrap(), Some(force.clone()));
    assert_eq!(state.org("Force B").await.unwrap(), None);
    let defence = state.add_org("Defence LLP").await.unwrap();
    assert_eq!(state.orgs().await.unwrap(), vec![defence, force]);
}

async fn users_keep_their_role(state: &dyn AccessState) {
    let a = state.add_org("A").await.unwrap();
    let b = state.add_org("B").await.unwrap();
    let alice = state.user(&a, "alice", Role::Submitter).await.unwrap();
    assert_eq!(state.user(&a, "alice", Role::Submitter).await.unwrap(), alice, "the same user again");
    assert!(matches!(state.user(&a, "alice", Role::Admin).await, Err(AppError::Taken { .. })));
    let other = state.user(&b, "alice", Role::Reviewer).await.unwrap();
    assert_ne!(other.id, alice.id, "users are per organisation");
    assert_eq!(other.org, b);
}

async fn tokens_authenticate_expire_and_revoke(state: &dyn AccessState) {
    let org = state.add_org("A").await.unwrap();
    let user = state.user(&org, "alice", Role::Reviewer).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let (lasting, expiring) = (IssuedToken::generate(), IssuedToken::generate());
    state.add_token(&user, &lasting, None).await.unwrap();
    state.add_token(&user, &expiring, Some(now + Duration::hours(1))).await.unwrap();

    let found = authenticate(state, &lasting.text, now).await.unwrap().unwrap();
    assert_eq!((found.id.as_str(), &found.user), (lasting.id.as_str(), &user));
    assert!(authenticate(state, &expiring.text, now).await.unwrap().is_ok());
    let later = now + Duration::hours(2);
    assert_eq!(authenticate(state, &expiring.text, later).await.unwrap(), Err(TokenRefusal::Expired));
    let unknown = IssuedToken::generate();
    assert_eq!(authenticate(state, &unknown.text, now).await.unwrap(), Err(TokenRefusal::Unknown));
    assert_eq!(authenticate(state, "Bearer junk", now).await.unwrap(), Err(TokenRefusal::Unknown));
    // The stored hash alone is no token.
    assert_eq!(authenticate(state, &lasting.hash.0, now).await.unwrap(), Err(TokenRefusal::Unknown));

    assert!(state.revoke_token(&lasting.id, now).await.unwrap());
    assert!(state.revoke_token(&lasting.id, later).await.unwrap(), "revoking again is no error");
    let record = state.token(&lasting.hash).await.unwrap().unwrap();
    assert_eq!(record.revoked_at.map(|t| t.unix_timestamp()), Some(now.unix_timestamp()), "the first time stays");
    assert_eq!(authenticate(state, &lasting.text, now).await.unwrap(), Err(TokenRefusal::Revoked));
    assert!(!state.revoke_token("000000000000", now).await.unwrap());
    assert!(authenticate(state, &expiring.text, now).await.unwrap().is_ok(), "the other token still works");
}

/// How `org` reaches the case it calls `name`, as (storage ID, access).
async fn reach(state: &dyn AccessState, name: &str, org: OrgId) -> Option<(String, CaseAccess)> {
    match resolve_case(state, &case(name), org, None).await.unwrap() {
        Resolved::Found(c) => Some((c.case.to_string(), c.access)),
        Resolved::NotFound => None,
        Resolved::Ambiguous(owners) => panic!("{name} is ambiguous: {owners:?}"),
    }
}

async fn cases_belong_to_one_org(state: &dyn AccessState) {
    let a = state.add_org("A").await.unwrap();
    let b = state.add_org("B").await.unwrap();
    let typed = case("2024/00123/POL");
    assert_eq!(state.add_case(&typed, &typed, a.id).await.unwrap(), CaseClaim::Created);
    let lower = case("2024/00123/pol");
    assert_eq!(state.add_case(&lower, &lower, a.id).await.unwrap(), CaseClaim::AlreadyOwned);
    let mixed = case("2024/00123/Pol");
    assert_eq!(state.add_case(&mixed, &mixed, b.id).await.unwrap(), CaseClaim::IdTaken);
    assert_eq!(reach(state, "2024/00123/pol", a.id).await, Some(("2024/00123/POL".into(), CaseAccess::Owner)));
    assert_eq!(reach(state, "2024/00123/POL", b.id).await, None);
    assert_eq!(reach(state, "NOSUCH", a.id).await, None);
    state.add_case(&case("B1"), &case("B1"), b.id).await.unwrap();
    let listed: Vec<String> = state.visible_cases(a.id).await.unwrap().iter().map(|c| c.case.to_string()).collect();
    assert_eq!(listed, ["2024/00123/POL"]);
}

async fn names_are_per_organisation(state: &dyn AccessState) {
    let a = state.add_org("Force A").await.unwrap();
    let b = state.add_org("Force B").await.unwrap();
    let name = case("2024/00123/POL");
    state.add_case(&name, &name, a.id).await.unwrap();
    let stored = case("2024/00123/POL-0123456789abcdef");
    assert_eq!(state.add_case(&stored, &name, b.id).await.unwrap(), CaseClaim::Created, "B's own namespace");
    assert_eq!(state.add_case(&stored, &name, b.id).await.unwrap(), CaseClaim::AlreadyOwned);
    let other = case("OTHER-1");
    assert_eq!(state.add_case(&other, &case("2024/00123/pol"), b.id).await.unwrap(), CaseClaim::NameInUse);
    assert_eq!(reach(state, "2024/00123/pol", a.id).await, Some(("2024/00123/POL".into(), CaseAccess::Owner)));
    assert_eq!(reach(state, "2024/00123/POL", b.id).await, Some((stored.to_string(), CaseAccess::Owner)));
    assert_eq!(reach(state, stored.as_str(), b.id).await, None, "a storage ID is no name");
    let seen = state.visible_cases(b.id).await.unwrap();
    assert_eq!((seen.len(), seen[0].name.as_str(), seen[0].case.as_str()), (1, name.as_str(), stored.as_str()));
    let all: Vec<(String, String, String)> = state
        .all_cases()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.case.to_string(), c.owner, c.name.to_string()))
        .collect();
    let row = |id: &str, owner: &str| (id.to_owned(), owner.to_owned(), name.to_string());
    assert_eq!(all, [row("2024/00123/POL", "Force A"), row(stored.as_str(), "Force B")]);
}

async fn shared_names_resolve_by_owner(state: &dyn AccessState) {
    let a = state.add_org("Force A").await.unwrap();
    let b = state.add_org("Force B").await.unwrap();
    let defence = state.add_org("Defence").await.unwrap();
    let name = case("C1");
    let (a_id, b_id) = (case("C1"), case("C1-00000000000000bb"));
    state.add_case(&a_id, &name, a.id).await.unwrap();
    state.add_case(&b_id, &name, b.id).await.unwrap();
    // Shared with an organisation that has its own case of that name.
    assert!(state.share(&a_id, a.id, b.id).await.unwrap());
    assert_eq!(reach(state, "C1", b.id).await, Some((b_id.to_string(), CaseAccess::Owner)), "its own first");
    match resolve_case(state, &name, b.id, Some("force a")).await.unwrap() {
        Resolved::Found(c) => {
            assert_eq!((c.case, c.access, c.owner.as_str()), (a_id.clone(), CaseAccess::Shared, "Force A"))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(state.visible_cases(b.id).await.unwrap().len(), 2);
    // Two shared cases of one name: the owner must be named.
    assert!(state.share(&a_id, a.id, defence.id).await.unwrap());
    assert_eq!(reach(state, "C1", defence.id).await, Some((a_id.to_string(), CaseAccess::Shared)));
    assert!(state.share(&b_id, b.id, defence.id).await.unwrap());
    let found = resolve_case(state, &name, defence.id, None).await.unwrap();
    assert_eq!(found, Resolved::Ambiguous(vec!["Force A".into(), "Force B".into()]));
    match resolve_case(state, &name, defence.id, Some("Force B")).await.unwrap() {
        Resolved::Found(c) => assert_eq!(c.case, b_id),
        other => panic!("{other:?}"),
    }
    assert!(state.unshare(&b_id, b.id, defence.id).await.unwrap());
    assert_eq!(reach(state, "C1", defence.id).await, Some((a_id.to_string(), CaseAccess::Shared)));
}

async fn shares_are_read_only_and_revocable(state: &dyn AccessState) {
    let force = state.add_org("Force").await.unwrap();
    let other = state.add_org("Other force").await.unwrap();
    let defence = state.add_org("Defence").await.unwrap();
    let c = case("42AB1234520");
    state.add_case(&c, &c, force.id).await.unwrap();
    assert!(!state.share(&c, other.id, defence.id).await.unwrap(), "only the owner shares");
    assert!(matches!(state.share(&c, force.id, force.id).await, Err(AppError::Invalid { .. })));
    assert!(state.share(&c, force.id, defence.id).await.unwrap());
    assert!(state.share(&case("42ab1234520"), force.id, defence.id).await.unwrap(), "sharing twice is one share");
    assert_eq!(reach(state, c.as_str(), defence.id).await.map(|(_, a)| a), Some(CaseAccess::Shared));
    let seen = state.visible_cases(defence.id).await.unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!((seen[0].owner.as_str(), seen[0].access), ("Force", CaseAccess::Shared));
    assert_eq!(reach(state, c.as_str(), other.id).await, None);

    assert!(!state.unshare(&c, other.id, defence.id).await.unwrap(), "only the owner unshares");
    assert_eq!(reach(state, c.as_str(), defence.id).await.map(|(_, a)| a), Some(CaseAccess::Shared));
    assert!(state.unshare(&c, force.id, defence.id).await.unwrap());
    assert!(!state.unshare(&c, force.id, defence.id).await.unwrap());
    assert_eq!(reach(state, c.as_str(), defence.id).await, None);
    assert!(state.visible_cases(defence.id).await.unwrap().is_empty());
}

async fn hostile_names_are_refused_or_kept_exactly(state: &dyn AccessState) {
    for bad in ["", " padded", "line\nbreak", &"x".repeat(201)] {
        assert!(matches!(state.add_org(bad).await, Err(AppError::Invalid { .. })), "{bad:?}");
    }
    let quoted = "O'Brien & Co; DROP TABLE ac_orgs; --";
    let org = state.add_org(quoted).await.unwrap();
    assert_eq!(state.org(quoted).await.unwrap().map(|o| o.name), Some(quoted.to_owned()));
    let user = state.user(&org, "Ünïcode \"user\"", Role::Auditor).await.unwrap();
    assert_eq!(user.name, "Ünïcode \"user\"");
    assert!(matches!(state.user(&org, "tab\there", Role::Auditor).await, Err(AppError::Invalid { .. })));
}

async fn passwords_name_one_user_and_can_change(state: &dyn AccessState) {
    let a = state.add_org("Force A").await.unwrap();
    let b = state.add_org("Force B").await.unwrap();
    let alice = state.user(&a, "Alice", Role::Reviewer).await.unwrap();
    assert_eq!(state.password("alice").await.unwrap(), None, "no password yet");
    let first = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    state.set_password(&alice, "$argon2id$first", first).await.unwrap();
    let found = state.password("ALICE").await.unwrap().expect("letter case does not count");
    assert_eq!((&found.user, found.phc.as_str(), found.set_at), (&alice, "$argon2id$first", first));

    let later = first + Duration::hours(1);
    state.set_password(&alice, "$argon2id$second", later).await.unwrap();
    let found = state.password("Alice").await.unwrap().unwrap();
    assert_eq!((found.phc.as_str(), found.set_at), ("$argon2id$second", later), "replaced");

    // Another force's user of the same name may exist, but not sign in by it.
    let other = state.user(&b, "alice", Role::Admin).await.unwrap();
    assert!(matches!(state.set_password(&other, "$argon2id$x", later).await, Err(AppError::Taken { .. })));
    assert_eq!(state.password("alice").await.unwrap().unwrap().user, alice, "still Force A's Alice");
    assert_eq!(state.password("alice' OR '1'='1").await.unwrap(), None);
}

async fn tokens_are_found_by_id(state: &dyn AccessState) {
    let org = state.add_org("A").await.unwrap();
    let user = state.user(&org, "bob", Role::Submitter).await.unwrap();
    let issued = IssuedToken::generate();
    state.add_token(&user, &issued, None).await.unwrap();
    let record = state.token_by_id(&issued.id).await.unwrap().unwrap();
    assert_eq!((record.id.as_str(), &record.user, record.revoked_at), (issued.id.as_str(), &user, None));
    state.revoke_token(&issued.id, OffsetDateTime::now_utc()).await.unwrap();
    assert!(state.token_by_id(&issued.id).await.unwrap().unwrap().revoked_at.is_some());
    assert_eq!(state.token_by_id("000000000000").await.unwrap(), None);
    assert_eq!(state.token_by_id(&issued.hash.0).await.unwrap(), None, "the hash is not an ID");
    let other = state.user(&org, "amy", Role::Reviewer).await.unwrap();
    let second = IssuedToken::generate();
    state.add_token(&other, &second, None).await.unwrap();
    let listed: Vec<(String, String)> =
        state.tokens().await.unwrap().into_iter().map(|t| (t.user.name, t.id)).collect();
    assert_eq!(listed, [("amy".to_owned(), second.id), ("bob".to_owned(), issued.id)], "by user");
}
