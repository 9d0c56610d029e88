//! `exhibit cases`: the cases in the store.

use std::collections::BTreeSet;
use std::process::ExitCode;

use exhibit_core::layout::parse_case_from_key;

use crate::config::Config;
use crate::session::open_existing_store;

pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(&config)?;
    let cases: BTreeSet<String> = store
        .list("cases/")
        .await?
        .iter()
        .filter_map(|meta| parse_case_from_key(meta.key.as_str()))
        .map(|case| case.to_string())
        .collect();
    for case in cases {
        println!("{case}");
    }
    Ok(ExitCode::SUCCESS)
}
