//! Bad input of every kind ends in exit code 3 (never a verdict) with one
//! stderr line, `gatehouse: error: ...`, that names the problem and where it
//! is: unreadable, empty or malformed release JSON (with the JSON path),
//! malformed `--set` and `--now` values, command-line usage errors (clap must
//! exit 3, not its default 2, which would read as "require approval"), policy
//! files that are not Gatehouse policies (text, empty, core module, a
//! component of another world, missing) and settings a policy rejects.
//! JSON nested too deep is refused before parsing, at the documented depths:
//! a release past 64 levels, a Terraform plan or Pulumi preview past 256.
//! Also: `--help` exits 0 and documents the exit codes, `--input -` reads
//! stdin, and `--output json` prints the error object on stdout.
//!
//! Real-world files that are not an input say what they are and what to run
//! instead, whatever `--format` says: a plan captured through the
//! setup-terraform wrapper, truncated JSON, an HCP Terraform redacted plan,
//! Terraform state, a binary plan file, UTF-16, human-readable plan output.
//! Positions are 1-based characters and JSON paths never show `$.?`.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, fixture_policy, gatehouse, gatehouse_with_stdin,
    policy, release_json, temp_file,
};
use std::path::Path;

/// A valid release on the PROD stream with one resource.
fn good_release() -> serde_json::Value {
    serde_json::json!({
        "environmentName": "prod-eu",
        "releaseStream": "PROD",
        "resources": [
            {"resourceType": "mysql", "resourceName": "orders",
             "resourcePath": "datastores/orders", "changeType": "DELETE"},
            {"resourceType": "redis", "resourceName": "cache",
             "resourcePath": "caches/cache", "changeType": "UPDATE_IN_PLACE"}
        ],
        "metadata": {"commit": "9f2c1e7"},
        "approvals": [{"approver": "asmith", "groups": ["tech-lead"], "at": "2026-11-20T10:00:00Z"}]
    })
}

/// Evaluates `input` (written to a temp file) with stream-approval and extra arguments.
fn eval_text(input: &str, extra: &[&str]) -> (Run, String) {
    let file = temp_file(input, ".json");
    let path = file.path().display().to_string();
    let mut args = vec![
        "eval".to_string(),
        "--policy".to_string(),
        policy("stream-approval").display().to_string(),
        "--input".to_string(),
        path.clone(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    (gatehouse(&args), path)
}

/// Evaluates a good release with one field changed by `edit`.
fn eval_edited(edit: impl FnOnce(&mut serde_json::Value)) -> (Run, String) {
    let mut release = good_release();
    edit(&mut release);
    eval_text(&release.to_string(), &[])
}

/// Evaluates a good release with `policy_file` and extra arguments.
fn eval_with_policy(policy_file: &Path, extra: &[&str]) -> Run {
    let input = temp_file(good_release().to_string(), ".json");
    let mut args = vec![
        "eval".to_string(),
        "--policy".to_string(),
        policy_file.display().to_string(),
        "--input".to_string(),
        input.path().display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    gatehouse(&args)
}

/// Asserts a clap usage error: exit 3 (never 2) with clap's message.
fn assert_usage_error(run: &Run, fragment: &str) {
    assert_no_host_panic(run);
    assert_eq!(
        run.code, 3,
        "a usage error must exit 3, never 2 (require approval): {run:#?}"
    );
    assert!(
        run.stderr.contains(fragment),
        "stderr lacks {fragment:?}: {run:#?}"
    );
    assert!(run.stdout.is_empty(), "nothing on stdout: {run:#?}");
}

#[test]
fn the_good_release_is_accepted() {
    // The baseline every other test here breaks in one way.
    let (run, _) = eval_text(&good_release().to_string(), &[]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 2, "PROD requires approval: {run:#?}");
}

// ---- the input file ----

#[test]
fn missing_input_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-release.json");
    let missing = missing.display().to_string();
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &missing,
    ]);
    assert_error(&run, &[&missing, "cannot open the input file"]);
    assert!(
        run.stdout.is_empty(),
        "text mode prints nothing on stdout: {run:#?}"
    );
}

#[test]
fn directory_as_input() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_path = dir.path().display().to_string();
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &dir_path,
    ]);
    assert_error(&run, &[&dir_path, "is a directory"]);
}

#[test]
fn empty_input() {
    let (run, path) = eval_text("", &[]);
    assert_error(&run, &[&path, "the input is empty"]);
}

#[test]
fn whitespace_only_input_is_empty() {
    let (run, path) = eval_text(" \n\t\n", &[]);
    assert_error(&run, &[&path, "the input is empty"]);
}

