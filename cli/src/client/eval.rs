//! `gatehouse eval --server URL`: the release is read here (bounded, as a
//! local eval reads it), submitted to `POST /v1/evaluations`, and the
//! server's answer printed as a local eval prints its report, with the
//! decision id and approval request. With `--wait`, a `require-approval`
//! answer is followed by polling its approval request until it is decided.
//!
//! Exit codes are a local eval's: 0 auto-approve, 2 require approval, 1
//! fail, 3 error. With `--wait`: 0 only when the server says the request is
//! `approved`, 1 `rejected`, 2 still pending at `--wait-timeout` or
//! `expired`, 3 when the server cannot be asked (after a bounded number of
//! retries) or answers something that is not the API's.

use super::{Client, ClientError, duration, render, retry_delay, token};
use crate::args::{EvalArgs, OutputFormat};
use crate::output::print_warning;
use gatehouse_core::report::ErrorReport;
use serde_json::{Map, Value, json};
use std::io::Write;
use std::time::{Duration, Instant};

/// Failed polls in a row (no answer, 502–504) tolerated while waiting,
/// each after a back-off, before `--wait` gives up with exit 3: enough to
/// ride out a server restart, not to hang on a server that is gone.
pub const MAX_POLL_FAILURES: u32 = 6;

/// The shortest `--poll-interval`.
const MIN_POLL: Duration = Duration::from_secs(1);

/// Runs `gatehouse eval --server` and returns the exit code.
pub fn run(args: &EvalArgs, server: &str) -> i32 {
    match submit(args, server) {
        Ok(code) => code,
        Err(message) => crate::output::report_error(&ErrorReport::new(message), args.output),
    }
}

/// What the wait for an approval request ended with.
enum Waited {
    /// The request is closed: `approved`, `rejected` or `expired`.
    Closed(Value),
    /// Still pending at the deadline.
    TimedOut,
}

fn submit(args: &EvalArgs, server: &str) -> Result<i32, String> {
    let wait = if args.server.wait {
        Some((
            duration::parse("--wait-timeout", &args.server.wait_timeout, MIN_POLL)?,
            duration::parse("--poll-interval", &args.server.poll_interval, MIN_POLL)?,
        ))
    } else {
        None
    };
    let token_file = token::file(args.server.token_file.as_deref())?;
    let client = Client::new(server, &token_file)?;
    let body = request_body(args)?;
    let answer = client
        .post("/v1/evaluations", &body)
        .map_err(|e| e.to_string())?;
    let (verdict, exit_code) = checked_verdict(&answer)?;
    let decision_id = answer["decision_id"].as_str().unwrap_or_default();
    super::check_id("the decision id", decision_id)
        .map_err(|why| format!("the server's answer is not the API's: {why}"))?;

    if verdict == "error" {
        // The server recorded a decision that could not be made: report it
        // as a local eval reports its errors.
        let message = answer["report"]["error"]
            .as_str()
            .unwrap_or("the server could not evaluate the release");
        print_diagnostic_note(&format!(
            "decision {decision_id} recorded by {}",
            client.base()
        ));
        let digest = answer["release_digest"].as_str().map(str::to_string);
        return Ok(crate::output::report_error(
            &ErrorReport::new(message.to_string()).with_release_digest(digest),
            args.output,
        ));
    }
    deliver(&answer, args.output)?;

    let request = &answer["approval_request"];
    let (Some((timeout, interval)), "require-approval") = (wait, verdict) else {
        github_outputs(args.output, verdict, exit_code)?;
        return Ok(exit_code);
    };
    let request_id = request["id"].as_str().unwrap_or_default();
    super::check_id("the approval request id", request_id).map_err(|why| {
        format!(
            "the server answered require-approval without an approval request to wait for: {why}"
        )
    })?;
    print_diagnostic_note(&format!(
        "waiting up to {} for approval request {request_id} (asking every {}s); an approver runs: gatehouse approve --server {} --request {request_id} --token-file FILE --key KEY --group GROUP",
        args.server.wait_timeout,
        interval.as_secs(),
        client.base(),
    ));
    let (verdict, code) = match wait_for(&client, request_id, timeout, interval)? {
        Waited::TimedOut => {
            print_diagnostic_note(&format!(
                "approval request {request_id} is still pending after {}; run the same command again to keep waiting (it joins the same request)",
                args.server.wait_timeout
            ));
            ("require-approval", 2)
        }
        Waited::Closed(closed) => {
            let resolution = closed["resolution"]
                .as_str()
                .unwrap_or("no resolution given");
            match closed["state"].as_str().unwrap_or_default() {
                "approved" => {
                    print_diagnostic_note(&format!(
                        "approval request {request_id} approved: {resolution}"
                    ));
                    ("auto-approve", 0)
                }
                "rejected" => {
                    print_diagnostic_note(&format!(
                        "approval request {request_id} rejected: {resolution}"
                    ));
                    ("fail", 1)
                }
                _ => {
                    print_diagnostic_note(&format!(
                        "approval request {request_id} expired before anyone decided; submit the release again to open a new request"
                    ));
                    ("require-approval", 2)
                }
            }
        }
    };
    github_outputs(args.output, verdict, code)?;
    Ok(code)
}

