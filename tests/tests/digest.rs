//! The release digest through the real binary: `gatehouse digest` prints
//! `sha256:<64 hex>`; the script docs/approvals.md gives, run exactly as
//! written there with `python3`, recomputes it from `gatehouse convert`
//! output (non-ASCII keys in UTF-16 order, control characters, plans); it
//! is stable across whitespace, key order and the input format (a plan and
//! its conversion); everything a policy sees changes it and approvals do
//! not; and every report carries it: text, JSON, the GitHub step summary,
//! the JSON error report once the input was read, the audit record (which
//! `audit replay` checks against the recorded input) and `check --input`.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, gatehouse, gatehouse_command, policy, release_json,
    shared_or_skip, temp_file, workspace_root,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// A Terraform plan whose resources carry attributes (module, index).
const PLAN: &str = r#"{"format_version": "1.2", "terraform_version": "1.9.0", "planned_values": {},
 "resource_changes": [
  {"address": "aws_db_instance.orders", "mode": "managed", "type": "aws_db_instance",
   "name": "orders", "change": {"actions": ["delete", "create"]}},
  {"address": "module.web.aws_s3_bucket.assets[\"eu\"]", "module_address": "module.web",
   "mode": "managed", "type": "aws_s3_bucket", "name": "assets", "index": "eu",
   "change": {"actions": ["update"]}}
 ]}"#;

/// The flags a plan needs, and a metadata entry.
const PLAN_FLAGS: [&str; 6] = [
    "--environment",
    "prod",
    "--release-stream",
    "PROD",
    "--meta",
    "commit=9f2c1e7",
];

/// A release whose keys and values JCS treats specially: keys whose UTF-16
/// order differs from their code-point order (U+1F600 before U+FFFD and
/// U+FB33), control characters (escaped), U+007F, U+2028, combining marks
/// and CJK (written as they are), quotes and backslashes.
const UNICODE_RELEASE: &str = r#"{
 "environmentName": "prod\u001b[31m\u0000", "releaseStream": "PROD\t\"\\",
 "metadata": {"\ufffd": "r", "\ud83d\ude00": "grin", "\u00e9t\u00e9": "summer",
              "\u20ac": "\u007f\u2028", "\u0001": "ctl", "\ufb33": "dalet"},
 "resources": [{"resourceType": "\u65e5\u672c", "resourceName": "n\u0301",
   "resourcePath": "a/\u0008\u000c\u001f", "changeType": "CREATE",
   "attributes": {"\ufb33": "x", "\ud83d\ude00": "y", "1": "\r\n", "\u0080": "c"}}]}"#;

fn path_of(file: &tempfile::NamedTempFile) -> String {
    file.path().display().to_string()
}

fn example(name: &str) -> String {
    workspace_root()
        .join("example-policies/releases")
        .join(name)
        .display()
        .to_string()
}

/// Runs `gatehouse` with `args` and then `extra`.
fn run(args: &[&str], extra: &[&str]) -> Run {
    let run = gatehouse(args.iter().chain(extra));
    assert_no_host_panic(&run);
    run
}

/// `gatehouse digest --input INPUT EXTRA...`, which must succeed: the digest,
/// checked to be the one line `sha256:<64 lowercase hex>`.
fn digest(input: &str, extra: &[&str]) -> String {
    let out = run(&["digest", "--input", input], extra);
    assert_eq!(out.code, 0, "digest {input} {extra:?}: {out:#?}");
    let text = out
        .stdout
        .strip_suffix('\n')
        .unwrap_or_else(|| panic!("no newline: {out:#?}"));
    assert!(!text.contains('\n'), "one line: {out:#?}");
    assert_digest_shape(text);
    text.to_string()
}

fn assert_digest_shape(digest: &str) {
    let hex = digest
        .strip_prefix("sha256:")
        .unwrap_or_else(|| panic!("no sha256: prefix: {digest:?}"));
    assert!(
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)),
        "not 64 lowercase hex digits: {digest:?}"
    );
}

/// `gatehouse convert --input INPUT EXTRA...`, which must succeed: the release JSON.
fn convert(input: &str, extra: &[&str]) -> String {
    let out = run(&["convert", "--input", input], extra);
    assert_eq!(out.code, 0, "convert {input} {extra:?}: {out:#?}");
    out.stdout
}