#[test]
fn truncated_json() {
    let text = good_release().to_string();
    let (run, path) = eval_text(&text[..text.len() / 2], &[]);
    assert_error(
        &run,
        &[
            &path,
            "invalid JSON: the input ends early",
            "probably truncated",
        ],
    );
}

#[test]
fn garbage_instead_of_json() {
    let (run, path) = eval_text("environment: prod\nstream: PROD\n", &[]);
    assert_error(
        &run,
        &[&path, "$: invalid JSON: expected value", "line 1, column 1"],
    );
}

#[test]
fn trailing_data_after_the_object() {
    let (run, path) = eval_text(&format!("{} {{}}", good_release()), &[]);
    assert_error(&run, &[&path, "invalid JSON: trailing characters"]);
}

#[test]
fn input_larger_than_the_limit() {
    let (run, path) = eval_text(&good_release().to_string(), &["--max-input-mib", "0"]);
    assert_error(&run, &[&path, "larger than 0 MiB", "--max-input-mib"]);
}

// ---- fields ----

#[test]
fn missing_environment_name_without_flag() {
    let (run, path) = eval_edited(|r| {
        r.as_object_mut().expect("object").remove("environmentName");
    });
    assert_error(
        &run,
        &[
            &path,
            "$: missing required field `environmentName`",
            "--environment",
        ],
    );
}

#[test]
fn missing_release_stream_without_flag() {
    let (run, path) = eval_edited(|r| {
        r.as_object_mut().expect("object").remove("releaseStream");
    });
    assert_error(
        &run,
        &[
            &path,
            "missing required field `releaseStream`",
            "--release-stream",
        ],
    );
}

#[test]
fn missing_resource_name() {
    let (run, path) = eval_edited(|r| {
        r["resources"][0]
            .as_object_mut()
            .expect("object")
            .remove("resourceName");
    });
    assert_error(
        &run,
        &[&path, "$.resources[0]: missing field `resourceName`"],
    );
}

#[test]
fn missing_resources() {
    let (run, path) = eval_edited(|r| {
        r.as_object_mut().expect("object").remove("resources");
    });
    assert_error(
        &run,
        &[
            &path,
            "$: missing required field `resources`",
            "use [] for none",
        ],
    );
}

#[test]
fn number_for_environment_name() {
    let (run, path) = eval_edited(|r| r["environmentName"] = serde_json::json!(42));
    assert_error(
        &run,
        &[
            &path,
            "$.environmentName: invalid type: integer `42`, expected a string",
        ],
    );
}

#[test]
fn string_for_resources() {
    let (run, path) = eval_edited(|r| r["resources"] = serde_json::json!("none"));
    assert_error(&run, &[&path, "$.resources: invalid type: string \"none\""]);
}

#[test]
fn number_for_a_metadata_value() {
    let (run, path) = eval_edited(|r| r["metadata"]["build"] = serde_json::json!(7));
    assert_error(
        &run,
        &[&path, "$.metadata.build: invalid type: integer `7`"],
    );
}

#[test]
fn unknown_change_type_names_the_resource_index() {
    let (run, path) = eval_edited(|r| r["resources"][1]["changeType"] = "DESTROY".into());
    let message = assert_error(
        &run,
        &[
            &path,
            "$.resources[1].changeType",
            "unknown changeType `DESTROY`",
        ],
    );
    assert!(
        message.contains("UPDATE_IN_PLACE") && message.contains("NO_OPERATION"),
        "the message lists the accepted change types: {message}"
    );
}

#[test]
fn lower_case_change_type_is_unknown() {
    // Facets spells change types in upper case; the native format is exact.
    let (run, _) = eval_edited(|r| r["resources"][0]["changeType"] = "delete".into());
    assert_error(
        &run,
        &["$.resources[0].changeType", "unknown changeType `delete`"],
    );
}

#[test]
fn bad_approval_timestamp() {
    let (run, path) = eval_edited(|r| r["approvals"][0]["at"] = "yesterday".into());
    assert_error(
        &run,
        &[
            &path,
            "$.approvals[0].at",
            "expected an RFC 3339 timestamp",
            "\"yesterday\"",
        ],
    );
}

#[test]
fn duplicate_metadata_key() {
    // serde_json::Value cannot hold duplicate keys: write the text by hand.
    let text = r#"{"environmentName": "prod-eu", "releaseStream": "PROD", "resources": [],
        "metadata": {"commit": "9f2c1e7", "commit": "0000000"}}"#;
    let (run, path) = eval_text(text, &[]);
    assert_error(&run, &[&path, "$.metadata: duplicate key `commit`"]);
}