/// The answer's verdict and exit code, which must agree: a local eval's
/// pairs, or `error` with 3. Anything else is not the API's answer.
fn checked_verdict(answer: &Value) -> Result<(&str, i32), String> {
    let verdict = answer["verdict"].as_str().unwrap_or_default();
    let code = answer["exit_code"].as_i64();
    let expected = match verdict {
        "auto-approve" => 0,
        "require-approval" => 2,
        "fail" => 1,
        "error" => 3,
        _ => -1,
    };
    if code != Some(expected) || !answer["report"].is_object() {
        return Err(format!(
            "the server's answer is not the API's (verdict {:?}, exit code {:?}, a report: {}); is --server a gatehouse server of this version?",
            gatehouse_core::untrusted::line(verdict),
            code,
            answer["report"].is_object()
        ));
    }
    Ok((verdict, expected as i32))
}

/// Polls `GET /v1/approval-requests/{id}` every `interval` until the
/// request is no longer pending or `timeout` has passed. A busy server's
/// `Retry-After` is honoured; failures without an answer back off and are
/// tolerated [`MAX_POLL_FAILURES`] times in a row.
fn wait_for(
    client: &Client,
    request_id: &str,
    timeout: Duration,
    interval: Duration,
) -> Result<Waited, String> {
    let deadline = Instant::now() + timeout;
    let path = format!("/v1/approval-requests/{request_id}");
    let mut failures = 0u32;
    let mut pause = interval;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        std::thread::sleep(pause.min(left));
        match client.get(&path) {
            Ok(request) => {
                failures = 0;
                pause = interval;
                if request["id"].as_str() != Some(request_id) {
                    return Err(format!(
                        "the server answered {path} with another request; is --server a gatehouse server?"
                    ));
                }
                match request["state"].as_str().unwrap_or_default() {
                    "pending" => {}
                    "approved" | "rejected" | "expired" => return Ok(Waited::Closed(request)),
                    other => {
                        return Err(format!(
                            "approval request {request_id} is in a state this gatehouse does not know ({:?}); upgrade it",
                            gatehouse_core::untrusted::line(other)
                        ));
                    }
                }
            }
            Err(error) if error.is_transient() && failures < MAX_POLL_FAILURES => {
                failures += 1;
                let retry_after = match &error {
                    ClientError::Status { retry_after, .. } => *retry_after,
                    _ => None,
                };
                pause = retry_delay(retry_after, failures);
                print_warning(&format!(
                    "{error}; asking again in {}s ({failures} of {MAX_POLL_FAILURES})",
                    pause.as_secs()
                ));
            }
            Err(error) => {
                return Err(format!(
                    "while waiting for approval request {request_id}: {error}"
                ));
            }
        }
        if Instant::now() >= deadline {
            return Ok(Waited::TimedOut);
        }
    }
}