/// The `## Release digest` section of docs/approvals.md.
fn digest_section() -> String {
    let path = workspace_root().join("docs/approvals.md");
    let doc =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let start = doc
        .find("\n## Release digest\n")
        .expect("docs/approvals.md has a `## Release digest` section");
    let section = &doc[start + 1..];
    let end = section[3..]
        .find("\n## ")
        .map_or(section.len(), |at| at + 4);
    section[..end].to_string()
}

/// The body of the first fenced block of `language` in `text`.
fn code_block(text: &str, language: &str) -> String {
    let fence = format!("```{language}\n");
    let start = text
        .find(&fence)
        .unwrap_or_else(|| panic!("no ```{language} block"))
        + fence.len();
    let end = text[start..].find("```").expect("the block is closed");
    text[start..start + end].to_string()
}

/// `python3`, or `None` (after saying so on stderr) when there is none.
fn python3_or_skip(test: &str) -> Option<PathBuf> {
    let found = std::process::Command::new("python3")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return Some(PathBuf::from("python3"));
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr().lock(),
        "skipped: python3 not found; {test} runs the recompute script of docs/approvals.md with it"
    );
    None
}

/// Runs the documented script on `release_json` (stdin); its stdout line.
fn recompute(python: &Path, script: &Path, release_json: &str) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(python)
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(release_json.as_bytes())
        .expect("write the release to the script");
    let output = child.wait_with_output().expect("wait for python3");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the script failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout.trim_end().to_string()
}

/// The documented script, written to a temporary file.
fn documented_script() -> tempfile::NamedTempFile {
    let script = code_block(&digest_section(), "python");
    assert!(
        script.lines().count() < 25,
        "the script is short: {} lines",
        script.lines().count()
    );
    temp_file(script, ".py")
}

/// For each (input, flags): the script on `convert`'s output gives what
/// `digest` prints, and so does `digest` of that output with no flags.
fn assert_script_agrees(python: &Path, script: &Path, cases: &[(String, Vec<&str>)]) {
    for (input, flags) in cases {
        let expected = digest(input, flags);
        let converted = convert(input, flags);
        assert_eq!(
            recompute(python, script, &converted),
            expected,
            "the script disagrees on {input} {flags:?}"
        );
        let file = temp_file(&converted, ".json");
        assert_eq!(
            digest(&path_of(&file), &[]),
            expected,
            "{input} {flags:?} and its conversion"
        );
    }
}

#[test]
fn the_documented_script_recomputes_the_digest() {
    let Some(python) = python3_or_skip("digest::the_documented_script_recomputes_the_digest")
    else {
        return;
    };
    let script = documented_script();
    let unicode = temp_file(UNICODE_RELEASE, ".json");
    let plan = temp_file(PLAN, ".json");
    let empty = temp_file(
        r#"{"environmentName": "", "releaseStream": "", "resources": []}"#,
        ".json",
    );
    let mut cases: Vec<(String, Vec<&str>)> = [
        "prod-delete-database.json",
        "prod-with-approvals.json",
        "staging-recreate-database.json",
        "staging-update.json",
    ]
    .iter()
    .map(|name| (example(name), Vec::new()))
    .collect();
    cases.push((path_of(&unicode), Vec::new()));
    cases.push((path_of(&unicode), vec!["--meta", "z=\u{1f600}\u{1b}"]));
    cases.push((path_of(&plan), PLAN_FLAGS.to_vec()));
    cases.push((path_of(&empty), Vec::new()));
    assert_script_agrees(&python, script.path(), &cases);

    // The non-ASCII keys really are in UTF-16 order in what is hashed: the
    // script's sort (by UTF-16) and a code-point sort disagree on them.
    let converted: Value = serde_json::from_str(&convert(&path_of(&unicode), &[])).expect("JSON");
    let keys: Vec<&String> = converted["metadata"]
        .as_object()
        .expect("metadata")
        .keys()
        .collect();
    let mut by_utf16 = keys.clone();
    by_utf16.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    assert_ne!(
        keys, by_utf16,
        "the sample needs keys the two orders disagree on"
    );
}

