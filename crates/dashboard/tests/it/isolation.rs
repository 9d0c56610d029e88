//! A case another organisation owns and has not shared is 404, the same
//! page as a case that does not exist; a shared case is shown read-only.

use crate::support::{BASE, TestServer};

#[tokio::test]
async fn another_forces_case_is_404_like_one_that_does_not_exist() {
    let server = TestServer::start().await;
    let mut bea = server.signed_in("bea").await;
    let theirs = bea.get(&format!("{BASE}/cases/42AB1234520")).await;
    let unknown = bea.get(&format!("{BASE}/cases/99ZZ9999999")).await;
    assert_eq!((theirs.status, unknown.status), (404, 404));
    assert_eq!(theirs.text(), unknown.text(), "nothing tells the two apart");
    assert!(theirs.text().contains("Page not found"));
    let list = bea.get(&format!("{BASE}/cases")).await.text();
    assert!(list.contains("2024/00123/POL"));
    assert!(!list.contains("42AB1234520") && !list.contains("T20247001"), "force A's cases are not listed");
    // Letter case does not find it either.
    assert_eq!(bea.get(&format!("{BASE}/cases/42ab1234520")).await.status, 404);

    let mut alice = server.signed_in("alice").await;
    assert_eq!(alice.get(&format!("{BASE}/cases/2024%2F00123%2FPOL")).await.status, 404);
    assert_eq!(alice.get(&format!("{BASE}/cases/42ab1234520")).await.status, 200, "IDs compare without case");
}

#[tokio::test]
async fn a_shared_case_is_shown_read_only_and_nothing_else_is() {
    let server = TestServer::start().await;
    let mut dan = server.signed_in("dan").await;
    let list = dan.get(&format!("{BASE}/cases")).await.text();
    assert!(list.contains("42AB1234520"));
    assert!(!list.contains("T20247001") && !list.contains("2024/00123/POL"));
    let page = dan.get(&format!("{BASE}/cases/42AB1234520")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("force-a (shared with your organisation, read only)"));
    assert_eq!(dan.get(&format!("{BASE}/cases/T20247001")).await.status, 404);
}

#[tokio::test]
async fn malformed_case_ids_are_404() {
    let server = TestServer::start().await;
    let mut alice = server.signed_in("alice").await;
    for id in ["..%2F..%2Fetc%2Fpasswd", "%3Cscript%3E", "%FF%FE", "a%00b", &"A".repeat(300), "%2F"] {
        let resp = alice.get(&format!("{BASE}/cases/{id}")).await;
        assert_eq!(resp.status, 404, "{id}");
        assert!(resp.text().contains("Page not found"), "{id}");
    }
    assert_eq!(alice.get(&format!("{BASE}/no-such-page")).await.status, 404);
    assert_eq!(alice.get(&format!("{BASE}/cases/42AB1234520/more")).await.status, 404);
}