#[test]
fn duplicate_top_level_field() {
    // Python's json keeps the last value; a gate must not guess which one is meant.
    let text = r#"{"environmentName": "prod-eu", "releaseStream": "QA", "releaseStream": "PROD",
        "resources": []}"#;
    let (run, path) = eval_text(text, &[]);
    assert_error(&run, &[&path, "duplicate field `releaseStream`"]);
}

#[test]
fn json_null_instead_of_an_object() {
    let (run, path) = eval_text("null", &[]);
    assert_error(&run, &[&path, "$: invalid type: null"]);
}

#[test]

fn json_array_instead_of_an_object() {
    // A positional array must not pass for a release: `["prod-eu", "PROD", [...], null, null]`.
    let text = r#"["prod-eu", "PROD",
        [["mysql", "orders", "datastores/orders", "DELETE", null]], null, null]"#;
    let (run, path) = eval_text(text, &[]);
    let message = assert_error(&run, &[&path, "$"]);
    assert!(
        message.contains("object") && !message.contains("RawRelease"),
        "the message asks for a JSON object in the user's terms: {message}"
    );
}

#[test]
fn unknown_fields_are_warnings_not_errors() {
    let (run, _) = eval_edited(|r| r["releaseId"] = serde_json::json!(42));
    assert_no_host_panic(&run);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stdout
            .contains("warning: ignored unknown field $.releaseId"),
        "{run:#?}"
    );
}

#[test]

fn unknown_nested_fields_are_warned_with_their_json_path() {
    let (run, _) = eval_edited(|r| r["resources"][1]["flavour"] = "large".into());
    assert_no_host_panic(&run);
    assert_eq!(run.code, 2, "{run:#?}");
    assert!(
        run.stdout
            .contains("warning: ignored unknown field $.resources[1].flavour"),
        "{run:#?}"
    );
}

// ---- stdin ----

#[test]
fn input_from_stdin() {
    let release = release_json(
        "prod-eu",
        "PROD",
        &[("mysql", "orders", "datastores/orders", "DELETE")],
    );
    let run = gatehouse_with_stdin(
        [
            "eval",
            "--policy",
            &policy("stream-approval").display().to_string(),
            "--input",
            "-",
            "--output",
            "json",
        ],
        release.as_bytes(),
    );
    assert_no_host_panic(&run);
    assert_eq!(run.code, 2, "{run:#?}");
    let report = run.json();
    assert_eq!(report["input"]["source"], "<stdin>");
    assert_eq!(report["input"]["resources"], 1);
}

#[test]
fn bad_input_from_stdin_is_named_stdin() {
    let run = gatehouse_with_stdin(
        [
            "eval",
            "--policy",
            &policy("stream-approval").display().to_string(),
            "--input",
            "-",
        ],
        b"{\"environmentName\": ",
    );
    assert_error(&run, &["<stdin>: ", "invalid JSON"]);
}

// ---- --set ----

#[test]
fn set_without_equals() {
    let (run, _) = eval_text(&good_release().to_string(), &["--set", "streams"]);
    assert_error(&run, &["--set \"streams\"", "no '='", "KEY=VALUE"]);
}

#[test]
fn set_with_empty_key() {
    let (run, _) = eval_text(&good_release().to_string(), &["--set", "=PROD"]);
    assert_error(&run, &["--set \"=PROD\"", "the key is empty"]);
}

#[test]
fn set_with_empty_scope() {
    let (run, _) = eval_text(&good_release().to_string(), &["--set", ":streams=PROD"]);
    assert_error(&run, &["--set \":streams=PROD\"", "before ':' is empty"]);
}

#[test]
fn set_with_a_space_in_the_key() {
    let (run, _) = eval_text(&good_release().to_string(), &["--set", "my streams=PROD"]);
    assert_error(
        &run,
        &["--set \"my streams=PROD\"", "the key has the character ' '"],
    );
}

#[test]
fn set_scope_naming_no_policy() {
    let (run, _) = eval_text(
        &good_release().to_string(),
        &["--set", "stream-aproval:streams=PROD"],
    );
    assert_error(
        &run,
        &[
            "no policy file is named \"stream-aproval\"",
            "policies: stream-approval",
        ],
    );
}

#[test]
fn set_same_key_twice() {
    let (run, _) = eval_text(
        &good_release().to_string(),
        &["--set", "streams=PROD", "--set", "streams=QA"],
    );
    assert_error(
        &run,
        &["setting \"streams\" is given twice", "\"stream-approval\""],
    );
}