#[test]
fn the_documented_example_has_the_documented_digest() {
    let section = digest_section();
    let release = temp_file(code_block(&section, "json"), ".json");
    let printed = digest(&path_of(&release), &[]);
    assert!(
        section.contains(&format!("its digest is `{printed}`")),
        "docs/approvals.md's example release has the digest {printed}"
    );
}

#[test]
fn shared_real_plans_and_previews_agree_with_the_script() {
    let test = "digest::shared_real_plans_and_previews_agree_with_the_script";
    let Some(shared) = shared_or_skip(test) else {
        return;
    };
    let Some(python) = python3_or_skip(test) else {
        return;
    };
    let script = documented_script();
    let mut cases = Vec::new();
    for dir in ["testdata/terraform-plans", "testdata/pulumi"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(shared.path(dir))
            .expect("list the shared plans")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no plans in {dir}");
        cases.extend(
            files
                .into_iter()
                .map(|p| (p.display().to_string(), PLAN_FLAGS.to_vec())),
        );
    }
    assert_script_agrees(&python, script.path(), &cases);
}

#[test]
fn whitespace_key_order_and_format_do_not_change_it() {
    let compact = release_json(
        "prod",
        "PROD",
        &[
            ("mysql", "orders", "datastores/orders", "DELETE"),
            ("service", "api", "services/api", "UPDATE_IN_PLACE"),
        ],
    );
    let reordered = r#"
        {
          "resources" : [
            { "changeType" : "DELETE", "resourcePath" : "datastores/orders",
              "resourceName" : "orders", "resourceType" : "mysql", "attributes": {} },
            {"resourcePath":"services/api","changeType":"UPDATE_IN_PLACE",
             "resourceType":"service","resourceName":"api"}
          ],
          "metadata": {},
          "releaseStream" :   "PROD",
          "environmentName": "prod"
        }
    "#;
    let (a, b) = (temp_file(&compact, ".json"), temp_file(reordered, ".json"));
    assert_ne!(
        std::fs::read(a.path()).expect("a"),
        std::fs::read(b.path()).expect("b")
    );
    let first = digest(&path_of(&a), &[]);
    assert_eq!(digest(&path_of(&b), &[]), first);
    // stdin reads the same.
    let piped =
        gatehouse_e2e::gatehouse_with_stdin(["digest", "--input", "-"], reordered.as_bytes());
    assert_eq!(
        (piped.code, piped.stdout.trim_end()),
        (0, first.as_str()),
        "{piped:#?}"
    );

    // A plan and its `gatehouse convert` output, with the same flags or none.
    let plan = temp_file(PLAN, ".json");
    let from_plan = digest(&path_of(&plan), &PLAN_FLAGS);
    let converted = temp_file(convert(&path_of(&plan), &PLAN_FLAGS), ".json");
    assert_eq!(digest(&path_of(&converted), &[]), from_plan);
    assert_eq!(digest(&path_of(&converted), &PLAN_FLAGS), from_plan);
    assert_eq!(
        digest(
            &path_of(&plan),
            &[&PLAN_FLAGS[..], &["--format", "terraform"]].concat()
        ),
        from_plan,
        "--format terraform reads it as auto does"
    );
}