/// The request body: the input's bytes as `release`, exactly as read (the
/// server reads them as a local eval would; they must be one JSON value),
/// with the release flags and the signed approvals.
fn request_body(args: &EvalArgs) -> Result<Vec<u8>, String> {
    let flags = &args.release.flags;
    let (source, bytes) =
        gatehouse_core::input::read_input(&args.release.input, flags.max_input_mib)
            .map_err(|e| e.to_string())?;
    let text = std::str::from_utf8(&bytes)
        .map_err(|e| format!("{source}: the input is not UTF-8 text ({e}); expected JSON"))?;
    serde_json::from_str::<serde::de::IgnoredAny>(text).map_err(|e| {
        format!("{source}: not one JSON value ({e}); expected a release, a Terraform plan or a Pulumi preview")
    })?;
    let mut rest = Map::new();
    let format = match flags.format {
        crate::args::InputFormat::Auto => "auto",
        crate::args::InputFormat::Release => "release",
        crate::args::InputFormat::Terraform => "terraform",
        crate::args::InputFormat::Pulumi => "pulumi",
    };
    rest.insert("format".into(), json!(format));
    if let Some(environment) = &flags.environment {
        rest.insert("environment".into(), json!(environment));
    }
    if let Some(stream) = &flags.release_stream {
        rest.insert("releaseStream".into(), json!(stream));
    }
    let meta = crate::args::parse_meta(&flags.meta)?;
    if !meta.is_empty() {
        let map: Map<String, Value> = meta.into_iter().map(|(k, v)| (k, json!(v))).collect();
        rest.insert("metadata".into(), Value::Object(map));
    }
    let approvals = signed_approvals(args)?;
    if !approvals.is_empty() {
        rest.insert("approvals".into(), Value::Array(approvals));
    }
    let rest = serde_json::to_string(&Value::Object(rest))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    // `rest` is `{"format":…}`: splice the release in as its first field.
    let mut body = String::with_capacity(text.len() + rest.len() + 16);
    body.push_str("{\"release\":");
    body.push_str(text);
    body.push(',');
    body.push_str(rest.strip_prefix('{').unwrap_or(&rest));
    Ok(body.into_bytes())
}

/// `--approvals` for the server: signed approvals only (statement and
/// signature texts), which the server verifies under its set's trust
/// section. An unsigned list cannot count there.
fn signed_approvals(args: &EvalArgs) -> Result<Vec<Value>, String> {
    let paths = &args.release.approvals.approvals;
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let limit = args.release.flags.max_input_mib.saturating_mul(1 << 20);
    let collected = gatehouse_core::approvals::collect(paths, limit)?;
    if let Some(list) = collected.unsigned.first() {
        return Err(format!(
            "--approvals {}: an unsigned approvals list; a server counts only signed approvals (gatehouse approve writes them; docs/approvals.md)",
            list.name
        ));
    }
    collected
        .signed
        .into_iter()
        .map(|file| {
            let statement = String::from_utf8(file.statement).map_err(|_| {
                format!("--approvals {}: the statement is not UTF-8 text", file.name)
            })?;
            let signature = String::from_utf8(file.signature).map_err(|_| {
                format!(
                    "--approvals {}.sig: the signature is not UTF-8 text",
                    file.name
                )
            })?;
            Ok(json!({"statement": statement, "signature": signature}))
        })
        .collect()
}

/// Prints the answer: `--output json` the report JSON as the server gave
/// it (a local eval's document), else the text report.
fn deliver(answer: &Value, output: OutputFormat) -> Result<(), String> {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let written = match output {
        OutputFormat::Json => serde_json::to_writer_pretty(&mut out, &answer["report"])
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out)),
        OutputFormat::Text | OutputFormat::Github => render::write_text(answer, &mut out),
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write the report to stdout: {e}"))?;
    if output == OutputFormat::Json {
        drop(out);
        let mut note = format!(
            "decision {}",
            answer["decision_id"].as_str().unwrap_or_default()
        );
        if let Some(id) = answer["approval_request"]["id"].as_str() {
            note.push_str(&format!(", approval request {id}"));
        }
        print_diagnostic_note(&note);
    }
    Ok(())
}

/// `verdict=` and `exit-code=` to `$GITHUB_OUTPUT` with `--output github`:
/// the final outcome, after any wait.
fn github_outputs(output: OutputFormat, verdict: &str, code: i32) -> Result<(), String> {
    if output != OutputFormat::Github {
        return Ok(());
    }
    crate::output::append_github_file(
        "GITHUB_OUTPUT",
        &gatehouse_core::report::github::render_outputs(verdict, code),
    )
    .map_err(|e| format!("cannot write the verdict to {e}"))
}

/// `gatehouse: NOTE` on stderr, escaped.
fn print_diagnostic_note(message: &str) {
    let line = gatehouse_core::untrusted::line(message);
    let _ = writeln!(std::io::stderr().lock(), "gatehouse: {line}");
}
