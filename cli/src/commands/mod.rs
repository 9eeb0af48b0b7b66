//! The subcommands: one module each (its arguments, when they are its own,
//! and its logic), and [`run`], which dispatches a parsed command line.

pub(crate) mod approve;
pub(crate) mod audit;
pub(crate) mod bench;
pub(crate) mod cache;
pub(crate) mod check;
pub(crate) mod convert;
pub(crate) mod digest;
pub(crate) mod eval;
pub(crate) mod eval_audit;
pub(crate) mod inspect;
pub(crate) mod new;
#[cfg(feature = "serve")]
pub(crate) mod serve;
#[cfg(not(feature = "serve"))]
#[path = "serve_absent.rs"]
pub(crate) mod serve;
pub(crate) mod test;

use crate::args::{Cli, Command};
use crate::engines::EngineSettings;
use gatehouse_core::error::Error;

/// Runs a parsed command line, prints its report, and returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let engines = match EngineSettings::from_cli(&cli) {
        Ok(engines) => engines,
        Err(code) => return code,
    };
    match cli.command {
        Command::Eval(args) => eval::run(&args, &engines),
        Command::Convert(args) => convert::run(&args),
        Command::Digest(args) => digest::run(&args),
        Command::Check(args) => check::run(&args, &engines),
        Command::Audit(args) => audit::run(&args, &engines),
        Command::Compile(args) => cache::run_compile(&args, &engines),
        Command::Cache(args) => cache::run_cache(&args, &engines),
        Command::Bench(args) => bench::run(&args, &engines),
        Command::Inspect(args) => inspect::run(&args, &engines),
        Command::Test(args) => test::run(&args, &engines),
        Command::New(args) => new::run(&args),
        Command::Approve(args) => approve::run(&args),
        Command::Serve(args) => serve::run(&args, &engines),
    }
}

/// The evaluation time: `--now` (RFC 3339) when given, else the clock.
pub(crate) fn evaluation_time(now: Option<&str>) -> Result<i64, Error> {
    match now {
        Some(text) => gatehouse_core::time::parse_rfc3339(text)
            .map_err(|e| Error::Usage(format!("--now: {e}"))),
        None => Ok(gatehouse_core::time::now_unix()),
    }
}

/// Parses every `--set` flag.
pub(crate) fn parse_assignments(
    items: &[String],
) -> Result<Vec<gatehouse_core::settings::Assignment>, Error> {
    items
        .iter()
        .map(|s| gatehouse_core::settings::parse_assignment(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(Error::Usage)
}