/// What an edit of a release changes, and the edit.
type Edit = (&'static str, fn(&mut Value));

#[test]
fn what_policies_see_changes_it_and_approvals_do_not() {
    let base = json!({
        "environmentName": "prod",
        "releaseStream": "PROD",
        "metadata": {"commit": "9f2c1e7"},
        "resources": [
            {"resourceType": "mysql", "resourceName": "orders",
             "resourcePath": "datastores/orders", "changeType": "DELETE",
             "attributes": {"engine": "8.0"}},
            {"resourceType": "service", "resourceName": "api",
             "resourcePath": "services/api", "changeType": "UPDATE_IN_PLACE"}
        ]
    });
    let file = temp_file(base.to_string(), ".json");
    let original = digest(&path_of(&file), &[]);

    let edits: [Edit; 7] = [
        ("one changeType", |r| {
            r["resources"][1]["changeType"] = json!("RECREATE")
        }),
        ("one attribute", |r| {
            r["resources"][0]["attributes"]["engine"] = json!("8.4")
        }),
        ("the environment", |r| {
            r["environmentName"] = json!("prod-eu")
        }),
        ("the stream", |r| r["releaseStream"] = json!("QA")),
        ("one metadata value", |r| {
            r["metadata"]["commit"] = json!("9f2c1e8")
        }),
        ("one resource more", |r| {
            let copy = r["resources"][1].clone();
            r["resources"].as_array_mut().expect("list").push(copy);
        }),
        ("the resources' order", |r| {
            let list = r["resources"].as_array_mut().expect("list");
            list.reverse();
        }),
    ];
    let mut seen = vec![original.clone()];
    for (what, edit) in edits {
        let mut changed = base.clone();
        edit(&mut changed);
        let changed_file = temp_file(changed.to_string(), ".json");
        let d = digest(&path_of(&changed_file), &[]);
        assert!(
            !seen.contains(&d),
            "changing {what} did not change the digest"
        );
        seen.push(d);
    }
    // The flags that change what policies see change it too.
    for flags in [
        &["--environment", "staging"][..],
        &["--release-stream", "HOTFIX"],
        &["--meta", "commit=other"],
        &["--meta", "author=alice"],
    ] {
        let d = digest(&path_of(&file), flags);
        assert!(!seen.contains(&d), "{flags:?} did not change the digest");
        seen.push(d);
    }

    // Approvals, from --approvals or in the release itself, do not.
    let approvals = temp_file(
        r#"[{"approver": "asmith", "groups": ["dba"], "at": "2026-11-20T10:00:00Z"}]"#,
        ".json",
    );
    assert_eq!(
        digest(&path_of(&file), &["--approvals", &path_of(&approvals)]),
        original
    );
    let mut approved = base.clone();
    approved["approvals"] = json!([
        {"approver": "bkumar", "groups": ["on-call"], "at": "2026-11-22T09:40:00+01:00"}
    ]);
    let approved = temp_file(approved.to_string(), ".json");
    assert_eq!(digest(&path_of(&approved), &[]), original);
}

#[test]
fn json_output_names_the_release() {
    let plan = temp_file(PLAN, ".json");
    let text = digest(&path_of(&plan), &PLAN_FLAGS);
    let out = run(
        &["digest", "--input", &path_of(&plan), "--output", "json"],
        &PLAN_FLAGS,
    );
    assert_eq!(out.code, 0, "{out:#?}");
    assert_eq!(
        out.json(),
        json!({
            "schema": "gatehouse.digest/v1",
            "release_digest": text,
            "environment": "prod",
            "release_stream": "PROD",
            "resources": 2
        })
    );
}

#[test]
fn bad_input_is_an_error_like_converts() {
    let plan = temp_file(PLAN, ".json");
    let path = path_of(&plan);
    let message = assert_error(
        &run(&["digest", "--input", &path], &[]),
        &[
            &path,
            "names no environment or release stream; pass --environment and --release-stream (a plan needs both, e.g. --environment prod-eu --release-stream PROD)",
        ],
    );
    let convert_run = run(&["convert", "--input", &path], &[]);
    assert_eq!(
        convert_run.stderr,
        format!("gatehouse: error: {message}\n"),
        "the same error as convert"
    );
    let out = run(
        &[
            "digest",
            "--input",
            "/nonexistent/release.json",
            "--output",
            "json",
        ],
        &[],
    );
    assert_error(&out, &["cannot open the input file"]);
    let report = out.json();
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["release_digest"], Value::Null, "no input was read");
    assert_error(
        &run(
            &["digest", "--input", &path, "--meta", "terraform.version=2"],
            &PLAN_FLAGS[..4],
        ),
        &["--meta terraform.version: keys starting with `terraform.`"],
    );
}

/// `gatehouse eval` of the destructive-changes policy on `input`.
fn eval(input: &str, extra: &[&str]) -> Run {
    let policy = policy("destructive-changes").display().to_string();
    run(
        &[
            "eval",
            "--policy",
            &policy,
            "--input",
            input,
            "--now",
            "2026-11-22T10:00:00Z",
        ],
        extra,
    )
}

