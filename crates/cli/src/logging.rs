//! Logs on stderr: how much (`-q`, `-v`, `$EXHIBIT_LOG`, `[log] level`, and
//! by default what the command is for), in which format (`--log-format`,
//! `[log] format`), and in colour only when stderr is a terminal and
//! `NO_COLOR` is not set.

use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};

use crate::terminal;

/// Set once by `-q`: progress bars and informational lines are dropped.
static QUIET: AtomicBool = AtomicBool::new(false);
/// Set once by `--log-format json`: lines for people become JSON too.
static JSON: AtomicBool = AtomicBool::new(false);

/// Whether `-q` was given.
pub fn quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints a line of a command's report on stdout (an ingest table, a
/// verify result, "bag: ..."), unless `-q` asked for warnings and errors
/// only: then the exit code tells the outcome. Output that is what the
/// command is for (`hash`, `show`, `listing`, any `--json`) does not go
/// through here.
pub fn report(line: &str) {
    if !quiet() {
        println!("{line}");
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Text,
    /// One JSON object per line (tracing-subscriber's JSON formatter).
    Json,
}

/// The global `-q` and `-v` flags.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Verbosity {
    /// Print more: -v info, -vv debug, -vvv trace (overrides $EXHIBIT_LOG and [log] level).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    verbose: u8,
    /// Print only what needs attention and errors (no progress bars, tables or hints); the exit code tells the outcome.
    #[arg(short, long, global = true)]
    quiet: bool,
}

/// Whom a command's stderr is for, which sets how much it logs by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// A person at a terminal (`ingest`, `verify`, ...): the command's own
    /// report says every problem once, with what to do, so the log adds
    /// errors only unless asked (`-v`).
    Person,
    /// An operator's log collector (`serve`, `worker`): the log is the
    /// report, warnings included.
    Service,
}

impl Audience {
    /// The tracing filter when nothing (flag, `$EXHIBIT_LOG`, `[log] level`) asks for one.
    fn default_filter(self) -> &'static str {
        match self {
            Audience::Person => "error",
            Audience::Service => "warn",
        }
    }
}

impl Verbosity {
    /// The tracing filter the flags ask for, if they ask for one. `-q`
    /// keeps the command's default: it drops bars and reports, and never
    /// adds log lines a person would not see without it.
    fn filter(self, audience: Audience) -> Option<&'static str> {
        match (self.quiet, self.verbose) {
            (true, _) => Some(audience.default_filter()),
            (false, 0) => None,
            (false, 1) => Some("info"),
            (false, 2) => Some("debug"),
            (false, _) => Some("trace"),
        }
    }
}

/// Installs the subscriber. `level` is `[log] level`, if set.
pub fn init(verbosity: Verbosity, (level, audience): (Option<&str>, Audience), format: LogFormat) {
    QUIET.store(verbosity.quiet, Ordering::Relaxed);
    JSON.store(format == LogFormat::Json, Ordering::Relaxed);
    let default = audience.default_filter();
    let filter = match verbosity.filter(audience) {
        Some(flag) => tracing_subscriber::EnvFilter::new(flag),
        None => tracing_subscriber::EnvFilter::try_from_env("EXHIBIT_LOG")
            .or_else(|_| tracing_subscriber::EnvFilter::try_new(level.unwrap_or(default)))
            .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default)),
    };
    let filter = without_credentials(filter);
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(terminal::stderr_colour()).init(),
        LogFormat::Json => builder.json().with_ansi(false).init(),
    }
}

/// Targets that trace credentials: the AWS SDK's signer logs its canonical
/// request (with `x-amz-security-token`) and its HTTP layers log request
/// headers (with `authorization`) at trace level.
const CREDENTIAL_TARGETS: [&str; 7] = [
    "aws_sigv4",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "aws_smithy_http_client",
    "aws_config",
    "hyper",
    "hyper_util",
];

/// `filter` with the credential-tracing targets capped at debug, which
/// holds no secret, whatever `-v` or `$EXHIBIT_LOG` asked for them. Only a
/// filter that lets trace through is changed, so the caps never raise a
/// target above what was asked.
fn without_credentials(mut filter: tracing_subscriber::EnvFilter) -> tracing_subscriber::EnvFilter {
    if filter.max_level_hint().is_some_and(|hint| hint <= tracing_subscriber::filter::LevelFilter::DEBUG) {
        return filter;
    }
    for target in CREDENTIAL_TARGETS {
        if let Ok(directive) = format!("{target}=debug").parse() {
            filter = filter.add_directive(directive);
        }
    }
    filter
}

/// A line for the operator on stderr (a failure, a new key): `exhibit:
/// LINE`, escaped for the terminal; with `--log-format json`, an object
/// shaped like tracing's (`timestamp`, `level` WARN, `fields.message`,
/// `target`), so stderr stays one JSON object per line. Printed even with
/// `-q`.
pub fn notice(line: &str) {
    if !JSON.load(Ordering::Relaxed) {
        eprintln!("exhibit: {}", terminal::escape_message(line));
        return;
    }
    let timestamp =
        time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let object = serde_json::json!({
        "timestamp": timestamp,
        "level": "WARN",
        "fields": {"message": line},
        "target": "exhibit",
    });
    eprintln!("{object}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_caps_never_raise_a_quiet_filter() {
        use tracing_subscriber::filter::LevelFilter;
        let hint = |f: &str| without_credentials(tracing_subscriber::EnvFilter::new(f)).max_level_hint();
        assert_eq!(hint("warn"), Some(LevelFilter::WARN));
        assert_eq!(hint("info"), Some(LevelFilter::INFO));
        assert_eq!(hint("trace"), Some(LevelFilter::TRACE), "other targets keep trace");
    }

    #[test]
    fn flags_map_to_levels() {
        let v = |verbose, quiet| Verbosity { verbose, quiet }.filter(Audience::Person);
        assert_eq!(v(0, false), None);
        assert_eq!(v(1, false), Some("info"));
        assert_eq!(v(2, false), Some("debug"));
        assert_eq!(v(5, false), Some("trace"));
        assert_eq!(v(0, true), Some("error"), "-q adds no log line the default hides");
        let service = Verbosity { verbose: 0, quiet: true }.filter(Audience::Service);
        assert_eq!(service, Some("warn"), "a service's log is its report");
    }

    #[test]
    fn a_person_sees_errors_only_by_default_and_a_service_warnings_too() {
        assert_eq!(Audience::Person.default_filter(), "error");
        assert_eq!(Audience::Service.default_filter(), "warn");
    }
}
