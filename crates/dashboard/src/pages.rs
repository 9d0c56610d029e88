//! The pages, as askama templates (`templates/`). askama escapes every
//! value for HTML unless a template says otherwise, and none does: names
//! of files, cases and exhibits come from evidence and are hostile.

use askama::Template;

use crate::config::DashboardConfig;
use crate::hooks::Principal;
use crate::model::{CaseDetail, CaseSummary};

/// What every page's frame shows: the service, the base path for links,
/// and the signed-in user with the token for the sign-out form.
#[derive(Debug, Clone)]
pub struct Chrome {
    /// The service's name.
    pub service_name: String,
    /// The phase in the phase banner.
    pub phase: String,
    /// The base path, prefixed to every link.
    pub base: String,
    /// The signed-in user and their session's CSRF token.
    pub user: Option<(Principal, String)>,
}

impl Chrome {
    /// The frame for a page seen by `user` (with their CSRF token).
    pub fn new(config: &DashboardConfig, user: Option<(Principal, String)>) -> Self {
        Self {
            service_name: config.service_name.clone(),
            phase: config.phase.clone(),
            base: config.base_path.clone(),
            user,
        }
    }
}

/// A form field's error, shown beside the field and in the error summary.
#[derive(Debug, Clone)]
pub struct FieldError {
    /// The field's `id`, which the summary links to.
    pub field: &'static str,
    /// What to do, in GOV.UK's words ("Enter your password").
    pub message: String,
}

/// The sign-in page.
#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage {
    /// The frame.
    pub page: Chrome,
    /// The CSRF token of the (not yet signed-in) session.
    pub csrf: String,
    /// The user name as typed, shown again after an error.
    pub username: String,
    /// Errors to show.
    pub errors: Vec<FieldError>,
    /// Whether to say "You have signed out".
    pub signed_out: bool,
}

impl LoginPage {
    /// The error for one field, if it has one.
    pub fn error_for(&self, field: &str) -> Option<&str> {
        self.errors.iter().find(|e| e.field == field).map(|e| e.message.as_str())
    }
}

/// The list of cases.
#[derive(Template)]
#[template(path = "cases.html")]
pub struct CasesPage {
    /// The frame.
    pub page: Chrome,
    /// The cases the user may see.
    pub cases: Vec<CaseSummary>,
}

impl CasesPage {
    /// The query that picks `summary` by its owner (`?owner=Force%20B`),
    /// for a name the list holds more than once (an organisation's own
    /// case and one shared with it, or cases several organisations
    /// shared); empty where the name alone finds the case.
    pub fn owner_query(&self, summary: &CaseSummary) -> String {
        let name = summary.case.normalised();
        if self.cases.iter().filter(|c| c.case.normalised() == name).count() < 2 {
            return String::new();
        }
        let owner: String = form_urlencoded::byte_serialize(summary.owner.as_bytes()).collect();
        format!("?owner={owner}")
    }
}

/// One case.
#[derive(Template)]
#[template(path = "case.html")]
pub struct CasePage {
    /// The frame.
    pub page: Chrome,
    /// The case.
    pub detail: CaseDetail,
}

/// A case name typed without its owner that several organisations'
/// shared cases carry: which one is meant, each linked with `?owner=`.
#[derive(Template)]
#[template(path = "case_choice.html")]
pub struct CaseChoicePage {
    /// The frame.
    pub page: Chrome,
    /// The name as the cases carry it.
    pub case: String,
    /// The name as one path segment.
    pub segment: String,
    /// Each owner, with its query (`?owner=Force+B`).
    pub choices: Vec<(String, String)>,
}

impl CaseChoicePage {
    /// The page for `case`, owned by each of `owners`.
    pub fn new(page: Chrome, case: &exhibit_core::ids::CaseId, owners: &[String]) -> Self {
        let choices = owners
            .iter()
            .map(|owner| {
                let query: String = form_urlencoded::byte_serialize(owner.as_bytes()).collect();
                (owner.clone(), format!("?owner={query}"))
            })
            .collect();
        Self { page, case: case.as_str().to_owned(), segment: case.key_component(), choices }
    }
}

/// An error page: a heading, what happened, and where to go.
#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    /// The frame.
    pub page: Chrome,
    /// The heading (and title).
    pub heading: &'static str,
    /// What happened and what to do, one paragraph each.
    pub paragraphs: Vec<String>,
    /// The link onwards.
    pub link_text: &'static str,
    /// Where it goes, under the base path.
    pub link_path: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::JobCounts;

    fn summary(case: &str, owner: &str) -> CaseSummary {
        CaseSummary { case: case.parse().unwrap(), description: None, owner: owner.into(), jobs: JobCounts::default() }
    }

    #[test]
    fn a_name_several_organisations_shared_links_each_case_with_its_owner() {
        let case: exhibit_core::ids::CaseId = "2024/1/POL".parse().unwrap();
        let owners = ["Force A".to_owned(), "Force <B> & Co".to_owned()];
        let page = CaseChoicePage::new(Chrome::new(&DashboardConfig::default(), None), &case, &owners);
        let html = page.render().unwrap();
        assert!(html.contains("href=\"/dashboard/cases/2024%2F1%2FPOL?owner=Force+A\""), "{html}");
        assert!(html.contains("?owner=Force+%3CB%3E+%26+Co\""), "{html}");
        assert!(html.contains("Force &#60;B&#62; &#38; Co") || html.contains("Force &lt;B&gt; &amp; Co"), "{html}");
        assert!(html.contains("2024/1/POL"), "{html}");
    }

    #[test]
    fn a_name_listed_twice_links_each_case_with_its_owner() {
        let cases = vec![summary("2024/1/POL", "Force A"), summary("2024/1/pol", "Force B"), summary("C2", "Force A")];
        let page = CasesPage { page: Chrome::new(&DashboardConfig::default(), None), cases };
        let html = page.render().unwrap();
        assert!(html.contains("/cases/2024%2F1%2FPOL?owner=Force+A\""), "{html}");
        assert!(html.contains("/cases/2024%2F1%2Fpol?owner=Force+B\""), "{html}");
        assert!(html.contains("/cases/C2\""), "a name listed once links by name alone: {html}");
    }
}
