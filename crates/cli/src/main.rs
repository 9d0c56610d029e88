//! `exhibit`: ingest legacy media into a case with a signed chain of
//! custody, and prove later that nothing changed.
//!
//! Exit codes: 0 ok, 1 verification failed, 2 usage or input error.

mod commands;
mod config;
mod help;
mod logging;
mod progress;
mod progress_stage;
mod session;
mod signing_notice;
mod terminal;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Exit code for a verification that found problems.
pub const EXIT_VERIFY_FAILED: u8 = 1;
/// Exit code for bad usage or bad input.
pub const EXIT_USAGE: u8 = 2;

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
    #[command(flatten)]
    verbosity: logging::Verbosity,
    /// Log format on stderr (overrides [log] format).
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    log_format: Option<logging::LogFormat>,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut config = match config::load(cli.config.as_deref()) {
        Ok(config) => config,
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
    logging::init(cli.verbosity, &config.log.level, cli.log_format.unwrap_or(config.log.format));
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
            logging::notice(&format!("{e:#}"));
            ExitCode::from(EXIT_USAGE)
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

    /// Splits an example line as a shell would (double quotes only), up to
    /// its first redirection or pipe.
    fn example_words(line: &str) -> Vec<String> {
        let (mut words, mut word, mut quoted) = (Vec::new(), String::new(), false);
        for c in line.chars() {
            match c {
                '"' => quoted = !quoted,
                ' ' if !quoted => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
                c => word.push(c),
            }
        }
        words.push(word);
        words.into_iter().take_while(|w| !matches!(w.as_str(), ">" | "|" | "&&")).collect()
    }

    #[test]
    fn help_examples_parse() {
        let mut seen = 0;
        for text in help::ALL {
            for line in text.lines().filter_map(|l| l.trim().strip_prefix("exhibit ")) {
                let words = example_words(&format!("exhibit {line}"));
                if let Err(e) = Cli::try_parse_from(&words) {
                    panic!("example `{line}` does not parse: {e}");
                }
                seen += 1;
            }
        }
        assert!(seen >= 20, "{seen} examples");
        // Every subcommand shows examples.
        for sub in Cli::command().get_subcommands() {
            let help = sub.get_after_help().map(|h| h.to_string()).unwrap_or_default();
            assert!(help.contains(&format!("exhibit {}", sub.get_name())), "{} has no example", sub.get_name());
        }
    }
}