#[test]
fn every_report_carries_it() {
    let input = example("staging-recreate-database.json");
    let expected = digest(&input, &[]);

    // Text: right after the input line.
    let text = eval(&input, &[]);
    assert_eq!(text.code, 2, "{text:#?}");
    let lines: Vec<&str> = text.stdout.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("input: "))
        .expect("an input line");
    assert_eq!(lines[at + 1], format!("release digest: {expected}"));

    // JSON.
    let json_run = eval(&input, &["--output", "json"]);
    assert_eq!(
        json_run.json()["input"]["release_digest"],
        expected.as_str()
    );

    // The GitHub step summary, in the release line, as a code span.
    let dir = tempfile::tempdir().expect("temp dir");
    let summary = dir.path().join("summary.md");
    let github: Run = gatehouse_command()
        .args(["eval", "--policy"])
        .arg(policy("destructive-changes"))
        .args(["--input", &input, "--output", "github"])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env_remove("GITHUB_OUTPUT")
        .stdin(Stdio::null())
        .output()
        .expect("run gatehouse")
        .into();
    assert_eq!(github.code, 2, "{github:#?}");
    let summary = std::fs::read_to_string(&summary).expect("the summary was written");
    let release_line = summary
        .lines()
        .find(|l| l.starts_with("Release: "))
        .expect("a release line");
    assert!(
        release_line.contains(&format!("release digest `{expected}`")),
        "{release_line}"
    );

    // The JSON error report, once the input was read (here: no such policy).
    let failed = run(
        &[
            "eval",
            "--policy",
            "/nonexistent/policy.wasm",
            "--input",
            &input,
            "--output",
            "json",
        ],
        &[],
    );
    assert_eq!(failed.code, 3, "{failed:#?}");
    assert_eq!(failed.json()["release_digest"], expected.as_str());
    // ... and null when it was not.
    let unread = eval("/nonexistent/release.json", &["--output", "json"]);
    assert_eq!(unread.code, 3, "{unread:#?}");
    assert_eq!(unread.json()["release_digest"], Value::Null);

    // gatehouse check --input.
    let check = run(
        &[
            "check",
            "--config",
            "example-policies/gatehouse.toml",
            "--input",
            &input,
        ],
        &[],
    );
    assert_eq!(check.code, 0, "{check:#?}");
    assert!(
        check
            .stdout
            .lines()
            .any(|l| l == format!("release digest: {expected}")),
        "{check:#?}"
    );
    let check_json = run(
        &[
            "check",
            "--config",
            "example-policies/gatehouse.toml",
            "--input",
            &input,
            "--output",
            "json",
        ],
        &[],
    );
    assert_eq!(
        check_json.json()["release"]["release_digest"],
        expected.as_str()
    );
}

#[test]
fn the_audit_record_carries_it_and_replay_checks_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let log = dir.path().join("audit.jsonl");
    let log_arg = log.display().to_string();
    let plan = temp_file(PLAN, ".json");
    let expected = digest(&path_of(&plan), &PLAN_FLAGS);
    let approvals = temp_file(
        r#"[{"approver": "asmith", "groups": ["dba"], "at": "2026-11-20T10:00:00Z"}]"#,
        ".json",
    );
    let approvals_arg = ["--approvals", &path_of(&approvals)];
    let first = eval(
        &path_of(&plan),
        &[&PLAN_FLAGS[..], &["--audit-log", &log_arg], &approvals_arg].concat(),
    );
    assert!([1, 2].contains(&first.code), "{first:#?}");
    let text = std::fs::read_to_string(&log).expect("the log");
    let record: Value = serde_json::from_str(text.lines().next().expect("a record")).expect("JSON");
    assert_eq!(record["release_digest"], expected.as_str());
    assert_eq!(
        record["input"]["approvals"][0]["approver"], "asmith",
        "the approvals are recorded, yet not in the digest"
    );

    let replay = run(&["audit", "replay", &log_arg], &[]);
    assert_eq!(replay.code, 0, "{replay:#?}");

    // A record whose digest is not its input's cannot be replayed.
    let mut edited = record.clone();
    edited["release_digest"] = json!(format!("sha256:{}", "0".repeat(64)));
    std::fs::write(&log, format!("{edited}\n")).expect("rewrite the log");
    let replay = run(&["audit", "replay", &log_arg], &[]);
    assert_eq!(replay.code, 3, "{replay:#?}");
    assert!(
        replay.stderr.contains(&format!(
            "the recorded release_digest sha256:{} is not the digest of the recorded input ({expected})",
            "0".repeat(64)
        )),
        "{replay:#?}"
    );
}