#[test]
fn set_same_key_scoped_and_unscoped() {
    let (run, _) = eval_text(
        &good_release().to_string(),
        &[
            "--set",
            "streams=PROD",
            "--set",
            "stream-approval:streams=QA",
        ],
    );
    assert_error(&run, &["setting \"streams\" is given twice"]);
}

// ---- other flags ----

#[test]
fn invalid_now() {
    let (run, _) = eval_text(&good_release().to_string(), &["--now", "2026-11-22 10:00"]);
    assert_error(
        &run,
        &[
            "--now: expected an RFC 3339 timestamp",
            "\"2026-11-22 10:00\"",
        ],
    );
}

#[test]
fn unknown_flag_is_a_usage_error() {
    let (run, _) = eval_text(&good_release().to_string(), &["--bogus"]);
    assert_usage_error(&run, "unexpected argument '--bogus'");
}

#[test]
fn missing_policy_flag_is_a_usage_error() {
    let input = temp_file(good_release().to_string(), ".json");
    let run = gatehouse(["eval", "--input", &input.path().display().to_string()]);
    assert_usage_error(&run, "--policy <P.wasm>");
    assert!(run.stderr.contains("required"), "{run:#?}");
}

#[test]
fn missing_input_flag_is_a_usage_error() {
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
    ]);
    assert_usage_error(&run, "--input <FILE|->");
}

#[test]
fn bad_flag_value_is_a_usage_error() {
    let (run, _) = eval_text(&good_release().to_string(), &["--output", "yaml"]);
    assert_usage_error(&run, "invalid value 'yaml' for '--output");
    let (run, _) = eval_text(&good_release().to_string(), &["--fuel", "lots"]);
    assert_usage_error(&run, "invalid value 'lots' for '--fuel");
}

#[test]
fn unknown_subcommand_is_a_usage_error() {
    let run = gatehouse(["evaluate"]);
    assert_usage_error(&run, "unrecognized subcommand 'evaluate'");
}

#[test]
fn no_arguments_is_a_usage_error() {
    let run = gatehouse(std::iter::empty::<&str>());
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
    assert!(run.stderr.contains("Usage: gatehouse"), "{run:#?}");
}

#[test]
fn help_exits_0_and_documents_the_exit_codes() {
    for args in [vec!["--help"], vec!["eval", "--help"]] {
        let run = gatehouse(&args);
        assert_no_host_panic(&run);
        assert_eq!(run.code, 0, "{args:?}: {run:#?}");
        for fragment in [
            "Exit codes:",
            "0  auto-approve",
            "2  require approval",
            "1  fail",
            "3  error",
        ] {
            assert!(
                run.stdout.contains(fragment),
                "{args:?} lacks {fragment:?}: {run:#?}"
            );
        }
    }
}

#[test]
fn version_exits_0() {
    let run = gatehouse(["--version"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.starts_with("gatehouse "), "{run:#?}");
}

// ---- policy files ----

#[test]
fn missing_policy_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("no-such-policy.wasm");
    let run = eval_with_policy(&missing, &[]);
    assert_error(
        &run,
        &[
            &format!("policy {}", missing.display()),
            "cannot read the file",
        ],
    );
}

#[test]
fn text_file_as_policy() {
    let file = temp_file("fn main() {}\n", ".wasm");
    let run = eval_with_policy(file.path(), &[]);
    assert_error(
        &run,
        &[
            &file.path().display().to_string(),
            "not a WebAssembly file",
            "wasm32-wasip2",
        ],
    );
}

#[test]
fn webassembly_text_as_policy() {
    let file = temp_file("(module)\n", ".wat");
    let run = eval_with_policy(file.path(), &[]);
    assert_error(&run, &["WebAssembly text", "wasm-tools component new"]);
}

#[test]
fn empty_wasm_file() {
    let file = temp_file("", ".wasm");
    let run = eval_with_policy(file.path(), &[]);
    assert_error(
        &run,
        &[&file.path().display().to_string(), "the file is empty"],
    );
}

#[test]
fn truncated_wasm_header() {
    let file = temp_file(b"\0asm\x0d", ".wasm");
    let run = eval_with_policy(file.path(), &[]);
    assert_error(&run, &["truncated"]);
}

#[test]
fn core_module_instead_of_component() {
    let file = temp_file(b"\0asm\x01\0\0\0", ".wasm");
    let run = eval_with_policy(file.path(), &[]);
    assert_error(
        &run,
        &[
            &file.path().display().to_string(),
            "core WebAssembly module, not a component",
            "--target wasm32-wasip2",
            "wasm-tools component new",
        ],
    );
}

