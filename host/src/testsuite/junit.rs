//! JUnit XML for CI systems (`gatehouse test --junit FILE`): one
//! `<testsuite>` per suite file, one `<testcase>` per case, a `<failure>`
//! with the diff or an `<error>` with the problem. Written with std only;
//! every text and attribute is untrusted (suite files, case names, policies'
//! reasons and errors) and goes through [`crate::untrusted::xml`]:
//! markup escaped, control, bidirectional and invisible characters shown as
//! `\u{..}`, each message one line of at most
//! [`crate::untrusted::MAX_SHOWN_CHARS`] characters.

use super::run::{CaseResult, Status, Summary};
use std::fmt::Write;
use std::time::Duration;

/// Renders the results as a JUnit XML document.
pub fn render(results: &[CaseResult]) -> String {
    let mut groups: Vec<(&str, Vec<&CaseResult>)> = Vec::new();
    for result in results {
        match groups.iter_mut().find(|(suite, _)| *suite == result.suite) {
            Some((_, members)) => members.push(result),
            None => groups.push((&result.suite, vec![result])),
        }
    }
    let total = Summary::of(results);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"gatehouse test\" tests=\"{}\" failures=\"{}\" errors=\"{}\" time=\"{}\">",
        total.total,
        total.failed,
        total.errors,
        seconds(results.iter().map(|r| r.duration).sum())
    );
    for (suite, members) in groups {
        let counts = Summary::of(members.iter().copied());
        let name = if suite.is_empty() {
            "gatehouse test"
        } else {
            suite
        };
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"0\" time=\"{}\">",
            escape(name),
            counts.total,
            counts.failed,
            counts.errors,
            seconds(members.iter().map(|r| r.duration).sum())
        );
        for result in members {
            let case_name = result.name.as_deref().unwrap_or("(suite file)");
            let _ = write!(
                out,
                "    <testcase name=\"{}\" classname=\"{}\" time=\"{}\"",
                escape(case_name),
                escape(name),
                seconds(result.duration)
            );
            // One message per line: the only raw line breaks are ours.
            let body = result
                .messages
                .iter()
                .map(|m| escape(m))
                .collect::<Vec<_>>()
                .join("&#10;");
            match result.status {
                Status::Pass => out.push_str("/>\n"),
                Status::Fail => {
                    let message = match (&result.expected, &result.actual) {
                        (Some(e), Some(a)) => {
                            format!("expected {}, got {}", e.outcome.as_str(), a.verdict)
                        }
                        _ => "the case failed".to_string(),
                    };
                    let _ = write!(
                        out,
                        ">\n      <failure message=\"{}\" type=\"fail\">{}</failure>\n    </testcase>\n",
                        escape(&message),
                        body
                    );
                }
                Status::Error => {
                    let first = result
                        .messages
                        .first()
                        .map(String::as_str)
                        .unwrap_or("error");
                    let _ = write!(
                        out,
                        ">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>\n",
                        escape(first),
                        body
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Escapes untrusted text for XML content and attribute values alike
/// (see [`crate::untrusted::xml`]).
pub fn escape(text: &str) -> String {
    crate::untrusted::xml(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testsuite::run::Actual;
    use crate::testsuite::{Expectation, Expected};

    /// A name and message trying to forge lines and markup.
    const FORGED: &str =
        "ok\n<failure message=\"x\"/>\r\n## ✅ pass \u{202e}R\u{2028}L\u{85}\u{1b}[2J";

    fn result(suite: &str, name: &str, status: Status) -> CaseResult {
        CaseResult {
            suite: suite.into(),
            name: Some(name.into()),
            status,
            policy: None,
            expected: Some(Expectation {
                outcome: Expected::Fail,
                reasons: vec![],
                approvers: None,
            }),
            actual: Some(Actual {
                verdict: "approve",
                reasons: vec![],
                approvers: vec![],
                error: None,
            }),
            messages: if status == Status::Pass {
                vec![]
            } else {
                vec!["expected: fail".into(), "actual:   approve <&>".into()]
            },
            duration: Duration::from_millis(1500),
        }
    }

    #[test]
    fn escapes_everything_xml_cannot_carry() {
        assert_eq!(
            escape("a<b>&\"c\"'d'\n\t\u{1}\u{FFFF}é\u{202e}\u{2028}"),
            "a&lt;b&gt;&amp;&quot;c&quot;&apos;d&apos;\\u{a}\\u{9}\\u{1}\\u{ffff}é\\u{202e}\\u{2028}"
        );
    }

    #[test]
    fn forged_names_and_messages_stay_one_line_each() {
        let mut forged = result("s.test.toml", FORGED, Status::Error);
        forged.suite = FORGED.into();
        forged.messages = vec![FORGED.into(), "second".into()];
        let xml = render(&[forged]);
        assert!(!xml.contains("<details>") && !xml.contains("<img"), "{xml}");
        assert!(
            !xml.chars()
                .any(|c| c != '\n' && crate::untrusted::needs_escape(c)),
            "{xml}"
        );
        assert_eq!(xml.lines().count(), 8, "{xml}");
        assert!(xml.contains("&#10;second</error>"), "{xml}");
    }

    #[test]
    fn groups_cases_by_suite_with_counts() {
        let xml = render(&[
            result("a.test.toml", "one", Status::Pass),
            result("b.test.toml", "two \"quoted\"", Status::Fail),
            result("a.test.toml", "three", Status::Error),
        ]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gatehouse test\" tests=\"3\" failures=\"1\" errors=\"1\" time=\"4.500\">"), "{xml}");
        assert!(xml.contains("<testsuite name=\"a.test.toml\" tests=\"2\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"3.000\">"), "{xml}");
        assert!(
            xml.contains("<testcase name=\"one\" classname=\"a.test.toml\" time=\"1.500\"/>"),
            "{xml}"
        );
        assert!(
            xml.contains("<testcase name=\"two &quot;quoted&quot;\""),
            "{xml}"
        );
        assert!(xml.contains("<failure message=\"expected fail, got approve\" type=\"fail\">expected: fail&#10;actual:   approve &lt;&amp;&gt;</failure>"), "{xml}");
        assert!(
            xml.contains("<error message=\"expected: fail\" type=\"error\">"),
            "{xml}"
        );
        assert_eq!(xml.matches("<testsuite ").count(), 2);
        assert_eq!(xml.matches("</testsuite>").count(), 2);
        assert!(xml.ends_with("</testsuites>\n"));
    }
}
