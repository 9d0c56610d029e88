//! The barrier that makes scan bundles part of the pipeline itself (attacker
//! finding F2: the bundle phase ran in the attached ingest only, so a
//! detached run never made its bundle PDF). Once the intake phase is done,
//! every OCR job of the exhibit's page files is known; one bundle-planning
//! job on the `ocr-bundle` lane waits behind them ([`Job::after`]) and,
//! when they are complete, plans the bundles from the ledger and queues a
//! bundle job each. Any worker of the lane runs it: this process, or
//! `exhibit worker`s after a `--detach`. Its ID and its bundle jobs' IDs
//! are derived from their inputs, so a redelivery or a second worker
//! records nothing twice. A rerun whose pages are all OCRed already (its
//! bundle job was killed) still gets the gate, with nothing to wait for.

use std::collections::BTreeMap;

use exhibit_core::ids::{CaseId, ExhibitRef};
use exhibit_queue::input::BundlePlanInput;
use exhibit_queue::{Job, JobId, JobInput, StageInput};

/// The lane of bundle jobs and of the planning barrier.
const BUNDLE_LANE: &str = "ocr-bundle";

/// File name endings of page images (as the bundle planner counts them).
const PAGE_EXTENSIONS: [&str; 5] = ["tif", "tiff", "png", "jpg", "jpeg"];

/// The most page images (by name) in one folder of `paths`: the sources of
/// an ingest. A rerun that adds one page to a folder OCRs that page only,
/// yet its bundle is made again of every page.
pub fn most_pages_in_a_folder<'a>(paths: impl IntoIterator<Item = &'a std::path::Path>) -> usize {
    let mut folders: BTreeMap<&std::path::Path, usize> = BTreeMap::new();
    for path in paths {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        if ext.is_some_and(|e| PAGE_EXTENSIONS.contains(&e.as_str())) {
            *folders.entry(path.parent().unwrap_or(path)).or_default() += 1;
        }
    }
    folders.into_values().max().unwrap_or(0)
}

/// The bundle-planning job, waiting for every OCR job among `jobs`, if a
/// folder has enough page files to be a bundle (two, or one when the
/// operator gave the page count): among the OCR jobs, or among the sources
/// (`plan_pages`, see [`most_pages_in_a_folder`]).
pub fn bundle_gate(
    jobs: &[Job],
    (case, exhibit): (&CaseId, &ExhibitRef),
    (expected_pages, plan_pages): (Option<u32>, usize),
    run: Option<&str>,
) -> Option<Job> {
    let mut folders: BTreeMap<&str, Vec<&JobId>> = BTreeMap::new();
    for job in jobs.iter().filter(|j| j.stage == "ocr") {
        let Some(path) = job.input.path() else { continue };
        let folder = path.rsplit_once(['/', '\\']).map_or("", |(dir, _)| dir);
        folders.entry(folder).or_default().push(&job.job_id);
    }
    let least = if expected_pages.is_some() { 1 } else { 2 };
    let enough = plan_pages >= least || folders.values().any(|ids| ids.len() >= least);
    // With no OCR job left (a rerun after a kill in the bundle job itself),
    // the pages' PDFs are recorded already and the bundle may not be.
    if !enough {
        return None;
    }
    let mut after: Vec<JobId> = folders.values().flatten().map(|id| (*id).clone()).collect();
    after.sort_by(|a, b| a.0.cmp(&b.0));
    after.dedup();
    let names: Vec<String> =
        folders.keys().map(|f| format!("{}/", f.rsplit(['/', '\\']).next().unwrap_or(f))).collect();
    let mut id = format!("{expected_pages:?}").into_bytes();
    for job in &after {
        id.push(0);
        id.extend_from_slice(job.0.as_bytes());
    }
    let input = BundlePlanInput { folders: names.join(", "), expected_pages };
    Some(Job {
        job_id: JobId::derive("ocr-bundle-plan", &id, ""),
        case: case.clone(),
        exhibit: exhibit.clone(),
        stage: BUNDLE_LANE.to_owned(),
        input: JobInput::from(StageInput::OcrBundlePlan(input)),
        attempt: 0,
        run: run.map(str::to_owned),
        signature: None,
        after,
    })
}

#[cfg(test)]
mod tests {
    use exhibit_queue::conformance::sample_job;
    use exhibit_queue::input::DeriveInput;

    use super::*;

    fn ocr(n: u32, path: &str) -> Job {
        let input = DeriveInput {
            path: path.into(),
            artefact: "0123456789abcdef0123456789abcdef".parse().unwrap(),
            sha256: exhibit_core::Sha256Digest::of(path.as_bytes()),
            size: 1,
            mime: "image/png".into(),
        };
        Job { input: JobInput::from(StageInput::Ocr(input)), ..sample_job("ocr", n) }
    }

    #[test]
    fn a_gate_waits_for_the_ocr_jobs_of_folders_with_two_pages_or_the_given_count() {
        let case: CaseId = "42AB1234520".parse().unwrap();
        let exhibit: ExhibitRef = "JS/1".parse().unwrap();
        let jobs = [ocr(1, "scans/p1.png"), ocr(2, "scans/p2.png"), ocr(3, "memo.png"), sample_job("transcode", 4)];
        let gate = bundle_gate(&jobs, (&case, &exhibit), (None, 0), Some("run-1")).expect("a folder of two pages");
        assert_eq!(gate.after.len(), 3, "waits for every OCR job");
        assert_eq!(gate.stage, "ocr-bundle");
        assert_eq!(gate.run.as_deref(), Some("run-1"));
        let again = bundle_gate(&jobs, (&case, &exhibit), (None, 0), Some("run-2")).unwrap();
        assert_eq!(again.job_id, gate.job_id, "the same pages make the same gate");
        assert!(bundle_gate(&jobs[2..], (&case, &exhibit), (None, 1), None).is_none(), "one page is no bundle");
        let one = bundle_gate(&jobs[2..], (&case, &exhibit), (Some(1), 1), None).expect("unless its count is given");
        assert_ne!(one.job_id, gate.job_id);
        let rerun = bundle_gate(&jobs[2..], (&case, &exhibit), (None, 6), None).expect("one new page of six");
        assert_eq!(rerun.after.len(), 1);
        let done = bundle_gate(&jobs[3..], (&case, &exhibit), (None, 6), None).expect("pages OCRed before");
        assert!(done.after.is_empty(), "nothing to wait for");
        assert!(bundle_gate(&jobs[3..], (&case, &exhibit), (None, 1), None).is_none(), "no bundle, no gate");
    }

    #[test]
    fn pages_are_counted_per_folder_by_name() {
        let paths = ["a/p1.png", "a/p2.TIF", "a/notes.txt", "b/p1.jpg", "c.jpeg"].map(std::path::Path::new);
        assert_eq!(most_pages_in_a_folder(paths), 2);
        assert_eq!(most_pages_in_a_folder([]), 0);
    }
}