#[test]
fn corrupt_component() {
    // A valid component header followed by garbage.
    let file = temp_file(b"\0asm\x0d\0\x01\0\xff\xff\xff\xff", ".wasm");
    let run = eval_with_policy(file.path(), &[]);
    assert_error(
        &run,
        &[&file.path().display().to_string(), "invalid component"],
    );
}

#[test]
fn component_of_another_world() {
    let run = eval_with_policy(&fixture_policy("other-world"), &[]);
    assert_error(
        &run,
        &[
            "other-world.wasm",
            "not a Gatehouse policy",
            "`evaluate`",
            "`describe`",
            "gatehouse:policy/policy",
        ],
    );
}

#[test]
fn directory_as_policy() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = eval_with_policy(dir.path(), &[]);
    assert_error(
        &run,
        &[
            &format!("policy {}", dir.path().display()),
            "cannot read the file",
        ],
    );
}

// ---- settings ----

#[test]
fn unknown_setting_is_rejected_by_the_policy() {
    let run = eval_with_policy(&policy("stream-approval"), &["--set", "foo=1"]);
    assert_error(
        &run,
        &[
            "policy 'stream-approval'",
            "settings rejected",
            "setting 'foo': unknown setting",
            "streams",
        ],
    );
}

#[test]
fn empty_list_setting_is_rejected_by_the_policy() {
    let run = eval_with_policy(&policy("stream-approval"), &["--set", "streams= , "]);
    assert_error(
        &run,
        &[
            "policy 'stream-approval'",
            "settings rejected",
            "setting 'streams'",
            "at least one item",
        ],
    );
}

// ---- the JSON error object ----

#[test]
fn json_output_prints_the_error_object() {
    let run = eval_with_policy(
        &policy("stream-approval"),
        &["--set", "foo=1", "--output", "json"],
    );
    let message = assert_error(&run, &["setting 'foo'"]);
    let report = run.json();
    assert_eq!(report["schema"], "gatehouse.report/v1");
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["error"], message.as_str());
}

#[test]
fn json_output_for_bad_input() {
    let (run, path) = eval_text("{", &["--output", "json"]);
    let message = assert_error(&run, &[&path, "invalid JSON"]);
    let report = run.json();
    assert_eq!(report["verdict"], "error");
    assert_eq!(report["exit_code"], 3);
    assert_eq!(report["error"], message.as_str());
}

#[test]
fn deeply_nested_json_is_refused_even_in_an_unknown_field() {
    // Built as text: serde_json itself could not build a value this deep.
    let text = good_release().to_string();
    let deep_text = format!(
        "{},\"x\":{}{}}}",
        &text[..text.len() - 1],
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (run, path) = eval_text(&deep_text, &[]);
    assert_error(&run, &[&path, "$: JSON nested deeper than 64 levels"]);
}

/// `levels` nested JSON arrays: `[[...]]`.
fn nested_arrays(levels: usize) -> String {
    format!("{}{}", "[".repeat(levels), "]".repeat(levels))
}

#[test]
fn a_release_nested_64_levels_is_accepted_and_65_is_refused() {
    // The release object is level 1; the unknown field's arrays add the rest.
    let text = good_release().to_string();
    let with_x = |levels: usize| {
        format!(
            "{},\"x\":{}}}",
            &text[..text.len() - 1],
            nested_arrays(levels - 1)
        )
    };
    let (run, _) = eval_text(&with_x(64), &[]);
    assert_no_host_panic(&run);
    assert_eq!(
        run.code, 2,
        "64 levels are read (x is warned about): {run:#?}"
    );
    let (run, path) = eval_text(&with_x(65), &[]);
    assert_error(
        &run,
        &[
            &path,
            "$: JSON nested deeper than 64 levels (line 1, column",
        ],
    );
}

/// A Terraform plan with nothing to change whose `planned_values` nest
/// `levels` deep in all (the plan object is level 1).
fn terraform_plan_nested(levels: usize) -> String {
    format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.0","resource_changes":[],"planned_values":{{"x":{}}}}}"#,
        nested_arrays(levels - 2)
    )
}

/// A Pulumi preview with no steps whose `changeSummary` nests `levels` deep
/// in all (the preview object is level 1).
fn pulumi_preview_nested(levels: usize) -> String {
    format!(
        r#"{{"steps":[],"changeSummary":{{"x":{}}}}}"#,
        nested_arrays(levels - 2)
    )
}

/// Builds a document nested this many levels deep.
type DocumentOfDepth = fn(usize) -> String;

