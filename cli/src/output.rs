//! What the binary writes and the exit code it ends with: diagnostics on
//! stderr (escaped like all untrusted text), the report on stdout, the
//! GitHub Actions files, and the JSON error object. Every subcommand reports
//! through these, so an error looks the same whichever command hit it.

use crate::args::OutputFormat;
use gatehouse_core::report::{ErrorReport, Report};

/// Exit code for every error, including command-line usage errors.
pub const EXIT_ERROR: i32 = 3;

/// What `--server` says in a binary built without the `client` feature.
#[cfg(not(feature = "client"))]
pub const NO_CLIENT: &str = "this gatehouse was built without the `client` feature (the quick start builds it so); build the full binary with `cargo build -p gatehouse` (default features) to use --server";

/// Prints `gatehouse: error: MESSAGE` on stderr, the message escaped and
/// bounded like every untrusted text ([`gatehouse_core::untrusted::line`]):
/// errors quote policies, inputs and files.
pub fn print_error(message: &str) {
    print_diagnostic("error", message);
}

/// Prints `gatehouse: warning: MESSAGE` on stderr, escaped as by [`print_error`].
pub fn print_warning(message: &str) {
    print_diagnostic("warning", message);
}

/// Prints `gatehouse: MESSAGE` on stderr, escaped as by [`print_error`]: a
/// progress notice (a slow compile), never on stdout.
pub fn print_notice(message: &str) {
    use std::io::Write;
    let line = gatehouse_core::untrusted::line(message);
    let _ = writeln!(std::io::stderr().lock(), "gatehouse: {line}");
}

/// Prints `gatehouse: MESSAGE` on stderr: a line of a long-running command's
/// log (`serve`), escaped as by [`print_error`].
#[cfg(feature = "serve")]
pub fn print_diagnostic_line(message: &str) {
    use std::io::Write;
    let line = gatehouse_core::untrusted::line(message);
    let _ = writeln!(std::io::stderr().lock(), "gatehouse: {line}");
}

/// Writes one diagnostic line to stderr; a stderr that cannot be written
/// to is ignored rather than a panic (the exit code still tells).
fn print_diagnostic(level: &str, message: &str) {
    use std::io::Write;
    let line = gatehouse_core::untrusted::diagnostic(level, message);
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Delivers a decision: the report streamed to stdout; with `--output
/// github`, then `verdict=`/`exit-code=` to `$GITHUB_OUTPUT` and the summary
/// to `$GITHUB_STEP_SUMMARY`. Stdout and `$GITHUB_OUTPUT` carry the verdict
/// to whoever acts on it, so failing to write either is an error (returned,
/// with what failed); the step summary is for people reading the job page,
/// so failing to write it is a warning. `$GITHUB_OUTPUT` is written only once
/// stdout has succeeded, so it never holds a verdict the process then does
/// not exit with.
pub fn deliver_report(report: &Report, output: OutputFormat) -> Result<(), String> {
    use gatehouse_core::report::github;
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    match output {
        OutputFormat::Text => gatehouse_core::report::write_text(report, &mut out),
        OutputFormat::Json => report.write_json(&mut out),
        OutputFormat::Github => github::write_log(report, &mut out),
    }
    .and_then(|()| out.flush())
    .map_err(|e| format!("cannot write the report to stdout: {e}"))?;
    drop(out);
    if output == OutputFormat::Github {
        append_github_file(
            "GITHUB_OUTPUT",
            &github::render_outputs(report.verdict.as_str(), report.exit_code),
        )
        .map_err(|e| format!("cannot write the verdict to {e}"))?;
        append_github_summary(|room| github::render_summary(report, room));
    }
    Ok(())
}

/// Prints an error the way every subcommand does: one line on stderr, and
/// for `--output json` an error object on stdout.
pub fn report_error(report: &ErrorReport, output: OutputFormat) -> i32 {
    use std::io::Write;
    print_error(&report.error);
    if output == OutputFormat::Github {
        use gatehouse_core::report::github;
        let _ = write!(std::io::stdout().lock(), "{}", github::render_error(report));
        append_github_summary(|_| github::render_error_summary(report));
        if let Err(e) = append_github_file(
            "GITHUB_OUTPUT",
            &github::render_outputs("error", EXIT_ERROR),
        ) {
            print_warning(&format!("cannot append to {e}"));
        }
    }
    if output == OutputFormat::Json {
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let written = serde_json::to_writer_pretty(&mut out, report)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .and_then(|()| out.flush());
        if let Err(e) = written {
            print_error(&format!("cannot write the error report: {e}"));
        }
    }
    EXIT_ERROR
}

/// Appends a step summary to `$GITHUB_STEP_SUMMARY`, when it is set:
/// `render` gets the bytes left below GitHub's 1 MiB per-step cap after
/// what the step already wrote there.
pub(crate) fn append_github_summary(render: impl FnOnce(usize) -> String) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") else {
        return;
    };
    let written = std::fs::metadata(&path).map_or(0, |m| m.len());
    let room = usize::try_from(written).map_or(0, |n| {
        gatehouse_core::report::github::SUMMARY_MAX_BYTES.saturating_sub(n)
    });
    if let Err(e) = append_github_file("GITHUB_STEP_SUMMARY", &render(room)) {
        print_warning(&format!("cannot append to {e}"));
    }
}

/// Appends to the file named by a GitHub Actions variable, when it is set,
/// starting on a new line if the file does not end with one (so an earlier
/// step's last line cannot swallow ours). A failure is returned as
/// `$VARIABLE (path): error`, for the caller to report as it matters there.
pub(crate) fn append_github_file(variable: &str, text: &str) -> Result<(), String> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let Some(path) = std::env::var_os(variable) else {
        return Ok(());
    };
    std::fs::OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| {
            let len = file.metadata()?.len();
            let mut last = [b'\n'];
            if len > 0 {
                file.seek(SeekFrom::Start(len - 1))?;
                file.read_exact(&mut last)?;
            }
            if last[0] != b'\n' {
                file.write_all(b"\n")?;
            }
            file.write_all(text.as_bytes())
        })
        .map_err(|e| {
            format!(
                "${variable} ({}): {e}",
                std::path::Path::new(&path).display()
            )
        })
}
