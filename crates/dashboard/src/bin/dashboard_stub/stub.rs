//! Test scaffolding, not a data source: a stub authenticator and a stub
//! data provider with fixed users and cases, for the dashboard's tests and
//! the `dashboard-stub` test server. `exhibit serve` implements the same
//! hooks over its token store and read model.
//!
//! Users (password, token): `alice` of `force-a` (`alice-pass`,
//! `token-alice`), `bea` of `force-b` (`bea-pass`, `token-bea`), `dan` of
//! `defence-firm` (`dan-pass`, `token-dan`). Force A's case `42AB1234520`
//! is shared read-only with the defence firm; names in it are hostile.

use std::collections::HashSet;
use std::sync::Mutex;

use async_trait::async_trait;
use exhibit_core::{CaseId, ExhibitRef};
use exhibit_dashboard::{
    Authenticator, CaseDetail, CaseSummary, Credentials, DashboardData, ExhibitProgress, Failure, HookError, JobCounts,
    Principal, ReviewItem, StageProgress,
};

/// (user, password, token, organisation, role)
const USERS: [(&str, &str, &str, &str, &str); 3] = [
    ("alice", "alice-pass", "token-alice", "force-a", "submitter"),
    ("bea", "bea-pass", "token-bea", "force-b", "reviewer"),
    ("dan", "dan-pass", "token-dan", "defence-firm", "reviewer"),
];

/// Signs in the fixed users; users can be revoked.
#[derive(Default)]
pub struct StubAuth {
    revoked: Mutex<HashSet<String>>,
}

impl StubAuth {
    /// Revokes `user`: their sessions end at their next request.
    pub fn revoke(&self, user: &str) {
        self.revoked.lock().unwrap_or_else(|p| p.into_inner()).insert(user.to_owned());
    }
}

fn principal(user: &str, org: &str, role: &str) -> Principal {
    Principal { org: org.to_owned(), user: user.to_owned(), role: role.to_owned(), credential: String::new() }
}

#[async_trait]
impl Authenticator for StubAuth {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Principal, HookError> {
        let found = USERS.iter().find(|(user, password, token, ..)| match credentials {
            Credentials::Token(sent) => sent == token,
            Credentials::Password { username, password: sent } => username == user && sent == password,
        });
        let (user, _, _, org, role) = found.ok_or_else(|| HookError::Refused("unknown credentials".into()))?;
        if self.revoked.lock().unwrap_or_else(|p| p.into_inner()).contains(*user) {
            return Err(HookError::Refused("revoked".into()));
        }
        Ok(principal(user, org, role))
    }

    async fn still_valid(&self, principal: &Principal) -> Result<bool, HookError> {
        Ok(!self.revoked.lock().unwrap_or_else(|p| p.into_inner()).contains(&principal.user))
    }
}

struct StubCase {
    detail: CaseDetail,
    shared_with: Vec<&'static str>,
}

/// The fixed cases; each visible to its owner and to whom it is shared with.
pub struct StubData {
    cases: Vec<StubCase>,
}

impl StubData {
    fn visible(&self, principal: &Principal) -> impl Iterator<Item = CaseDetail> + '_ {
        let org = principal.org.clone();
        self.cases.iter().filter_map(move |case| {
            let owner = case.detail.summary.owner == org;
            (owner || case.shared_with.contains(&org.as_str()))
                .then(|| CaseDetail { shared_read_only: !owner, ..case.detail.clone() })
        })
    }
}

#[async_trait]
impl DashboardData for StubData {
    async fn cases(&self, principal: &Principal) -> Result<Vec<CaseSummary>, HookError> {
        Ok(self.visible(principal).map(|detail| detail.summary).collect())
    }

    async fn case(
        &self,
        principal: &Principal,
        case: &CaseId,
        owner: Option<&str>,
    ) -> Result<Option<CaseDetail>, HookError> {
        let owned = |d: &CaseDetail| owner.is_none_or(|o| d.summary.owner.eq_ignore_ascii_case(o));
        Ok(self.visible(principal).find(|detail| detail.summary.case == *case && owned(detail)))
    }
}

