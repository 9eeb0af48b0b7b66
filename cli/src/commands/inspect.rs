//! `gatehouse inspect`: print what a policy module is and can do, for a
//! security reviewer deciding whether to allow it (docs/inspect.md).

use crate::engines::EngineSettings;
use crate::output::EXIT_ERROR;
use clap::ValueEnum;
use gatehouse_core::inspect::{self, SCHEMA};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;

/// Exit codes of `gatehouse inspect`.
pub const INSPECT_HELP: &str = "\
Exit codes:
  0  the file was inspected, including a module the sandbox would refuse
     (the page says why) or whose describe() fails
  3  error: the file cannot be read or is not a WebAssembly component";

/// Arguments of `gatehouse inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// The policy component (.wasm) to inspect.
    #[arg(value_name = "POLICY.wasm")]
    pub policy: PathBuf,

    /// Output format: a page for people, or JSON (schema gatehouse.inspect/v1,
    /// docs/inspect.md).
    #[arg(long, value_enum, default_value_t = InspectOutput::Text)]
    pub output: InspectOutput,
}

/// Output formats of `gatehouse inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InspectOutput {
    /// The human-readable page.
    Text,
    /// The JSON document (docs/inspect.md).
    Json,
}

/// What `--output json` prints when the file cannot be inspected.
#[derive(Debug, Serialize)]
struct InspectError {
    schema: &'static str,
    path: String,
    error: String,
}

/// Runs `gatehouse inspect` and returns the exit code.
pub fn run(args: &InspectArgs, engines: &EngineSettings) -> i32 {
    let fail = |error: String| {
        crate::output::print_error(&error);
        if args.output == InspectOutput::Json {
            let report = InspectError {
                schema: SCHEMA,
                path: args.policy.display().to_string(),
                error,
            };
            if let Ok(json) = serde_json::to_string_pretty(&report) {
                let _ = writeln!(std::io::stdout().lock(), "{json}");
            }
        }
        EXIT_ERROR
    };
    let runtime = match engines.builder().build() {
        Ok(runtime) => runtime,
        Err(e) => return fail(e.to_string()),
    };
    let inspection =
        match inspect::inspect(&runtime, &args.policy, gatehouse_core::time::now_unix()) {
            Ok(inspection) => inspection,
            Err(e) => return fail(e.to_string()),
        };
    let text = match args.output {
        InspectOutput::Text => inspect::text::render(&inspection),
        InspectOutput::Json => match serde_json::to_string_pretty(&inspection) {
            Ok(json) => format!("{json}\n"),
            Err(e) => return fail(format!("cannot serialise the inspection: {e}")),
        },
    };
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        crate::output::print_error(&format!("cannot write to stdout: {e}"));
        return EXIT_ERROR;
    }
    0
}
