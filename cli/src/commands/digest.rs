//! `gatehouse digest`: read an input as `convert` does and print its release
//! digest, the `sha256:...` that approvals sign (docs/approvals.md, "Release
//! digest"). Warnings go to stderr; errors are one line on stderr and exit 3.

use crate::args::{OutputFormat, ReleaseArgs};
use crate::output::{EXIT_ERROR, report_error};
use clap::ValueEnum;
use gatehouse_core::report::ErrorReport;
use serde::Serialize;
use std::io::Write;

/// The JSON schema of `gatehouse digest --output json`.
pub const DIGEST_SCHEMA: &str = "gatehouse.digest/v1";

/// What `gatehouse digest --help` adds: what the digest is, and the exit codes.
pub const DIGEST_HELP: &str = "\
The digest is sha256: and the lowercase hex SHA-256 of the RFC 8785 (JCS)
encoding of the normalised release, tagged gatehouse.release/v1: environment,
stream, metadata and resources with their attributes, never approvals.
docs/approvals.md defines it exactly and has a script that recomputes it from
`gatehouse convert` output.

Exit codes:
  0  the digest is on stdout (text: one line, sha256:<64 hex>)
  3  error: the input could not be read or converted (the reason is on stderr)";

/// Arguments of `gatehouse digest`.
#[derive(Debug, clap::Args)]
pub struct DigestArgs {
    /// The release and the flags that shape it, as for `convert`.
    #[command(flatten)]
    pub release: ReleaseArgs,

    /// Output format: the digest alone on one line, or a JSON object
    /// (schema gatehouse.digest/v1) that also names the environment, stream
    /// and resource count.
    #[arg(long, value_enum, default_value_t = DigestOutput::Text)]
    pub output: DigestOutput,
}

/// Output formats of `gatehouse digest`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DigestOutput {
    /// `sha256:<64 hex>` and a newline.
    Text,
    /// `{"schema": "gatehouse.digest/v1", "release_digest": ..., ...}`.
    Json,
}

/// What `--output json` prints.
#[derive(Debug, Serialize)]
struct DigestReport<'a> {
    schema: &'static str,
    release_digest: String,
    environment: &'a str,
    release_stream: &'a str,
    resources: usize,
}

/// Runs `gatehouse digest` and returns the exit code.
pub fn run(args: &DigestArgs) -> i32 {
    let errors_as = match args.output {
        DigestOutput::Text => OutputFormat::Text,
        DigestOutput::Json => OutputFormat::Json,
    };
    let loaded = match args.release.load() {
        Ok(loaded) => loaded,
        Err(err) => return report_error(&ErrorReport::from_error(&err), errors_as),
    };
    for warning in &loaded.warnings {
        crate::output::print_warning(warning);
    }
    let release = &loaded.release;
    let text = match args.output {
        DigestOutput::Text => format!("{}\n", release.digest()),
        DigestOutput::Json => {
            let report = DigestReport {
                schema: DIGEST_SCHEMA,
                release_digest: release.digest(),
                environment: &release.environment_name,
                release_stream: &release.release_stream,
                resources: release.resources.len(),
            };
            match serde_json::to_string_pretty(&report) {
                Ok(json) => format!("{json}\n"),
                Err(e) => {
                    let message = format!("cannot serialise the digest report: {e}");
                    return report_error(&ErrorReport::new(message), errors_as);
                }
            }
        }
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            crate::output::print_error(&format!("cannot write the digest to stdout: {e}"));
            EXIT_ERROR
        }
    }
}
