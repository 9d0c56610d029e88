//! The store and queue URIs, checked once at startup (`--store`,
//! `--queue`, `[store] uri`, `[queue] uri`), so that a bad one is a usage
//! error naming its key before any command runs. The commands then open
//! each backend from its URI once, as an `Arc<dyn ObjectStore>` or
//! `Arc<dyn JobQueue>`, and never branch on the backend again.

use crate::config::Config;

/// A store or queue URI that names no backend this build has.
#[derive(Debug, thiserror::Error)]
#[error("{key} is {uri:?}: {reason}")]
pub struct BadUri {
    key: &'static str,
    uri: String,
    reason: String,
}

const STORE_KEY: &str = "[store] uri (--store, EXHIBIT__STORE__URI)";
const QUEUE_KEY: &str = "[queue] uri (--queue, EXHIBIT__QUEUE__URI)";

/// Checks both URIs without connecting to anything.
pub fn check(config: &Config) -> Result<(), BadUri> {
    check_store(&config.store.uri)?;
    check_queue(&config.queue.uri)
}

fn check_store(uri: &str) -> Result<(), BadUri> {
    let bad = |reason: String| BadUri { key: STORE_KEY, uri: redact(uri), reason };
    match uri.split_once("://") {
        Some(("file", "")) => Err(bad("give a folder: file:///srv/exhibit".into())),
        Some(("file", _)) | None if !uri.is_empty() => Ok(()),
        Some(("s3", _)) => exhibit_store::s3::S3Location::parse(uri).map(|_| ()).map_err(|e| bad(e.to_string())),
        Some((scheme, _)) => {
            Err(bad(format!("unknown scheme {scheme}://; known: file://PATH (or a plain path), s3://BUCKET[/PREFIX]")))
        }
        None => Err(bad("empty; give a folder or s3://BUCKET[/PREFIX]".into())),
    }
}

fn check_queue(uri: &str) -> Result<(), BadUri> {
    let bad = |reason: &str| BadUri { key: QUEUE_KEY, uri: redact(uri), reason: reason.to_owned() };
    match uri.split_once("://") {
        Some(("memory", "")) => Ok(()),
        Some(("amqp" | "amqps", rest)) if host_of(rest).is_some_and(|h| !h.is_empty()) => Ok(()),
        Some(("amqp" | "amqps", _)) => Err(bad("give a host: amqp://USER:PASS@HOST:PORT/VHOST")),
        _ => Err(bad("known: memory:// (in this process), amqp://USER:PASS@HOST:PORT/VHOST")),
    }
}

/// The host of `USER:PASS@HOST:PORT/VHOST`.
fn host_of(rest: &str) -> Option<&str> {
    let authority = rest.split('/').next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    Some(host_port.split(':').next().unwrap_or(host_port))
}

/// The URI with any password replaced by `***`, for messages and logs.
pub fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else { return uri.to_owned() };
    let (authority, path) = rest.split_once('/').map_or((rest, None), |(a, p)| (a, Some(p)));
    let authority = match authority.rsplit_once('@') {
        Some((user_pass, host)) => match user_pass.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => format!("{user_pass}@{host}"),
        },
        None => authority.to_owned(),
    };
    match path {
        Some(path) => format!("{scheme}://{authority}/{path}"),
        None => format!("{scheme}://{authority}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(store: &str, queue: &str) -> Config {
        let mut config = Config::default();
        config.store.uri = store.into();
        config.queue.uri = queue.into();
        config
    }

    #[test]
    fn known_uris_pass() {
        for (store, queue) in [
            ("file:///srv/exhibit", "memory://"),
            ("./exhibit-data", "amqp://guest:guest@127.0.0.1:5672/%2f"),
            ("s3://evidence/force-a", "amqps://u:p@broker.example/exhibit"),
        ] {
            check(&config(store, queue)).unwrap();
        }
    }

    #[test]
    fn a_bad_uri_names_its_key_and_hides_the_password() {
        let err = check(&config("ftp://host/x", "memory://")).unwrap_err().to_string();
        assert!(err.starts_with("[store] uri"), "{err}");
        let err = check(&config("s3://A_B", "memory://")).unwrap_err().to_string();
        assert!(err.contains("[store] uri") && err.contains("bucket"), "{err}");
        let err = check(&config("./d", "rabbit://guest:secret@h/")).unwrap_err().to_string();
        assert!(err.starts_with("[queue] uri") && !err.contains("secret"), "{err}");
        let err = check(&config("./d", "amqp://guest:secret@/v")).unwrap_err().to_string();
        assert!(err.contains("give a host") && !err.contains("secret"), "{err}");
        assert!(check(&config("", "memory://")).is_err());
        assert!(check(&config("./d", "memory://x")).is_err());
    }

    #[test]
    fn redact_keeps_everything_but_the_password() {
        assert_eq!(redact("amqp://guest:pw@h:5672/v"), "amqp://guest:***@h:5672/v");
        assert_eq!(redact("amqp://h:5672"), "amqp://h:5672");
        assert_eq!(redact("s3://b/p"), "s3://b/p");
    }
}
