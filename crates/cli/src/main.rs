//! `exhibit`: ingest legacy media into a case with a signed chain of
//! custody, and prove later that nothing changed.
//!
//! Exit codes: 0 ok, 1 verification failed, 2 usage or input error.

mod commands;
mod config;
mod group;
mod progress;
mod session;
mod sigpipe;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Exit code for a verification that found problems.
pub const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code for bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;

#[derive(Debug, Parser)]
#[command(name = "exhibit", version, about = "Ingest legacy evidence media with a verifiable chain of custody")]
struct Cli {
    /// Configuration file (TOML); see config/exhibit.toml for every key.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Object store URI, overriding the configuration (e.g. file:///srv/exhibit).
    #[arg(long, global = true, value_name = "URI")]
    store: Option<String>,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    sigpipe::restore_default();
    let cli = Cli::parse();
    let mut config = match config::load(cli.config.as_deref()) {
        Ok(config) => config,
        Err(e) => {
            eprintln!(
                "exhibit: configuration error: {e}. Fix or remove that key; config/exhibit.toml lists every valid key."
            );
            return ExitCode::from(EXIT_USAGE);
        }
    };
    if let Some(store) = cli.store {
        config.store.uri = store;
    }
    init_tracing(&config.log.level);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("exhibit: cannot start: {e}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    match runtime.block_on(commands::run(cli.command, config)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("exhibit: {e:#}");
            ExitCode::from(EXIT_USAGE)
        }
    }
}

fn init_tracing(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EXHIBIT_LOG")
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
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
