//! A hook that fails gives the service's error page (500), with the
//! detail in the log and never on the page.

use std::sync::Arc;

use async_trait::async_trait;
use exhibit_core::CaseId;
use exhibit_dashboard::{CaseDetail, CaseSummary, Dashboard, DashboardConfig, DashboardData, HookError, Principal};

use crate::stub::StubAuth;
use crate::support::{BASE, Client};

struct BrokenData;

#[async_trait]
impl DashboardData for BrokenData {
    async fn cases(&self, _: &Principal) -> Result<Vec<CaseSummary>, HookError> {
        Err(HookError::Failed("read model at postgres://exhibit:hunter2@db is down".into()))
    }

    async fn case(&self, _: &Principal, _: &CaseId, _: Option<&str>) -> Result<Option<CaseDetail>, HookError> {
        Err(HookError::Failed("read model at postgres://exhibit:hunter2@db is down".into()))
    }
}

#[tokio::test]
async fn a_failing_data_hook_shows_the_error_page_without_its_detail() {
    let config = DashboardConfig::default();
    let dashboard = Dashboard::new(config, Arc::new(StubAuth::default()), Arc::new(BrokenData)).unwrap();
    let app = axum::Router::new().nest(BASE, exhibit_dashboard::router(Arc::new(dashboard)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let mut client = Client { addr, cookie: None };
    assert_eq!(client.login("alice", "alice-pass").await.status, 303);
    for path in ["/cases", "/cases/42AB1234520"] {
        let resp = client.get(&format!("{BASE}{path}")).await;
        assert_eq!(resp.status, 500, "{path}");
        let html = resp.text();
        assert!(html.contains("Sorry, there is a problem with the service"), "{path}");
        assert!(!html.contains("hunter2") && !html.contains("postgres"), "{path}: the detail leaked");
    }
    server.abort();
}
