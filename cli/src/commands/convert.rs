//! `gatehouse convert`: read an input in any supported format and print the
//! release a policy would see, as the native release JSON (pretty-printed).
//! Warnings go to stderr; errors are one line on stderr and exit 3.

use crate::args::ConvertArgs;
use crate::output::EXIT_ERROR;
use gatehouse_core::error::Error;
use std::io::Write;

/// Runs `gatehouse convert` and returns the exit code.
pub fn run(args: &ConvertArgs) -> i32 {
    let (json, warnings) = match convert(args) {
        Ok(converted) => converted,
        Err(err) => {
            crate::output::print_error(&err.to_string());
            return EXIT_ERROR;
        }
    };
    for warning in &warnings {
        crate::output::print_warning(warning);
    }
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{json}").and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(e) => {
            crate::output::print_error(&format!("cannot write the release to stdout: {e}"));
            EXIT_ERROR
        }
    }
}

/// The release JSON and the warnings about the input.
fn convert(args: &ConvertArgs) -> Result<(String, Vec<String>), Error> {
    let loaded = args.release.load()?;
    let (release, warnings) = (loaded.release, loaded.warnings);
    let json = serde_json::to_string_pretty(&release)
        .map_err(|e| Error::Usage(format!("cannot serialise the release: {e}")))?;
    Ok((json, warnings))
}
