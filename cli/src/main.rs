//! The `gatehouse` binary: parse arguments, run, exit with the verdict's code.
//! A thin front-end to `gatehouse_core`: [`args`] defines the command line,
//! [`commands`] runs each subcommand through the core, [`engines`] decides
//! what every engine of the run shares, and [`output`] prints and maps
//! results to exit codes (docs/architecture.md).
//! Usage errors exit 3, never clap's default 2 (which means "require approval"),
//! and are reported like every other error: one line on stderr, plus the JSON
//! error object when `--output json` was asked for.

#![forbid(unsafe_code)]

mod args;
#[cfg(feature = "client")]
mod client;
mod commands;
mod engines;
mod output;

use args::{Cli, OutputFormat};
use clap::Parser;
use clap::error::ErrorKind;
use commands::run;
use gatehouse_core::report::ErrorReport;
use output::report_error;

/// mimalloc instead of glibc's malloc: `gatehouse serve` builds and drops
/// many small JSON values per request (the body, the release model, the
/// report, the audit record), and glibc's `malloc`/`free` were about a fifth
/// of its CPU (docs/performance.md, "The service").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let code = match Cli::try_parse() {
        Ok(cli) => run(cli),
        Err(err) if !err.use_stderr() => {
            // --help and --version: print and succeed.
            let _ = err.print();
            0
        }
        Err(err) if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            // `gatehouse` alone: show the help, but as the usage error it is.
            eprintln!("{}", err.render());
            let message = "no subcommand given; try gatehouse eval --help".to_string();
            report_error(&ErrorReport::new(message), requested_output())
        }
        Err(err) => {
            let message = usage_message(&err.render().to_string());
            report_error(&ErrorReport::new(message), requested_output())
        }
    };
    std::process::exit(code);
}

/// Clap's error on one line (everything before `Usage:`), without its
/// `error: ` prefix, with a pointer to `--help`.
fn usage_message(rendered: &str) -> String {
    let lines: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with("Usage:") && !line.starts_with("For more information"))
        .filter(|line| !line.is_empty())
        .collect();
    let joined = lines.join(" ");
    let message = joined.strip_prefix("error: ").unwrap_or(&joined);
    if message.is_empty() {
        return "invalid command line (see gatehouse --help)".to_string();
    }
    format!("{message} (see gatehouse --help)")
}

/// The output format the raw arguments ask for, so that even a usage error
/// is delivered in the format the caller parses.
fn requested_output() -> OutputFormat {
    let args: Vec<String> = std::env::args().collect();
    let value = args
        .windows(2)
        .find(|w| w[0] == "--output")
        .map(|w| w[1].clone())
        .or_else(|| {
            args.iter()
                .find_map(|a| a.strip_prefix("--output=").map(str::to_string))
        });
    match value.as_deref() {
        Some("json") => OutputFormat::Json,
        Some("github") => OutputFormat::Github,
        _ => OutputFormat::Text,
    }
}