#[test]
fn plans_and_previews_nested_deeper_than_256_levels_are_refused() {
    // Plans nest resource values far deeper than a release; 256 levels are
    // read, one more is refused before parsing, with the JSON path (`$`: the
    // document) and where the 257th level opens.
    let stream = ["--environment", "dev", "--release-stream", "QA"];
    let cases: [(&str, DocumentOfDepth); 2] = [
        ("a Terraform plan", terraform_plan_nested),
        ("a Pulumi preview", pulumi_preview_nested),
    ];
    for (what, document) in cases {
        let (run, _) = eval_text(&document(256), &stream);
        assert_no_host_panic(&run);
        assert_eq!(run.code, 0, "{what} 256 levels deep is read: {run:#?}");
        let (run, path) = eval_text(&document(257), &stream);
        assert_error(
            &run,
            &[
                &path,
                "$: JSON nested deeper than 256 levels (line 1, column",
                &format!("{what} is not nested this deep"),
            ],
        );
        let (run, path) = eval_text(&document(100_000), &stream);
        assert_error(&run, &[&path, "$: JSON nested deeper than 256 levels"]);
    }
}

#[test]
fn a_plan_field_read_as_a_json_value_is_refused_past_128_levels_with_its_path() {
    // Fields the Terraform adapter keeps as JSON values (`replace_paths`,
    // `index`, `importing.identity`) are parsed by serde_json, which stops
    // at 128 levels: such a plan is refused with the path into the value,
    // although the whole document is within 256 levels.
    let plan = format!(
        r#"{{"format_version":"1.2","terraform_version":"1.9.0","resource_changes":[{{"address":"a.b","type":"a","name":"b","change":{{"actions":["create"],"replace_paths":{}}}}}]}}"#,
        nested_arrays(200)
    );
    let (run, path) = eval_text(&plan, &["--environment", "dev", "--release-stream", "QA"]);
    assert_error(
        &run,
        &[
            &path,
            "$.resource_changes[0].change.replace_paths[0][0]",
            "recursion limit exceeded",
        ],
    );
}

#[test]
fn invalid_utf8_is_refused_with_its_position() {
    let mut bytes = br#"{"environmentName":"prod"#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(br#"","releaseStream":"PROD","resources":[]}"#);
    let file = temp_file(&bytes, ".json");
    let path = file.path().display().to_string();
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &path,
    ]);
    assert_error(
        &run,
        &[&path, "$.environmentName", "invalid unicode", "line 1"],
    );
}

// ---- real-world files that are not inputs ----

/// A small real-shaped plan: `terraform show -json` of one deleted database.
const PLAN: &str = r#"{"format_version":"1.2","terraform_version":"1.9.5","planned_values":{"root_module":{}},"resource_changes":[{"address":"aws_db_instance.orders","mode":"managed","type":"aws_db_instance","name":"orders","provider_name":"registry.terraform.io/hashicorp/aws","change":{"actions":["delete"],"before":{"identifier":"orders"},"after":null}}],"applyable":true,"complete":true,"errored":false}"#;

/// Runs `gatehouse convert` on `bytes` (a temp file) with an environment,
/// a stream and `extra` arguments.
fn convert_bytes(bytes: impl AsRef<[u8]>, extra: &[&str]) -> (Run, String) {
    let file = temp_file(bytes, ".json");
    let path = file.path().display().to_string();
    let mut args = vec![
        "convert",
        "--input",
        &path,
        "--environment",
        "prod",
        "--release-stream",
        "PROD",
    ];
    args.extend_from_slice(extra);
    (gatehouse(&args), path)
}

/// `--format` values every stranger is refused under.
const EVERY_FORMAT: [&[&str]; 4] = [
    &[],
    &["--format", "terraform"],
    &["--format", "release"],
    &["--format", "pulumi"],
];

