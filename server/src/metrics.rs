//! `GET /metrics`: the service's counters in the Prometheus text
//! exposition format 0.0.4, rendered by hand (a dozen lines; the format
//! is plain text, and a unit test parses the output back).
//!
//! Counters and histograms are this replica's, since it started (sum them
//! over replicas); the pending-request gauge is read from the store, which
//! all replicas share (take one replica's value, or `max`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// The Content-Type of the exposition.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Evaluation latency buckets, seconds.
const EVALUATION_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Approval wait buckets, seconds: a minute to three days.
const WAIT_BUCKETS: &[f64] = &[
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0, 259200.0,
];

/// The verdicts, shown at 0 before the first decision of each.
const VERDICTS: [&str; 4] = ["auto-approve", "require-approval", "fail", "error"];

/// A cumulative histogram.
#[derive(Debug, Clone)]
struct Histogram {
    bounds: &'static [f64],
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn new(bounds: &'static [f64]) -> Histogram {
        Histogram {
            bounds,
            counts: vec![0; bounds.len()],
            sum: 0.0,
            count: 0,
        }
    }

    fn observe(&mut self, value: f64) {
        let value = if value.is_finite() {
            value.max(0.0)
        } else {
            0.0
        };
        for (bound, count) in self.bounds.iter().zip(self.counts.iter_mut()) {
            if value <= *bound {
                *count += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, help: &str) {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (bound, count) in self.bounds.iter().zip(&self.counts) {
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {count}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", self.count);
        let _ = writeln!(out, "{name}_sum {}", self.sum);
        let _ = writeln!(out, "{name}_count {}", self.count);
    }
}

#[derive(Debug)]
struct Inner {
    decisions: BTreeMap<String, u64>,
    policy_verdicts: BTreeMap<(String, String), u64>,
    rejected: BTreeMap<String, u64>,
    evaluation: Histogram,
    wait: Histogram,
}

/// The replica's metrics.
#[derive(Debug)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

/// A label value escaped as the format asks (`\\`, `\"`, `\n`).
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl Metrics {
    /// No decisions yet.
    pub fn new() -> Metrics {
        Metrics {
            inner: Mutex::new(Inner {
                decisions: VERDICTS.iter().map(|v| (v.to_string(), 0)).collect(),
                policy_verdicts: BTreeMap::new(),
                rejected: BTreeMap::new(),
                evaluation: Histogram::new(EVALUATION_BUCKETS),
                wait: Histogram::new(WAIT_BUCKETS),
            }),
        }
    }

    fn with(&self, f: impl FnOnce(&mut Inner)) {
        // A panic while holding the lock leaves plain counters: keep them.
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        f(&mut inner);
    }

    /// A decision recorded: its verdict, and each policy's verdict in it.
    pub fn decision<'a>(&self, verdict: &str, policies: impl Iterator<Item = (&'a str, &'a str)>) {
        self.with(|inner| {
            *inner.decisions.entry(verdict.to_string()).or_default() += 1;
            for (policy, verdict) in policies {
                *inner
                    .policy_verdicts
                    .entry((policy.to_string(), verdict.to_string()))
                    .or_default() += 1;
            }
        });
    }

    /// An evaluation ran for `seconds`.
    pub fn evaluation(&self, seconds: f64) {
        self.with(|inner| inner.evaluation.observe(seconds));
    }

    /// A request was approved `seconds` after it was opened.
    pub fn approval_wait(&self, seconds: f64) {
        self.with(|inner| inner.wait.observe(seconds));
    }

    /// A posted approval was refused, for `reason` (`not-in-group`, ...).
    pub fn rejected_approval(&self, reason: &str) {
        self.with(|inner| *inner.rejected.entry(reason.to_string()).or_default() += 1);
    }

    /// The exposition, with `pending` approval requests in the store.
    pub fn render(&self, pending: i64) -> String {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} counter");
        };
        counter(
            &mut out,
            "gatehouse_decisions_total",
            "Decisions recorded by this replica, by verdict.",
        );
        for (verdict, n) in &inner.decisions {
            let _ = writeln!(
                out,
                "gatehouse_decisions_total{{verdict=\"{}\"}} {n}",
                label(verdict)
            );
        }
        counter(
            &mut out,
            "gatehouse_policy_decisions_total",
            "Policy results in the decisions recorded by this replica, by policy and its verdict.",
        );
        for ((policy, verdict), n) in &inner.policy_verdicts {
            let _ = writeln!(
                out,
                "gatehouse_policy_decisions_total{{policy=\"{}\",verdict=\"{}\"}} {n}",
                label(policy),
                label(verdict)
            );
        }
        inner.evaluation.render(
            &mut out,
            "gatehouse_evaluation_duration_seconds",
            "Time one evaluation took on this replica, from its submission to the pool (waiting for a worker included) to its verdict; the store not included.",
        );
        let _ = writeln!(
            out,
            "# HELP gatehouse_approval_requests_pending Approval requests pending in the store (shared by all replicas)."
        );
        let _ = writeln!(out, "# TYPE gatehouse_approval_requests_pending gauge");
        let _ = writeln!(out, "gatehouse_approval_requests_pending {pending}");
        inner.wait.render(
            &mut out,
            "gatehouse_approval_wait_seconds",
            "Time from an approval request opening to its approval, for requests approved through this replica.",
        );
        counter(
            &mut out,
            "gatehouse_approvals_rejected_total",
            "Posted approvals this replica refused, by reason.",
        );
        for (reason, n) in &inner.rejected {
            let _ = writeln!(
                out,
                "gatehouse_approvals_rejected_total{{reason=\"{}\"}} {n}",
                label(reason)
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One sample of the exposition: name, labels, value.
    type Sample = (String, Vec<(String, String)>, f64);

    /// Parses the text format back (what a scraper does): every line a
    /// comment or `name{label="value",...} number`.
    fn parse(text: &str) -> Vec<Sample> {
        let mut samples = Vec::new();
        for line in text.lines() {
            if line.starts_with("# HELP ") || line.starts_with("# TYPE ") {
                continue;
            }
            assert!(!line.starts_with('#') && !line.is_empty(), "{line:?}");
            let (series, value) = line.rsplit_once(' ').expect("a value");
            let value: f64 = value.parse().expect("a number");
            let (name, labels) = match series.split_once('{') {
                None => (series.to_string(), Vec::new()),
                Some((name, rest)) => {
                    let body = rest.strip_suffix('}').expect("closing brace");
                    let mut labels = Vec::new();
                    let mut chars = body.chars().peekable();
                    while chars.peek().is_some() {
                        let key: String = chars.by_ref().take_while(|c| *c != '=').collect();
                        assert_eq!(chars.next(), Some('"'), "{line}");
                        let mut value = String::new();
                        loop {
                            match chars.next().expect("unterminated label") {
                                '\\' => match chars.next().expect("escape") {
                                    'n' => value.push('\n'),
                                    c => value.push(c),
                                },
                                '"' => break,
                                c => value.push(c),
                            }
                        }
                        labels.push((key, value));
                        if chars.peek() == Some(&',') {
                            chars.next();
                        }
                    }
                    (name.to_string(), labels)
                }
            };
            assert!(
                name.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                "{name}"
            );
            samples.push((name, labels, value));
        }
        samples
    }

    fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        samples
            .iter()
            .find(|(n, l, _)| {
                n == name
                    && l.len() == labels.len()
                    && labels
                        .iter()
                        .all(|(k, v)| l.iter().any(|(lk, lv)| lk == k && lv == v))
            })
            .map(|(_, _, v)| *v)
    }

    #[test]
    fn the_exposition_parses_back_with_every_count() {
        let metrics = Metrics::new();
        metrics.decision(
            "require-approval",
            [
                ("destructive-changes", "require-approval"),
                ("odd \"name\"\\\n", "auto-approve"),
            ]
            .into_iter(),
        );
        metrics.decision("auto-approve", std::iter::empty());
        metrics.evaluation(0.02);
        metrics.evaluation(3.0);
        metrics.approval_wait(120.0);
        metrics.rejected_approval("not-in-group");
        metrics.rejected_approval("not-in-group");
        let samples = parse(&metrics.render(7));
        let v = |name: &str, labels: &[(&str, &str)]| value(&samples, name, labels);
        assert_eq!(
            v(
                "gatehouse_decisions_total",
                &[("verdict", "require-approval")]
            ),
            Some(1.0)
        );
        assert_eq!(
            v("gatehouse_decisions_total", &[("verdict", "auto-approve")]),
            Some(1.0)
        );
        assert_eq!(
            v("gatehouse_decisions_total", &[("verdict", "fail")]),
            Some(0.0)
        );
        assert_eq!(
            v(
                "gatehouse_policy_decisions_total",
                &[("policy", "odd \"name\"\\\n"), ("verdict", "auto-approve")]
            ),
            Some(1.0)
        );
        assert_eq!(
            v("gatehouse_evaluation_duration_seconds_count", &[]),
            Some(2.0)
        );
        let sum = v("gatehouse_evaluation_duration_seconds_sum", &[]).expect("sum");
        assert!((sum - 3.02).abs() < 1e-9, "{sum}");
        assert_eq!(
            v(
                "gatehouse_evaluation_duration_seconds_bucket",
                &[("le", "0.025")]
            ),
            Some(1.0)
        );
        assert_eq!(
            v(
                "gatehouse_evaluation_duration_seconds_bucket",
                &[("le", "5")]
            ),
            Some(2.0)
        );
        assert_eq!(
            v(
                "gatehouse_evaluation_duration_seconds_bucket",
                &[("le", "+Inf")]
            ),
            Some(2.0)
        );
        assert_eq!(v("gatehouse_approval_requests_pending", &[]), Some(7.0));
        assert_eq!(
            v("gatehouse_approval_wait_seconds_bucket", &[("le", "60")]),
            Some(0.0)
        );
        assert_eq!(
            v("gatehouse_approval_wait_seconds_bucket", &[("le", "300")]),
            Some(1.0)
        );
        assert_eq!(
            v(
                "gatehouse_approvals_rejected_total",
                &[("reason", "not-in-group")]
            ),
            Some(2.0)
        );
        // Buckets are cumulative.
        let buckets: Vec<f64> = samples
            .iter()
            .filter(|(n, _, _)| n == "gatehouse_evaluation_duration_seconds_bucket")
            .map(|(_, _, v)| *v)
            .collect();
        assert!(buckets.windows(2).all(|w| w[0] <= w[1]), "{buckets:?}");
    }
}
