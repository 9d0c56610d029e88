//! Names from evidence and from forms reach the page as text: markup in a
//! file name, a case description or a user name is escaped.

use crate::support::{BASE, TestServer};

#[tokio::test]
async fn hostile_names_in_a_case_are_escaped() {
    let server = TestServer::start().await;
    let mut alice = server.signed_in("alice").await;
    let html = alice.get(&format!("{BASE}/cases/42AB1234520")).await.text();
    for raw in ["<script>alert", "<img src=x", "onerror=alert(2)>"] {
        assert!(!html.contains(raw), "{raw} reached the page as markup");
    }
    for escaped in [
        "Burglary at 12 High St &#60;script&#62;alert(&#34;case&#34;)&#60;/script&#62;",
        "letters/&#60;script&#62;alert(&#39;file&#39;)&#60;/script&#62;page-03.tif",
        "Letters &#60;img src=x onerror=alert(2)&#62; from the loft",
    ] {
        assert!(html.contains(escaped), "{escaped} not in the page:\n{html}");
    }
    let list = alice.get(&format!("{BASE}/cases")).await.text();
    assert!(!list.contains("<script>alert"));
}

#[tokio::test]
async fn a_hostile_user_name_is_escaped_in_the_form() {
    let server = TestServer::start().await;
    let mut client = server.client();
    let resp = client.login(r#""><script>alert(1)</script>"#, "x").await;
    assert_eq!(resp.status, 401);
    let html = resp.text();
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains(r#"value="&#34;&#62;&#60;script&#62;alert(1)&#60;/script&#62;""#), "{html}");
}

#[tokio::test]
async fn case_ids_with_slashes_link_as_one_path_segment() {
    let server = TestServer::start().await;
    let mut bea = server.signed_in("bea").await;
    let list = bea.get(&format!("{BASE}/cases")).await.text();
    assert!(list.contains(r#"href="/dashboard/cases/2024%2F00123%2FPOL""#), "{list}");
    let page = bea.get(&format!("{BASE}/cases/2024%2F00123%2FPOL")).await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("The disc could not be read past sector 1200"));
}