#[test]
fn a_plan_captured_through_the_setup_terraform_wrapper_is_named() {
    // setup-terraform v1's wrapper: the `[command]` line @actions/exec prints,
    // terraform's JSON, then the wrapper's `::debug::` and `::set-output` lines.
    let v1 = format!(
        "[command]/home/runner/work/_temp/8c1f/terraform-bin show -json plan.out\n{PLAN}\n::debug::Terraform exited with code 0.\n::debug::stdout: {PLAN}%0A\n::debug::stderr: \n::debug::exitcode: 0\n::set-output name=stdout::{PLAN}%0A\n::set-output name=stderr::\n::set-output name=exitcode::0\n"
    );
    for extra in EVERY_FORMAT {
        let (run, path) = convert_bytes(&v1, extra);
        let message = assert_error(&run, &[]);
        assert_eq!(
            message,
            format!(
                "{path}: this is the log of hashicorp/setup-terraform's terraform wrapper, not terraform's own output: line 1 is its \"[command]/home/runner/work/_temp/8c1f/terraform-bin show -json plan.out\" line and line 3 is a `::debug::` workflow command; set `terraform_wrapper: false` on the hashicorp/setup-terraform step (or use the step's `stdout` output, which has none of the wrapper's lines) and produce the file again"
            ),
            "{extra:?}"
        );
    }
    // Later wrappers write outputs to $GITHUB_OUTPUT: only the `[command]` line.
    let (run, path) = convert_bytes(
        format!("[command]/usr/bin/terraform show -json plan.out\r\n{PLAN}\r\n"),
        &[],
    );
    let message = assert_error(
        &run,
        &[
            &path,
            "line 1 is its \"[command]/usr/bin/terraform show -json plan.out\" line;",
            "`terraform_wrapper: false`",
        ],
    );
    assert!(!message.contains("invalid type"), "{message}");
    // Workflow commands after the JSON, no `[command]` line.
    let (run, _) = convert_bytes(format!("{PLAN}\n::debug::exitcode: 0\n"), &[]);
    assert_error(
        &run,
        &[
            "line 2 is a `::debug::` workflow command",
            "terraform_wrapper: false",
        ],
    );
    // setup-opentofu's wrapper is named as such.
    let (run, _) = convert_bytes(
        format!("[command]/home/runner/work/_temp/x/tofu-bin show -json plan.out\n{PLAN}\n"),
        &[],
    );
    assert_error(
        &run,
        &[
            "opentofu/setup-opentofu's tofu wrapper",
            "`tofu_wrapper: false`",
        ],
    );
    // What the message asks for, terraform's JSON alone, converts.
    let (run, _) = convert_bytes(PLAN, &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    assert_eq!(run.json()["resources"][0]["changeType"], "DELETE");
}

#[test]
fn truncated_json_says_the_file_ends_early_and_where() {
    let text = "{\n  \"format_version\": \"1.2\",\n  \"resource_changes\": [\n    {\n      \"address\": \"aws_db_instance.orders\",\n      ";
    for extra in EVERY_FORMAT {
        let (run, path) = convert_bytes(text, extra);
        let message = assert_error(&run, &[]);
        assert!(
            message.starts_with(&format!(
                "{path}: invalid JSON: the input ends early, after line 5, column 42, in the middle of an object"
            )),
            "{extra:?}: {message}"
        );
        assert!(
            message.ends_with("the file is probably truncated: produce it again and check that the command writing it finished"),
            "{extra:?}: {message}"
        );
        assert!(!message.contains("$.?"), "{message}");
    }
    // Cut inside a string, and right after a newline (serde_json's column 0).
    let (run, _) = convert_bytes(&PLAN[..PLAN.find("orders").expect("in the plan")], &[]);
    assert_error(
        &run,
        &["ends early, after line 1, column 136, in the middle of a string"],
    );
    let (run, _) = convert_bytes("{\n", &[]);
    assert_error(
        &run,
        &["ends early, after line 1, column 1, in the middle of an object;"],
    );
}

#[test]
fn a_terraform_cloud_redacted_plan_is_named() {
    let redacted = r#"{"plan_format_version": "1.1", "resource_drift": [],
        "resource_changes": [{"address": "null_resource.foo", "mode": "managed", "type": "null_resource",
            "name": "foo", "provider_name": "registry.terraform.io/hashicorp/null",
            "change": {"actions": ["create"], "before": null, "after": {"triggers": null},
                       "after_unknown": {"id": true}, "before_sensitive": false, "after_sensitive": {}}}],
        "relevant_attributes": [], "output_changes": {}, "provider_schemas": {}, "provider_format_version": "1.0"}"#;
    for extra in EVERY_FORMAT {
        let (run, path) = convert_bytes(redacted, extra);
        assert_error(
            &run,
            &[
                &format!(
                    "{path}: $: this is an HCP Terraform / Terraform Enterprise redacted JSON plan (`plan_format_version`"
                ),
                "download the run's `json-output` instead",
                "`terraform show -json PLANFILE`",
            ],
        );
    }
}

