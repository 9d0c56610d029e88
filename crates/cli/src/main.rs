//! `exhibit`: ingest legacy media into a case with a signed chain of
//! custody, and prove later that nothing changed.
//!
//! Exit codes: 0 ok; 1 verification failed; 2 usage or input error, and for
//! `ingest` a file that failed in a way a rerun could fix; 3 done but not
//! clean, a person must look: `verify` found the case intact but did not
//! check its signers against trusted keys, or `ingest` finished but the
//! evidence needs attention (damaged or truncated media, unconverted media,
//! pages for review, a bundle page count mismatch).

mod backends;
mod cluster;
mod commands;
mod config;
mod config_limit;
mod config_serve;
mod config_transcode;
mod failure_text;
mod fixity;
mod fixity_views;
mod group;
mod help;
mod ledger_gate;
mod logging;
mod ocr_languages;
mod progress;
mod progress_bar;
mod progress_stage;
mod session;
mod signing_notice;
mod sigpipe;
mod spelling;
mod store_overlap;
mod stored_damage;
mod submit;
mod terminal;
mod trust;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Exit code for a verification that found problems.
pub const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code for bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;
/// Exit code for a case found intact but not fully checked (signers
/// without trusted keys, anchors without a TSA CA): not a failure, but not
/// a trusted result either.
pub const EXIT_SIGNERS_UNCHECKED: u8 = 3;

#[derive(Debug, Parser)]
#[command(
    name = "exhibit",
    version,
    propagate_version = true,
    about = "Ingest legacy evidence media with a verifiable chain of custody",
    after_help = help::MAIN
)]
struct Cli {
    /// Configuration file (TOML); see config/exhibit.toml for every key.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Object store URI, overriding the configuration (e.g. file:///srv/exhibit).
    #[arg(long, global = true, value_name = "URI")]
    store: Option<String>,
    /// Job queue URI, overriding the configuration: memory:// (in this
    /// process, the default) or amqp://USER:PASS@HOST:PORT/VHOST.
    #[arg(long, global = true, value_name = "URI")]
    queue: Option<String>,
    #[command(flatten)]
    verbosity: logging::Verbosity,
    /// Log format on stderr (overrides [log] format).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    sigpipe::quiet_on_closed_stdout();
    let cli = Cli::parse();
    let mut config = match config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e @ (config::ConfigError::Path(_) | config::ConfigError::Invalid(_))) => {
            eprintln!("exhibit: configuration error: {}.", terminal::escape_message(&e.to_string()));
            return ExitCode::from(EXIT_USAGE);
        }
        Err(e) => {
            eprintln!(
                "exhibit: configuration error: {}. Fix or remove that key; config/exhibit.toml lists every valid key.",
                terminal::escape_message(&e.to_string())
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(store) = cli.store {
        config.store.uri = store;
    }
    if let Some(queue) = cli.queue {
        config.queue.uri = queue;
    }
    if let Err(e) = backends::check(&config) {
        eprintln!("exhibit: configuration error: {}.", terminal::escape_message(&e.to_string()));
        return ExitCode::from(EXIT_USAGE);
    }
    let audience = if cli.command.is_service() { logging::Audience::Service } else { logging::Audience::Person };
    logging::init(cli.verbosity, (config.log.level.as_deref(), audience), cli.log_format.unwrap_or(config.log.format));
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("exhibit: cannot start: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(code) => code,
        Err(e) if sigpipe::is_closed_stdout(&e) => sigpipe::die_of_sigpipe(),
        Err(e) => {
            logging::notice(&format!("{e:#}"));
            // A ledger or manifest that fails its check is a verify
            // failure, not a usage error.
            // So is recorded content that changed or vanished.
            let damaged = e.downcast_ref::<stored_damage::StoredDamage>().is_some();
            match e.downcast_ref::<ledger_gate::Refused>() {
                Some(_) => ExitCode::from(EXIT_VERIFY_FAILED),
                None if damaged => ExitCode::from(EXIT_VERIFY_FAILED),
                None => ExitCode::from(EXIT_USAGE),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
