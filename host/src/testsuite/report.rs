//! The `gatehouse test` reports: one text line per case (with the diff of a
//! failure) and a summary line, or the versioned JSON document
//! `gatehouse.test-report/v1` (docs/testing-policies.md).

use super::run::{Actual, CaseResult, Summary};
use serde::Serialize;

/// The JSON report's schema identifier.
pub const SCHEMA: &str = "gatehouse.test-report/v1";

/// A result as text: `PASS  <suite>  <case>`, then the diff or the
/// problems, each indented on its own line. Suite paths, case names and
/// messages (which quote policies' reasons and errors) are untrusted: each
/// is one escaped, bounded line ([`crate::untrusted::line`]).
pub fn render_case(result: &CaseResult) -> String {
    use crate::untrusted::line;
    let label = format!("{:<5}", result.status.label());
    let suite = line(&result.suite);
    let mut out = match (&result.name, result.suite.is_empty()) {
        (Some(name), _) => format!("{label} {suite}  {}\n", line(name)),
        (None, false) => format!("{label} {suite}\n"),
        (None, true) => format!("{label} gatehouse test\n"),
    };
    for message in &result.messages {
        out.push_str("      ");
        out.push_str(&line(message));
        out.push('\n');
    }
    out
}

/// `N passed, N failed` and, when there are any, `, N errors`.
pub fn render_summary(summary: &Summary) -> String {
    let mut line = format!("{} passed, {} failed", summary.passed, summary.failed);
    if summary.errors > 0 {
        line.push_str(&format!(
            ", {} error{}",
            summary.errors,
            if summary.errors == 1 { "" } else { "s" }
        ));
    }
    line.push('\n');
    line
}

#[derive(Serialize)]
struct JsonReport<'a> {
    schema: &'static str,
    cases: Vec<JsonCase<'a>>,
    summary: Summary,
    exit_code: i32,
}

#[derive(Serialize)]
struct JsonCase<'a> {
    suite: &'a str,
    name: Option<&'a str>,
    status: super::run::Status,
    policy: Option<&'a str>,
    expected: Option<JsonExpected<'a>>,
    actual: Option<&'a Actual>,
    messages: &'a [String],
    duration_ms: u64,
}

#[derive(Serialize)]
struct JsonExpected<'a> {
    verdict: &'static str,
    reasons: &'a [String],
    approvers: Option<&'a [String]>,
}

/// The results as the JSON document `gatehouse.test-report/v1`.
pub fn render_json(results: &[CaseResult]) -> String {
    let summary = Summary::of(results);
    let report = JsonReport {
        schema: SCHEMA,
        cases: results
            .iter()
            .map(|r| JsonCase {
                suite: &r.suite,
                name: r.name.as_deref(),
                status: r.status,
                policy: r.policy.as_deref(),
                expected: r.expected.as_ref().map(|e| JsonExpected {
                    verdict: e.outcome.as_str(),
                    reasons: &e.reasons,
                    approvers: e.approvers.as_deref(),
                }),
                actual: r.actual.as_ref(),
                messages: &r.messages,
                duration_ms: u64::try_from(r.duration.as_millis()).unwrap_or(u64::MAX),
            })
            .collect(),
        summary,
        exit_code: summary.exit_code(),
    };
    // Serialising plain strings, numbers and lists cannot fail.
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| {
        format!("{{\"schema\": \"{SCHEMA}\", \"error\": \"cannot serialise the report: {e}\"}}")
    }) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite::run::Status;
    use crate::testsuite::{Expectation, Expected};
    use std::time::Duration;

    fn failed() -> CaseResult {
        CaseResult {
            suite: "s.test.toml".into(),
            name: Some("deletes need a DBA".into()),
            status: Status::Fail,
            policy: Some("p.wasm".into()),
            expected: Some(Expectation {
                outcome: Expected::RequireApproval,
                reasons: vec!["database".into()],
                approvers: None,
            }),
            actual: Some(Actual {
                verdict: "approve",
                reasons: vec!["fine".into()],
                approvers: vec![],
                error: None,
            }),
            messages: vec![
                "expected: require-approval".into(),
                "actual:   approve".into(),
            ],
            duration: Duration::from_millis(7),
        }
    }

    #[test]
    fn text_lines_and_summary() {
        assert_eq!(
            render_case(&failed()),
            "FAIL  s.test.toml  deletes need a DBA\n      expected: require-approval\n      actual:   approve\n"
        );
        let error = CaseResult::suite_error("bad.test.toml", vec!["bad.test.toml:3: oops".into()]);
        assert_eq!(
            render_case(&error),
            "ERROR bad.test.toml\n      bad.test.toml:3: oops\n"
        );
        let s = Summary::of(&[failed(), error]);
        assert_eq!(render_summary(&s), "0 passed, 1 failed, 1 error\n");
        assert_eq!(render_summary(&Summary::default()), "0 passed, 0 failed\n");
    }

    #[test]
    fn json_has_the_schema_cases_and_summary() {
        let json: serde_json::Value =
            serde_json::from_str(&render_json(&[failed()])).expect("valid JSON");
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["cases"][0]["status"], "fail");
        assert_eq!(json["cases"][0]["expected"]["verdict"], "require-approval");
        assert_eq!(json["cases"][0]["actual"]["verdict"], "approve");
        assert_eq!(json["cases"][0]["duration_ms"], 7);
        assert_eq!(json["summary"]["failed"], 1);
        assert_eq!(json["exit_code"], 1);
    }
}
