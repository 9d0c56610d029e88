//! `exhibit completions SHELL` (clap_complete) and `exhibit man [COMMAND]`
//! (clap_mangen): generated from the same clap definition as the parser, so
//! they list exactly the flags that exist.

use std::io::Write;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::EXIT_USAGE;

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// A subcommand's page (e.g. ingest) instead of the main page.
    #[arg(value_name = "COMMAND")]
    command: Option<String>,
}

/// Writes the completion script to standard output.
pub fn completions(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = crate::Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(args.shell, &mut command, "exhibit", &mut out);
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a roff man page to standard output.
pub fn man(args: ManArgs) -> anyhow::Result<ExitCode> {
    let mut command = crate::Cli::command();
    command.build();
    let page = match &args.command {
        None => command,
        Some(name) => match command.find_subcommand(name) {
            // build() named it exhibit-NAME, as man(1) expects.
            Some(sub) => sub.clone(),
            None => {
                crate::logging::notice(&format!("no command {name}; `exhibit --help` lists them"));
                return Ok(ExitCode::from(EXIT_USAGE));
            }
        },
    };
    let mut out = std::io::stdout().lock();
    clap_mangen::Man::new(page).render(&mut out)?;
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
