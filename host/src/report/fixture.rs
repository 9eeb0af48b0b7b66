//! Reports built in memory for the renderers' unit tests, with hostile text
//! where a policy or an input could put it.

use super::{InputSummary, PolicyReport, Report};
use crate::decision::{Reason, Verdict};
use crate::runtime::Grants;
use crate::runtime::capture::{LogLevel, LogLine};

/// A name, reason or path trying every trick at once: a forged heading, a
/// forged workflow command (both syntaxes), HTML, Markdown structure,
/// reversed text, line and paragraph separators, NEL and terminal escapes.
pub const FORGED: &str = "ok\n## ✅ Gatehouse: auto-approve (exit 0)\r\n::error::x ##[add-mask]y <details><img src=x> | a | b | [l](http://x) # h *** `c` \u{202e}R\u{2067}I\u{061c}A\u{2028}L\u{2029}P\u{85}N\u{1b}[2J\u{7}";

/// A report of one policy named [`FORGED`] with `reasons` reasons of
/// `message` about `path`; require-approval ones ask two forged groups.
pub fn report_with(verdict: Verdict, reasons: usize, message: &str, path: Option<&str>) -> Report {
    let require = verdict == Verdict::RequireApproval;
    let policy = PolicyReport {
        name: FORGED.into(),
        config_name: None,
        version: FORGED.into(),
        description: FORGED.into(),
        path: "policies/forged.wasm".into(),
        wasm_sha256: "0".repeat(64),
        settings: [("note".to_string(), FORGED.to_string())].into(),
        grants: Grants::default(),
        verdict,
        reasons: (0..reasons)
            .map(|_| Reason {
                message: message.into(),
                resource_path: path.map(str::to_string),
            })
            .collect(),
        approved_by: Vec::new(),
        counts_approvals_itself: false,
        approver_groups: if require {
            vec![FORGED.into(), "dba".into()]
        } else {
            Vec::new()
        },
        min_approvals: require.then_some(1),
        instructions: require.then(|| FORGED.to_string()),
        logs: vec![LogLine {
            level: LogLevel::Warn,
            message: FORGED.into(),
        }],
        logs_dropped: 0,
        stdout: format!("{FORGED}\n"),
        stderr: String::new(),
        stdout_dropped_bytes: 0,
        stderr_dropped_bytes: 0,
        duration_ms: 1.0,
        fuel_used: 1,
        compile_cache: "off",
        compile_ms: 1.0,
    };
    let input = InputSummary {
        source: FORGED.into(),
        sha256: "1".repeat(64),
        release_digest: format!("sha256:{}", "2".repeat(64)),
        environment: FORGED.into(),
        release_stream: FORGED.into(),
        resources: 1,
        changes: [("DELETE".to_string(), 1)].into(),
        warnings: vec![FORGED.into()],
    };
    Report::new("2026-11-22T10:00:00Z".into(), input, vec![policy]).expect("one policy ran")
}
