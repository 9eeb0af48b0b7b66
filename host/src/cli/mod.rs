//! The command line: argument definitions apart from the logic of each
//! subcommand (one file per subcommand).

mod eval;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, shown in `--help` (DESIGN §2: the Facets pre-release hook contract).
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  auto-approve: the release proceeds
  2  require approval: the release waits for a human decision
  1  fail: a policy decided the release must not proceed
  3  error: no decision could be made (bad input, bad or tampered policy,
     sandbox limit hit, usage error)";

/// Exit code for every error, including command-line usage errors.
pub const EXIT_ERROR: i32 = 3;

/// Gatehouse: release-approval policies as sandboxed WebAssembly components.
#[derive(Debug, Parser)]
#[command(name = "gatehouse", version, about, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Evaluate a release change with one or more policies and exit with the verdict.
    #[command(after_help = EXIT_CODES_HELP)]
    Eval(EvalArgs),
}

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable report.
    Text,
    /// The versioned JSON report (docs/report-json.md).
    Json,
}

/// Arguments of `gatehouse eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// A policy component (.wasm). Repeat for several; the most restrictive verdict wins.
    #[arg(long = "policy", value_name = "P.wasm", required = true)]
    pub policies: Vec<PathBuf>,

    /// The release change: a Facets release JSON file, or - for stdin.
    #[arg(long, value_name = "FILE|-")]
    pub input: String,

    /// A policy setting, KEY=VALUE for every policy or POLICY:KEY=VALUE for the
    /// policy file POLICY.wasm. Repeatable; lists are comma-separated.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,

    /// The environment, overriding the input's environmentName (or supplying it).
    #[arg(long, value_name = "E")]
    pub environment: Option<String>,

    /// The release stream, overriding the input's releaseStream (or supplying it).
    #[arg(long, value_name = "S")]
    pub release_stream: Option<String>,

    /// The evaluation time (RFC 3339, e.g. 2026-11-22T10:00:00Z) instead of the clock.
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// Fuel (instruction budget) per policy call.
    #[arg(long, value_name = "N", default_value_t = crate::runtime::Limits::DEFAULT_FUEL)]
    pub fuel: u64,

    /// Wall-clock budget per policy evaluation, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = crate::runtime::Limits::DEFAULT_TIMEOUT_MS)]
    pub timeout_ms: u64,

    /// Linear memory limit per policy, in MiB.
    #[arg(long, value_name = "MiB", default_value_t = (crate::runtime::Limits::DEFAULT_MEMORY_BYTES >> 20) as u64)]
    pub memory_mib: u64,

    /// Let every policy read this directory (read-only; `..` and symlinks cannot
    /// leave it). The policy sees it at the same absolute path. Repeatable.
    #[arg(long = "allow-read", value_name = "DIR")]
    pub allow_read: Vec<PathBuf>,

    /// Pass this host environment variable to every policy. Repeatable.
    #[arg(long = "allow-env", value_name = "NAME")]
    pub allow_env: Vec<String>,

    /// Largest accepted input, in MiB.
    #[arg(long, value_name = "MiB", default_value_t = 256)]
    pub max_input_mib: u64,
}

/// Runs a parsed command line, prints its report, and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Eval(args) => eval::run(&args),
    }
}

/// Prints an error the way every subcommand does: one line on stderr, and
/// for `--output json` an error object on stdout.
pub fn report_error(report: &crate::report::ErrorReport, output: OutputFormat) -> i32 {
    eprintln!("gatehouse: error: {}", report.error);
    if output == OutputFormat::Json {
        match serde_json::to_string_pretty(report) {
            Ok(json) => {
                use std::io::Write;
                let _ = writeln!(std::io::stdout().lock(), "{json}");
            }
            Err(e) => eprintln!("gatehouse: error: cannot serialise the error report: {e}"),
        }
    }
    EXIT_ERROR
}
