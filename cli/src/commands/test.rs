//! `gatehouse test`: find policy test suites (`*.test.toml`), run every case,
//! print one line per case and a summary (or the JSON report), optionally
//! write JUnit XML, and exit 0 / 1 / 3 (docs/testing-policies.md).

use crate::engines::EngineSettings;
use clap::ValueEnum;
use gatehouse_core::testsuite::run::{RunConfig, Summary, run_all};
use gatehouse_core::testsuite::{junit, report};
use std::io::Write;
use std::path::PathBuf;

/// Exit codes of `gatehouse test`.
pub const TEST_HELP: &str = "\
Exit codes:
  0  every case passed
  1  at least one case failed (and none errored)
  3  error: a bad suite file, an unreadable input, a policy that does not load,
     no suite or case found, or a usage error

Suite format, JSON report and CI use: docs/testing-policies.md";

/// Report formats of `gatehouse test`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestOutput {
    /// One line per case, the diff of each failure, and a summary line.
    Text,
    /// The JSON report `gatehouse.test-report/v1`.
    Json,
}

/// Arguments of `gatehouse test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// Suite files (*.test.toml) and directories to search for them
    /// (recursively; hidden directories, target/ and node_modules/ are skipped).
    #[arg(value_name = "PATH", default_value = ".")]
    pub paths: Vec<PathBuf>,

    /// Run every case with this policy instead of the one its suite names:
    /// how a policy's twin in another language runs the same suite.
    #[arg(long, value_name = "P.wasm")]
    pub policy: Option<PathBuf>,

    /// Run only the cases whose name or suite file path contains SUBSTRING.
    #[arg(long, value_name = "SUBSTRING")]
    pub filter: Option<String>,

    /// Report format on stdout.
    #[arg(long, value_enum, default_value_t = TestOutput::Text)]
    pub output: TestOutput,

    /// Also write the results as JUnit XML to FILE (for CI test reports).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
}

/// Runs `gatehouse test` and returns the exit code.
pub fn run(args: &TestArgs, engines: &EngineSettings) -> i32 {
    let config = RunConfig {
        paths: args.paths.clone(),
        policy: args.policy.clone(),
        filter: args.filter.clone(),
        runtime: engines.builder(),
    };
    let text = args.output == TestOutput::Text;
    let mut write_failed: Option<std::io::Error> = None;
    let mut print = |chunk: &str| {
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(chunk.as_bytes()).and_then(|()| out.flush()) {
            write_failed.get_or_insert(e);
        }
    };
    let results = run_all(&config, &mut |result| {
        if text {
            print(&report::render_case(result));
        }
    });
    let summary = Summary::of(&results);
    if text {
        print(&report::render_summary(&summary));
    } else {
        print(&report::render_json(&results));
    }
    if let Some(e) = write_failed {
        crate::output::print_error(&format!("cannot write the report to stdout: {e}"));
        return crate::output::EXIT_ERROR;
    }
    if let Some(path) = &args.junit
        && let Err(e) = std::fs::write(path, junit::render(&results))
    {
        crate::output::print_error(&format!(
            "--junit {}: cannot write the JUnit report: {e}",
            path.display()
        ));
        return crate::output::EXIT_ERROR;
    }
    summary.exit_code()
}
