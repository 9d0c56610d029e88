//! The HTTP side of `exhibit submit`: a `ureq` agent on rustls (aws-lc-rs,
//! the provider the server's TLS uses) trusting the system's roots or only
//! the certificates `--ca-cert` names, with 4xx and 5xx as answers rather
//! than errors; and the bulk submission's POST.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use exhibit_core::CaseId;
use serde_json::Value;
use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};

use super::client::{refused, unreachable_at};

/// The largest answer to a submission read (one row of result per row sent).
const ANSWER_LIMIT: u64 = 64 << 20;

/// An agent trusting `ca_cert`'s certificates, or the system's. No
/// timeout on a whole request (a chunk over a slow link may take long);
/// 30 s to connect; no redirects (the token goes to the server named).
pub fn agent(ca_cert: Option<&Path>) -> anyhow::Result<ureq::Agent> {
    let roots = match ca_cert {
        Some(path) => RootCerts::new_with_certs(&pem_certificates(path)?),
        None => RootCerts::new_with_certs(&system_certificates()),
    };
    let tls = TlsConfig::builder()
        .provider(TlsProvider::Rustls)
        .root_certs(roots)
        .unversioned_rustls_crypto_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .build();
    Ok(ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_connect(Some(Duration::from_secs(30)))
        .max_redirects(0)
        .tls_config(tls)
        .build()
        .new_agent())
}

fn pem_certificates(path: &Path) -> anyhow::Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read --ca-cert {}", path.display()))?;
    let certs: Vec<Certificate<'static>> = ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
            _ => None,
        })
        .collect();
    anyhow::ensure!(!certs.is_empty(), "--ca-cert {} holds no PEM certificate", path.display());
    Ok(certs)
}

fn system_certificates() -> Vec<Certificate<'static>> {
    let found = rustls_native_certs::load_native_certs();
    for e in &found.errors {
        tracing::warn!(error = %e, "a system certificate could not be read");
    }
    found.certs.into_iter().map(|der| Certificate::from_der(der.as_ref()).to_owned()).collect()
}

/// Posts `items` (a JSON item manifest whose rows name uploads) to the
/// case's submissions; the server's answer, one result per row.
pub fn post_submission(
    agent: &ureq::Agent,
    (server, token): (&str, &str),
    case: &CaseId,
    items: &Value,
) -> anyhow::Result<Value> {
    let segment = percent_encoding::utf8_percent_encode(case.as_str(), percent_encoding::NON_ALPHANUMERIC);
    let url = format!("{server}/v1/cases/{segment}/submissions");
    let mut response = agent
        .post(&url)
        .header("Authorization", &format!("Bearer {token}"))
        .header("Content-Type", "application/json")
        .send(items.to_string())
        .map_err(|e| anyhow::anyhow!(unreachable_at(&url, &e)))
        .context("the uploads are kept; run the same command again to submit them")?;
    if !response.status().is_success() {
        let what = format!("the submission to case {case}");
        return Err(anyhow::anyhow!(refused(&what, response)));
    }
    let text = response
        .body_mut()
        .with_config()
        .limit(ANSWER_LIMIT)
        .read_to_string()
        .with_context(|| format!("cannot read the answer of {url}"))?;
    serde_json::from_str(&text).with_context(|| format!("the answer of {url} is not JSON"))
}