fn id<T: std::str::FromStr>(text: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    text.parse().expect("fixture IDs are valid")
}

fn jobs(queued: u64, running: u64, done: u64, failed: u64) -> JobCounts {
    JobCounts { queued, running, done, failed }
}

fn stage(name: &str, counts: JobCounts) -> StageProgress {
    StageProgress { stage: name.to_owned(), jobs: counts }
}

fn case(
    case: &str,
    description: &str,
    owner: &str,
    exhibits: Vec<ExhibitProgress>,
    failures: Vec<Failure>,
    review: Vec<ReviewItem>,
) -> CaseDetail {
    let total = exhibits.iter().flat_map(|e| &e.stages).fold(JobCounts::default(), |sum, s| sum.plus(s.jobs));
    CaseDetail {
        summary: CaseSummary {
            case: id(case),
            description: Some(description.to_owned()),
            owner: owner.to_owned(),
            jobs: total,
        },
        shared_read_only: false,
        exhibits,
        failures,
        review,
    }
}

/// The fixture: three cases of two forces, one shared with the defence.
pub fn fixture() -> StubData {
    let usb = ExhibitProgress {
        exhibit: id("JS/1"),
        description: Some("USB stick, blue".into()),
        stages: vec![
            stage("acquire", jobs(0, 0, 1, 0)),
            stage("identify", jobs(0, 0, 5, 0)),
            stage("explore", jobs(0, 0, 5, 0)),
            stage("transcode", jobs(2, 1, 0, 0)),
        ],
    };
    let scans = ExhibitProgress {
        exhibit: id("JS/2"),
        description: Some("Letters <img src=x onerror=alert(2)> from the loft".into()),
        stages: vec![stage("acquire", jobs(0, 0, 1, 0)), stage("ocr", jobs(0, 0, 11, 1))],
    };
    let failed_page = Failure {
        exhibit: Some(id::<ExhibitRef>("JS/2")),
        item: "letters/<script>alert('file')</script>page-03.tif".into(),
        stage: "ocr".into(),
        problem: "Tesseract stopped after 120 seconds on this page".into(),
        what_to_do: "Rescan page 3 at 300 dpi and submit it again as exhibit JS/2; the other pages are kept.".into(),
    };
    let review = ReviewItem {
        exhibit: id("JS/2"),
        artefact: "5f0c3e9a1b2d4c6e8f0a1b2c3d4e5f60".into(),
        item: "letters/page-07.tif".into(),
        reason: "needs-review: OCR confidence 41%".into(),
    };
    let burglary = case(
        "42AB1234520",
        "Burglary at 12 High St <script>alert(\"case\")</script>",
        "force-a",
        vec![usb, scans],
        vec![failed_page],
        vec![review],
    );
    let finished = case(
        "T20247001",
        "Fraud, 2019 accounts",
        "force-a",
        vec![ExhibitProgress {
            exhibit: id("SB 1"),
            description: None,
            stages: vec![stage("acquire", jobs(0, 0, 1, 0)), stage("identify", jobs(0, 0, 40, 0))],
        }],
        Vec::new(),
        Vec::new(),
    );
    let other_force = case(
        "2024/00123/POL",
        "Force B's own case",
        "force-b",
        vec![ExhibitProgress {
            exhibit: id("KB/7"),
            description: Some("DVD-R".into()),
            stages: vec![stage("acquire", jobs(0, 0, 0, 1))],
        }],
        vec![Failure {
            exhibit: Some(id::<ExhibitRef>("KB/7")),
            item: "disc.iso".into(),
            stage: "acquire".into(),
            problem: "The disc could not be read past sector 1200".into(),
            what_to_do: "Clean the disc and image it again in another drive.".into(),
        }],
        Vec::new(),
    );
    StubData {
        cases: vec![
            StubCase { detail: burglary, shared_with: vec!["defence-firm"] },
            StubCase { detail: finished, shared_with: Vec::new() },
            StubCase { detail: other_force, shared_with: Vec::new() },
        ],
    }
}
