//! The store's audit chain: every decision's audit record, in the file
//! log's format ([`gatehouse_core::audit::Record`]), numbered by the
//! decision's `seq` and chained by `prev_sha256` to the record before it,
//! as `gatehouse eval --audit-log` chains the lines of a file.
//!
//! The line stored is exactly the bytes hashed, so `gatehouse audit export
//! --store` prints the stored text and `gatehouse audit verify FILE` accepts
//! it. A record's `input` (the normalised release, up to megabytes) is not
//! copied into every line: it is moved to the `releases` table, once per
//! release digest, and the line keeps `release_digest` and `input_sha256`,
//! which name it.

use super::StoreError;
use gatehouse_core::audit::{Record, SCHEMA, genesis, sha256_hex};

/// A record made into a chain line.
#[derive(Debug, Clone, PartialEq)]
pub struct Linked {
    /// The line, exactly as stored and hashed.
    pub line: String,
    /// Hex sha256 of `line`: the next line's `prev_sha256`.
    pub sha256: String,
    /// The release digest and the normalised release JSON moved out of the
    /// record, to store once per digest.
    pub release: Option<(String, String)>,
}

/// Makes the audit record JSON `record` (as the evaluation built it) line
/// `seq` of the chain, after a line whose sha256 is `prev` (`None` for the
/// first line: the genesis value).
pub fn link(record: &str, seq: i64, prev: Option<&str>) -> Result<Linked, StoreError> {
    let mut parsed: Record = serde_json::from_str(record).map_err(|e| {
        StoreError(format!(
            "store: an audit record is not a {SCHEMA} record: {e}"
        ))
    })?;
    let seq = u64::try_from(seq)
        .map_err(|_| StoreError(format!("store: audit seq {seq} is not positive")))?;
    let release = match (parsed.input.take(), &parsed.release_digest) {
        (Some(input), Some(digest)) => Some((digest.clone(), input.to_string())),
        // An input without a digest cannot be referenced: it stays in the line.
        (Some(input), None) => {
            parsed.input = Some(input);
            None
        }
        (None, _) => None,
    };
    parsed.schema = SCHEMA.to_string();
    parsed.seq = seq;
    parsed.prev_sha256 = prev.map_or_else(genesis, str::to_string);
    let line = serde_json::to_string(&parsed)
        .map_err(|e| StoreError(format!("store: cannot serialise an audit record: {e}")))?;
    let sha256 = sha256_hex(line.as_bytes());
    Ok(Linked {
        line,
        sha256,
        release,
    })
}

/// Lines read per query when walking the chain.
const PAGE: i64 = 1_000;

/// Walks the chain of the existing store at `url` (never created or
/// migrated: [`super::Store::open_existing`]) in seq order, giving each
/// line's seq and exact text to `each`; for the command line (`gatehouse
/// audit verify|export --store`), which is not async.
pub fn read_chain(
    url: &str,
    mut each: impl FnMut(i64, String) -> Result<(), String>,
) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the store client: {e}"))?;
    runtime.block_on(async {
        let store = super::Store::open_existing(url).await.map_err(|e| e.0)?;
        let mut after = 0;
        loop {
            let page = store.audit_page(after, PAGE).await.map_err(|e| e.0)?;
            let Some((last, _)) = page.last() else {
                return Ok(());
            };
            after = *last;
            for (seq, line) in page {
                each(seq, line)?;
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::audit::verify_lines;

    fn record(digest: Option<&str>, input: Option<serde_json::Value>) -> String {
        serde_json::json!({
            "schema": SCHEMA, "seq": 0, "time": "2026-01-01T00:00:00Z", "evaluated_at": null,
            "host_version": "0", "input_sha256": null, "input": input, "metadata": {},
            "config": null, "policies": [], "verdict": "auto-approve", "exit_code": 0,
            "error": null, "limit_hit": null, "release_digest": digest, "prev_sha256": "",
        })
        .to_string()
    }

    #[test]
    fn linked_lines_are_a_chain_the_file_verifier_accepts() {
        let first = link(&record(Some("sha256:aa"), None), 1, None).expect("link");
        let second = link(&record(None, None), 2, Some(&first.sha256)).expect("link");
        let lines = vec![first.line.clone().into_bytes(), second.line.into_bytes()];
        let verified = verify_lines(&lines).expect("a valid chain");
        assert_eq!(verified.records, 2);
        // Linked to the wrong line: the verifier names it.
        let forked = link(&record(None, None), 2, Some(&genesis())).expect("link");
        let lines = vec![first.line.into_bytes(), forked.line.into_bytes()];
        let problem = verify_lines(&lines).expect_err("a broken link");
        assert_eq!((problem.line, problem.kind), (1, "edited"));
    }

    #[test]
    fn the_release_leaves_the_line_once_it_has_a_digest() {
        let input = serde_json::json!({"environment": {"name": "prod"}});
        let linked = link(&record(Some("sha256:aa"), Some(input.clone())), 1, None).expect("link");
        assert_eq!(
            linked.release,
            Some(("sha256:aa".to_string(), input.to_string()))
        );
        assert!(linked.line.contains("\"input\":null"), "{}", linked.line);
        let kept = link(&record(None, Some(input)), 1, None).expect("link");
        assert_eq!(kept.release, None);
        assert!(kept.line.contains("\"prod\""), "{}", kept.line);
    }

    #[test]
    fn what_is_not_a_record_is_an_error() {
        let err = link("{\"not\": 1}", 1, None).expect_err("not a record");
        assert!(err.0.contains("not a gatehouse.audit/v1 record"), "{err}");
    }
}