#[test]
fn terraform_state_is_named_and_a_plan_asked_for() {
    let shown_state = r#"{"format_version": "1.0", "terraform_version": "1.9.5",
        "values": {"root_module": {"resources": [{"address": "aws_db_instance.orders", "mode": "managed",
            "type": "aws_db_instance", "name": "orders", "values": {"identifier": "orders"}}]}}}"#;
    let tfstate = r#"{"version": 4, "terraform_version": "1.9.5", "serial": 12,
        "lineage": "3f1c2a9e-5b7d-4c1e-9a2f-6d8e0b4c7a1f", "outputs": {}, "resources": [], "check_results": null}"#;
    let empty_show = "{\n    \"format_version\": \"1.0\"\n}\n";
    let cases = [
        (
            shown_state,
            "$: this is Terraform state (`terraform show -json` without a plan file: `values`, no `resource_changes`), not a plan",
        ),
        (
            tfstate,
            "$: this is a Terraform state file (`terraform.tfstate`: `version`, `serial`, `lineage`), not a plan",
        ),
        (
            empty_show,
            "$: this is what `terraform show -json` prints when there is no state and no plan file",
        ),
    ];
    for (text, what) in cases {
        for extra in EVERY_FORMAT {
            let (run, path) = convert_bytes(text, extra);
            assert_error(
                &run,
                &[
                    &format!("{path}: {what}"),
                    "run `terraform plan -out=PLANFILE` and pass the output of `terraform show -json PLANFILE`",
                ],
            );
        }
    }
}

#[test]
fn columns_are_one_based_characters_and_paths_never_show_unknown_segments() {
    let cases: [(&str, &str); 6] = [
        // serde_json says column 0 here: nothing on the line was read yet.
        (
            "[\"prod-eu\", \"PROD\", []]",
            "$: invalid type: sequence, expected a JSON object (line 1, column 1)",
        ),
        (
            "{\"environmentName\":\n[\"prod\"], \"releaseStream\": \"PROD\", \"resources\": []}",
            "$.environmentName: invalid type: sequence, expected a string (line 2, column 1)",
        ),
        // ... and one short here: the list was only peeked at.
        (
            r#"{"environmentName": ["prod"], "releaseStream": "PROD", "resources": []}"#,
            "$.environmentName: invalid type: sequence, expected a string (line 1, column 21)",
        ),
        // Characters, not bytes: each of "ü", "ï", "ö" and "é" is two bytes.
        (
            r#"{"environmentName": "ünïcödé", "releaseStream": 5, "resources": []}"#,
            "$.releaseStream: invalid type: integer `5`, expected a string (line 1, column 49)",
        ),
        // A key that is not an identifier is quoted, not run into the path.
        (
            r#"{"environmentName": "a", "releaseStream": "b", "resources": [], "metadata": {"build.id": 7}}"#,
            r#"$.metadata["build.id"]: invalid type: integer `7`, expected a string (line 1, column 90)"#,
        ),
        // A syntax error where a key should be: serde_path_to_error says `$.?`.
        (
            r#"{"environmentName": "a", x}"#,
            "$: invalid JSON: key must be a string (line 1, column 26)",
        ),
    ];
    for (text, expected) in cases {
        let (run, path) = eval_text(text, &[]);
        let message = assert_error(&run, &[]);
        assert_eq!(message, format!("{path}: {expected}"), "{text}");
    }
}

#[test]
fn a_binary_plan_file_utf16_and_human_readable_output_are_named() {
    let (run, path) = convert_bytes(b"PK\x03\x04\x14\x00\x08\x00tfplan", &[]);
    assert_error(
        &run,
        &[
            &format!("{path}: this is a binary plan file"),
            "`terraform show -json PLANFILE`",
        ],
    );
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(PLAN.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let (run, _) = convert_bytes(utf16, &[]);
    assert_error(&run, &["this file is UTF-16 text", "-Encoding utf8"]);
    let text_plan = "\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n  - destroy\n\nTerraform will perform the following actions:\n";
    let (run, _) = convert_bytes(text_plan, &[]);
    assert_error(
        &run,
        &[
            "human-readable output of `terraform plan`",
            "`terraform show -json PLANFILE`",
        ],
    );
    let (run, _) = convert_bytes("Previewing update (dev)\n\n     Type  Name\n", &[]);
    assert_error(
        &run,
        &[
            "human-readable output of `pulumi preview`",
            "`pulumi preview --json",
        ],
    );
}

#[test]
fn a_utf8_byte_order_mark_is_skipped() {
    // Windows PowerShell's `Out-File -Encoding utf8` writes one.
    let (run, _) = convert_bytes(format!("\u{feff}{PLAN}"), &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    let (plain, _) = convert_bytes(PLAN, &[]);
    assert_eq!(run.stdout, plain.stdout);
}
