//! Input adapters through the real binary: every real-world Terraform /
//! OpenTofu plan and Pulumi preview in `../shared/testdata/` converts with
//! `gatehouse convert`, with the exact number of changes of each kind and a
//! few resources checked field by field (counts read from the files and
//! written here as literals; provenance in ../shared/testdata/PROVENANCE.txt).
//! Malformed variants derived from a real plan (errored, unknown format
//! major, actions missing or of the wrong type) exit 3 with one clear line;
//! a plan with nothing to change evaluates as an empty release; `eval` gates
//! a plan with real policies; `--meta` and `--approvals` fill the release;
//! `--format auto` tells the formats apart and says what it looked for.
//!
//! The real files live in `../shared/` beside the repository, not in it:
//! every test that reads them gets them from `shared_or_skip` and skips,
//! saying so on stderr, where they are absent; the rest always run.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, Shared, assert_error, assert_no_host_panic, gatehouse, policy, shared_or_skip, temp_file,
    workspace_root,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const TERRAFORM_DIR: &str = "testdata/terraform-plans";
const PULUMI_DIR: &str = "testdata/pulumi";

/// A real Terraform / OpenTofu plan; it must be there.
fn terraform_plan(shared: &Shared, name: &str) -> PathBuf {
    shared.path(Path::new(TERRAFORM_DIR).join(name))
}

/// A real Pulumi preview; it must be there.
fn pulumi_preview(shared: &Shared, name: &str) -> PathBuf {
    shared.path(Path::new(PULUMI_DIR).join(name))
}

fn read(path: &Path) -> Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// Runs `gatehouse convert` on a file with an environment and a stream.
fn convert(path: &str, extra: &[&str]) -> Run {
    let mut args = vec![
        "convert",
        "--input",
        path,
        "--environment",
        "dev",
        "--release-stream",
        "QA",
    ];
    args.extend_from_slice(extra);
    gatehouse(&args)
}

/// Converts a file that must convert, and returns the release JSON.
fn converted(path: &str, extra: &[&str]) -> Value {
    let run = convert(path, extra);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "convert {path} {extra:?}: {run:#?}");
    run.json()
}

/// Converts a JSON value (written to a temp file) that must fail, and returns
/// the one-line message after checking its fragments.
fn convert_fails(value: &Value, extra: &[&str], fragments: &[&str]) -> String {
    let file = temp_file(value.to_string(), ".json");
    let path = file.path().display().to_string();
    let run = convert(&path, extra);
    let mut all = vec![path.as_str()];
    all.extend_from_slice(fragments);
    assert_error(&run, &all)
}

/// changeType → count.
fn counts(release: &Value) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in release["resources"].as_array().expect("resources") {
        *out.entry(r["changeType"].as_str().expect("changeType").to_string())
            .or_insert(0) += 1;
    }
    out
}

fn expect_counts(file: &str, release: &Value, expected: &[(&str, usize)]) {
    let expected: BTreeMap<String, usize> =
        expected.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    assert_eq!(counts(release), expected, "{file}");
}

/// The resource at `path` (the full address or URN); it must be there once.
fn resource<'a>(release: &'a Value, path: &str) -> &'a Value {
    let found: Vec<&Value> = release["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter(|r| r["resourcePath"] == path)
        .collect();
    assert_eq!(found.len(), 1, "{path} in {release:#}");
    found[0]
}

/// Checks one resource: type, name, change type and some attributes.
fn expect_resource(
    release: &Value,
    path: &str,
    (resource_type, name, change): (&str, &str, &str),
    attributes: &[(&str, &str)],
) {
    let r = resource(release, path);
    assert_eq!(r["resourceType"], resource_type, "{path}: {r:#}");
    assert_eq!(r["resourceName"], name, "{path}: {r:#}");
    assert_eq!(r["changeType"], change, "{path}: {r:#}");
    for (key, value) in attributes {
        assert_eq!(r["attributes"][key], *value, "{path} {key}: {r:#}");
    }
}

/// The files the per-fixture tests below cover; a new file fails
/// `shared_fixture_files_are_all_covered` until it has its own test.
const TERRAFORM_FIXTURES: [&str; 12] = [
    "01_tfjson_basic_create_read_modules.json",
    "02_tfplanformat_replace_delete_create.json",
    "03_tfplanformat_delete.json",
    "04_opentofu_update_identity.json",
    "05_tfjson_replace_tainted.json",
    "06_tfjson_update_importing.json",
    "07_tfjson_noop_moved.json",
    "08_checkov_data_read_reasons_module_foreach.json",
    "09_tfcompliance_mixed_delete_update_noop_drift.json",
    "10_tfsummarize_foreach_modules_noop_reason_drift.json",
    "11_checkov_create_before_destroy_HANDEDITED.json",
    "12_checkov_large_55_creates.json",
];
const PULUMI_FIXTURES: [&str; 1] = ["pulumi_preview_infracost_3_creates.json"];

fn names_in(dir: PathBuf) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("list {}: {e}", dir.display()))
        .map(|entry| {
            entry
                .expect("directory entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|name| name.ends_with(".json"))
        .collect();
    names.sort();
    names
}

#[test]
fn shared_fixture_files_are_all_covered() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_files_are_all_covered") else {
        return;
    };
    assert_eq!(names_in(shared.path(TERRAFORM_DIR)), TERRAFORM_FIXTURES);
    assert_eq!(names_in(shared.path(PULUMI_DIR)), PULUMI_FIXTURES);
}

/// Converts a Terraform fixture (auto-detected) and checks the metadata every
/// plan carries.
fn terraform_fixture(shared: &Shared, file: &str) -> Value {
    let path = terraform_plan(shared, file);
    let plan = read(&path);
    let path = path.display().to_string();
    let release = converted(&path, &[]);
    assert_eq!(release["environmentName"], "dev");
    assert_eq!(release["releaseStream"], "QA");
    assert_eq!(
        release["metadata"]["terraform.format_version"],
        plan["format_version"]
    );
    assert_eq!(
        release["metadata"]["terraform.version"],
        plan["terraform_version"]
    );
    assert_eq!(release["approvals"], json!([]));
    // --format terraform gives the same release as auto.
    assert_eq!(
        converted(&path, &["--format", "terraform"]),
        release,
        "{file}"
    );
    release
}

#[test]
fn shared_fixture_01_creates_a_data_read_and_module_resources() {
    let Some(shared) =
        shared_or_skip("adapters::shared_fixture_01_creates_a_data_read_and_module_resources")
    else {
        return;
    };
    let file = TERRAFORM_FIXTURES[0];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("CREATE", 7), ("NO_OPERATION", 1)]);
    expect_resource(
        &r,
        "data.null_data_source.baz",
        ("null_data_source", "baz", "NO_OPERATION"),
        &[("terraform.actions", "read"), ("terraform.mode", "data")],
    );
    expect_resource(
        &r,
        "module.foo.null_resource.aliased",
        ("null_resource", "aliased", "CREATE"),
        &[
            ("terraform.module_address", "module.foo"),
            ("terraform.mode", "managed"),
        ],
    );
    expect_resource(
        &r,
        "null_resource.baz[1]",
        ("null_resource", "baz[1]", "CREATE"),
        &[("terraform.index", "1")],
    );
    assert_eq!(r["metadata"]["terraform.output_changes"], "8");
}

#[test]
fn shared_fixture_02_delete_create_is_recreate() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_02_delete_create_is_recreate")
    else {
        return;
    };
    let file = TERRAFORM_FIXTURES[1];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("RECREATE", 1)]);
    expect_resource(
        &r,
        "null_resource.foo-bar",
        ("null_resource", "foo-bar", "RECREATE"),
        &[
            ("terraform.actions", "delete,create"),
            ("terraform.action_reason", "replace_because_cannot_update"),
            ("terraform.replace_paths", r#"[["triggers"]]"#),
            ("terraform.provider", "registry.terraform.io/hashicorp/null"),
        ],
    );
    assert_eq!(r["metadata"]["terraform.timestamp"], "2024-10-25T21:40:20Z");
}

#[test]
fn shared_fixture_03_delete() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_03_delete") else {
        return;
    };
    let file = TERRAFORM_FIXTURES[2];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("DELETE", 1)]);
    expect_resource(
        &r,
        "terraform_data.foo-bar",
        ("terraform_data", "foo-bar", "DELETE"),
        &[
            ("terraform.actions", "delete"),
            (
                "terraform.action_reason",
                "delete_because_no_resource_config",
            ),
        ],
    );
}

#[test]
fn shared_fixture_04_opentofu_update() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_04_opentofu_update") else {
        return;
    };
    let file = TERRAFORM_FIXTURES[3];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("UPDATE_IN_PLACE", 1)]);
    expect_resource(
        &r,
        "test_instance.test",
        ("test_instance", "test", "UPDATE_IN_PLACE"),
        &[
            ("terraform.actions", "update"),
            ("terraform.provider", "registry.opentofu.org/hashicorp/test"),
        ],
    );
    // OpenTofu omits applyable / complete: not invented.
    assert_eq!(r["metadata"].get("terraform.complete"), None);
    assert_eq!(r["metadata"].get("terraform.applyable"), None);
}

#[test]
fn shared_fixture_05_tainted_replace_is_recreate() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_05_tainted_replace_is_recreate")
    else {
        return;
    };
    let file = TERRAFORM_FIXTURES[4];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("RECREATE", 1)]);
    expect_resource(
        &r,
        "null_resource.example",
        ("null_resource", "example", "RECREATE"),
        &[("terraform.action_reason", "replace_because_tainted")],
    );
    assert_eq!(r["metadata"]["terraform.complete"], "true");
}

#[test]
fn shared_fixture_06_update_while_importing() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_06_update_while_importing") else {
        return;
    };
    let file = TERRAFORM_FIXTURES[5];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("UPDATE_IN_PLACE", 1)]);
    expect_resource(
        &r,
        "corner_user_identity.user",
        ("corner_user_identity", "user", "UPDATE_IN_PLACE"),
        &[
            ("terraform.importing", "true"),
            (
                "terraform.importing_identity",
                r#"{"email":"a@example.com"}"#,
            ),
        ],
    );
}

#[test]
fn shared_fixture_07_moved_no_op() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_07_moved_no_op") else {
        return;
    };
    let file = TERRAFORM_FIXTURES[6];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("NO_OPERATION", 1)]);
    expect_resource(
        &r,
        "random_id.test2",
        ("random_id", "test2", "NO_OPERATION"),
        &[
            ("terraform.actions", "no-op"),
            ("terraform.previous_address", "random_id.test"),
        ],
    );
}

#[test]
fn shared_fixture_08_data_reads_with_reasons_in_a_module_with_for_each() {
    let Some(shared) = shared_or_skip(
        "adapters::shared_fixture_08_data_reads_with_reasons_in_a_module_with_for_each",
    ) else {
        return;
    };
    let file = TERRAFORM_FIXTURES[7];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("CREATE", 5), ("NO_OPERATION", 4)]);
    expect_resource(
        &r,
        r#"module.poc.data.aws_iam_policy_document.r4["p1"]"#,
        ("aws_iam_policy_document", r#"r4["p1"]"#, "NO_OPERATION"),
        &[
            ("terraform.mode", "data"),
            ("terraform.action_reason", "read_because_dependency_pending"),
            ("terraform.module_address", "module.poc"),
            ("terraform.index", r#""p1""#),
        ],
    );
    expect_resource(
        &r,
        r#"module.poc.data.aws_iam_policy_document.r3["p2"]"#,
        ("aws_iam_policy_document", r#"r3["p2"]"#, "NO_OPERATION"),
        &[("terraform.action_reason", "read_because_config_unknown")],
    );
    expect_resource(
        &r,
        r#"module.poc.aws_iam_role.r6["p2"]"#,
        ("aws_iam_role", r#"r6["p2"]"#, "CREATE"),
        &[("terraform.actions", "create")],
    );
}

#[test]
fn shared_fixture_09_mixed_plan_with_drift() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_09_mixed_plan_with_drift") else {
        return;
    };
    let file = TERRAFORM_FIXTURES[8];
    let r = terraform_fixture(&shared, file);
    expect_counts(
        file,
        &r,
        &[
            ("CREATE", 5),
            ("DELETE", 2),
            ("NO_OPERATION", 7),
            ("UPDATE_IN_PLACE", 1),
        ],
    );
    expect_resource(
        &r,
        "aws_cloudwatch_event_rule.Metricos_custom_alert_schedule_frequent[0]",
        (
            "aws_cloudwatch_event_rule",
            "Metricos_custom_alert_schedule_frequent[0]",
            "DELETE",
        ),
        &[("terraform.actions", "delete")],
    );
    expect_resource(
        &r,
        "aws_cloudwatch_event_target.metric_event_target",
        (
            "aws_cloudwatch_event_target",
            "metric_event_target",
            "UPDATE_IN_PLACE",
        ),
        &[],
    );
    expect_resource(
        &r,
        "aws_lambda_function.lambda",
        ("aws_lambda_function", "lambda", "CREATE"),
        &[],
    );
    assert_eq!(r["metadata"]["terraform.drift"], "15");
    // Two outputs, one of them no-op.
    assert_eq!(r["metadata"]["terraform.output_changes"], "1");
}

#[test]
fn shared_fixture_10_for_each_modules_and_a_no_op_with_a_delete_reason() {
    let Some(shared) = shared_or_skip(
        "adapters::shared_fixture_10_for_each_modules_and_a_no_op_with_a_delete_reason",
    ) else {
        return;
    };
    let file = TERRAFORM_FIXTURES[9];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("CREATE", 7), ("NO_OPERATION", 1)]);
    expect_resource(
        &r,
        r#"module.github["terraform-plan-summary"].github_branch.demo"#,
        ("github_branch", "demo", "NO_OPERATION"),
        &[
            ("terraform.actions", "no-op"),
            (
                "terraform.action_reason",
                "delete_because_no_resource_config",
            ),
            (
                "terraform.module_address",
                r#"module.github["terraform-plan-summary"]"#,
            ),
        ],
    );
    expect_resource(
        &r,
        r#"module.github["demo-repository"].github_repository.repository"#,
        ("github_repository", "repository", "CREATE"),
        &[(
            "terraform.module_address",
            r#"module.github["demo-repository"]"#,
        )],
    );
    assert_eq!(r["metadata"]["terraform.drift"], "3");
    assert_eq!(r["metadata"]["terraform.output_changes"], "1");
}

#[test]
fn shared_fixture_11_create_delete_is_replace() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_11_create_delete_is_replace")
    else {
        return;
    };
    let file = TERRAFORM_FIXTURES[10];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("REPLACE", 1)]);
    expect_resource(
        &r,
        "aws_secretsmanager_secret.default",
        ("aws_secretsmanager_secret", "default", "REPLACE"),
        &[("terraform.actions", "create,delete")],
    );
}

#[test]
fn shared_fixture_12_large_plan_of_55_creates() {
    let Some(shared) = shared_or_skip("adapters::shared_fixture_12_large_plan_of_55_creates")
    else {
        return;
    };
    let file = TERRAFORM_FIXTURES[11];
    let r = terraform_fixture(&shared, file);
    expect_counts(file, &r, &[("CREATE", 55)]);
    expect_resource(
        &r,
        "aws_db_instance.default",
        ("aws_db_instance", "default", "CREATE"),
        &[("terraform.provider", "aws")],
    );
    expect_resource(
        &r,
        "aws_neptune_cluster_instance.default[0]",
        ("aws_neptune_cluster_instance", "default[0]", "CREATE"),
        &[],
    );
    assert_eq!(r["metadata"]["terraform.output_changes"], "10");
}

#[test]
fn shared_pulumi_fixture_three_creates() {
    let Some(shared) = shared_or_skip("adapters::shared_pulumi_fixture_three_creates") else {
        return;
    };
    let file = PULUMI_FIXTURES[0];
    let path = pulumi_preview(&shared, file).display().to_string();
    let r = converted(&path, &[]);
    assert_eq!(converted(&path, &["--format", "pulumi"]), r);
    expect_counts(file, &r, &[("CREATE", 3)]);
    expect_resource(
        &r,
        "urn:pulumi:dev::aws-ts-ebs::pulumi:pulumi:Stack::aws-ts-ebs-dev",
        ("pulumi:pulumi:Stack", "aws-ts-ebs-dev", "CREATE"),
        &[("pulumi.ops", "create"), ("pulumi.custom", "false")],
    );
    expect_resource(
        &r,
        "urn:pulumi:dev::aws-ts-ebs::aws:ebs/volume:Volume::example-1",
        ("aws:ebs/volume:Volume", "example-1", "CREATE"),
        &[
            ("pulumi.ops", "create"),
            ("pulumi.custom", "true"),
            (
                "pulumi.provider",
                "urn:pulumi:dev::aws-ts-ebs::pulumi:providers:aws::default_5_4_0::04da6b54-80e4-46f7-96ec-b56ff0331ba9",
            ),
            (
                "pulumi.parent",
                "urn:pulumi:dev::aws-ts-ebs::pulumi:pulumi:Stack::aws-ts-ebs-dev",
            ),
        ],
    );
    assert_eq!(r["metadata"]["pulumi.stack"], "dev");
    assert_eq!(r["metadata"]["pulumi.project"], "aws-ts-ebs");
}

/// The real preview with the steps of volume `example` turned into a
/// replacement, in the given op order.
fn pulumi_with_replacement(shared: &Shared, ops: &[&str]) -> Value {
    let mut preview = read(&pulumi_preview(shared, PULUMI_FIXTURES[0]));
    let steps = preview["steps"].as_array_mut().expect("steps");
    let template = steps.remove(1);
    assert_eq!(
        template["urn"],
        "urn:pulumi:dev::aws-ts-ebs::aws:ebs/volume:Volume::example"
    );
    for op in ops {
        let mut step = template.clone();
        step["op"] = json!(op);
        step["replaceReasons"] = json!(["availabilityZone"]);
        steps.push(step);
    }
    preview
}

#[test]
fn shared_pulumi_replacement_steps_merge_into_one_change_by_order() {
    let Some(shared) =
        shared_or_skip("adapters::shared_pulumi_replacement_steps_merge_into_one_change_by_order")
    else {
        return;
    };
    let example = "urn:pulumi:dev::aws-ts-ebs::aws:ebs/volume:Volume::example";
    for (ops, kind) in [
        (
            ["create-replacement", "replace", "delete-replaced"],
            "REPLACE",
        ),
        (
            ["delete-replaced", "replace", "create-replacement"],
            "RECREATE",
        ),
    ] {
        let file = temp_file(pulumi_with_replacement(&shared, &ops).to_string(), ".json");
        let r = converted(&file.path().display().to_string(), &[]);
        assert_eq!(r["resources"].as_array().expect("resources").len(), 3);
        expect_resource(
            &r,
            example,
            ("aws:ebs/volume:Volume", "example", kind),
            &[
                ("pulumi.ops", ops.join(",").as_str()),
                ("pulumi.replace_reasons", "availabilityZone"),
            ],
        );
    }
    // Without --show-replacement-steps only `replace` is printed: counted as
    // RECREATE, with a warning saying how to know better.
    let file = temp_file(
        pulumi_with_replacement(&shared, &["replace"]).to_string(),
        ".json",
    );
    let run = convert(&file.path().display().to_string(), &[]);
    assert_eq!(run.code, 0, "{run:#?}");
    expect_resource(
        &run.json(),
        example,
        ("aws:ebs/volume:Volume", "example", "RECREATE"),
        &[],
    );
    assert!(
        run.stderr
            .contains("gatehouse: warning: 1 replacement without its replacement steps"),
        "{run:#?}"
    );
    assert!(run.stderr.contains("--show-replacement-steps"), "{run:#?}");
}

#[test]
fn shared_failed_pulumi_preview_is_refused() {
    let Some(shared) = shared_or_skip("adapters::shared_failed_pulumi_preview_is_refused") else {
        return;
    };
    let mut preview = read(&pulumi_preview(&shared, PULUMI_FIXTURES[0]));
    preview["diagnostics"] = json!([{
        "urn": "urn:pulumi:dev::aws-ts-ebs::aws:ebs/volume:Volume::example",
        "message": "error: no valid credential sources for AWS Provider found",
        "severity": "error"
    }]);
    convert_fails(
        &preview,
        &[],
        &[
            "$.diagnostics[0]: the preview reported an error, so its steps are incomplete",
            "no valid credential sources",
        ],
    );
    let mut preview = read(&pulumi_preview(&shared, PULUMI_FIXTURES[0]));
    preview["steps"][2]["op"] = json!("teleport");
    convert_fails(
        &preview,
        &[],
        &["$.steps[2].op: unknown step op \"teleport\""],
    );
}

// ---- malformed plans, derived from a real one ----

/// Fixture 02 (one `delete,create`), edited.
fn plan_02(shared: &Shared, edit: impl FnOnce(&mut Value)) -> Value {
    let mut plan = read(&terraform_plan(shared, TERRAFORM_FIXTURES[1]));
    edit(&mut plan);
    plan
}

#[test]
fn shared_errored_plan_is_refused() {
    let Some(shared) = shared_or_skip("adapters::shared_errored_plan_is_refused") else {
        return;
    };
    let plan = plan_02(&shared, |p| p["errored"] = json!(true));
    convert_fails(
        &plan,
        &[],
        &[
            "$.errored: the plan is incomplete because planning failed (errored: true)",
            "plan again",
        ],
    );
}

#[test]
fn shared_unknown_format_major_is_refused() {
    let Some(shared) = shared_or_skip("adapters::shared_unknown_format_major_is_refused") else {
        return;
    };
    let plan = plan_02(&shared, |p| p["format_version"] = json!("2.0"));
    convert_fails(
        &plan,
        &[],
        &[
            "$.format_version: unsupported format_version \"2.0\"",
            "0.x and 1.x",
        ],
    );
    // A newer minor of a known major is fine.
    let plan = plan_02(&shared, |p| p["format_version"] = json!("1.9"));
    let file = temp_file(plan.to_string(), ".json");
    let run = convert(&file.path().display().to_string(), &[]);
    assert_eq!(run.code, 0, "{run:#?}");
}

#[test]
fn shared_missing_actions_are_refused() {
    let Some(shared) = shared_or_skip("adapters::shared_missing_actions_are_refused") else {
        return;
    };
    let plan = plan_02(&shared, |p| {
        p["resource_changes"][0]["change"]
            .as_object_mut()
            .expect("change")
            .remove("actions");
    });
    convert_fails(
        &plan,
        &[],
        &["$.resource_changes[0].change: missing field `actions`"],
    );
}

#[test]
fn shared_actions_that_are_not_a_list_are_refused() {
    let Some(shared) = shared_or_skip("adapters::shared_actions_that_are_not_a_list_are_refused")
    else {
        return;
    };
    let plan = plan_02(&shared, |p| {
        p["resource_changes"][0]["change"]["actions"] = json!("delete,create")
    });
    convert_fails(
        &plan,
        &[],
        &[
            "$.resource_changes[0].change.actions: invalid type: string \"delete,create\", expected a list of actions",
        ],
    );
    let plan = plan_02(&shared, |p| {
        p["resource_changes"][0]["change"]["actions"] = json!(["delete", 7])
    });
    convert_fails(
        &plan,
        &[],
        &["$.resource_changes[0].change.actions[1]: invalid type: integer `7`, expected a string"],
    );
    let plan = plan_02(&shared, |p| {
        p["resource_changes"][0]["change"]["actions"] = json!(["destroy"])
    });
    convert_fails(
        &plan,
        &[],
        &["$.resource_changes[0].change.actions: unknown action \"destroy\""],
    );
    let plan = plan_02(&shared, |p| {
        p["resource_changes"][0]["change"]["actions"] = json!(["update", "delete"])
    });
    convert_fails(
        &plan,
        &[],
        &[
            "$.resource_changes[0].change.actions: unsupported combination of actions [\"update\",\"delete\"]",
        ],
    );
}

#[test]
fn shared_other_wrong_types_are_refused_with_their_path() {
    let Some(shared) =
        shared_or_skip("adapters::shared_other_wrong_types_are_refused_with_their_path")
    else {
        return;
    };
    let plan = plan_02(&shared, |p| p["resource_changes"] = json!({"a": 1}));
    convert_fails(
        &plan,
        &[],
        &["$.resource_changes: invalid type: map, expected a sequence"],
    );
    let plan = plan_02(&shared, |p| p["resource_changes"][0]["address"] = json!(42));
    convert_fails(
        &plan,
        &[],
        &["$.resource_changes[0].address: invalid type: integer `42`, expected a string"],
    );
    let plan = plan_02(&shared, |p| p["format_version"] = json!(1.2));
    convert_fails(
        &plan,
        &[],
        &["$.format_version: invalid type: floating point `1.2`, expected a string"],
    );
    let plan = plan_02(&shared, |p| p["errored"] = json!("no"));
    convert_fails(
        &plan,
        &[],
        &["$.errored: invalid type: string \"no\", expected a boolean"],
    );
}

#[test]
fn shared_plan_needs_an_environment_and_a_stream() {
    let Some(shared) = shared_or_skip("adapters::shared_plan_needs_an_environment_and_a_stream")
    else {
        return;
    };
    let path = terraform_plan(&shared, TERRAFORM_FIXTURES[1])
        .display()
        .to_string();
    let run = gatehouse(["convert", "--input", &path]);
    assert_error(
        &run,
        &[
            &path,
            "A Terraform plan names no environment or release stream; pass --environment and --release-stream",
        ],
    );
    let run = gatehouse(["convert", "--input", &path, "--environment", "dev"]);
    assert_error(&run, &["pass --release-stream"]);
}

// ---- a plan with nothing to change ----

/// Fixture 03 as Terraform writes it when nothing changes: `applyable:
/// false`, no `errored`, no `resource_changes`.
fn no_change_plan(shared: &Shared) -> Value {
    let mut plan = read(&terraform_plan(shared, TERRAFORM_FIXTURES[2]));
    let object = plan.as_object_mut().expect("plan object");
    object.remove("resource_changes");
    object.remove("errored");
    object.insert("applyable".into(), json!(false));
    plan
}

#[test]
fn shared_no_change_plan_evaluates_as_an_empty_release() {
    let Some(shared) =
        shared_or_skip("adapters::shared_no_change_plan_evaluates_as_an_empty_release")
    else {
        return;
    };
    let file = temp_file(no_change_plan(&shared).to_string(), ".json");
    let path = file.path().display().to_string();
    let run = gatehouse([
        "eval",
        "--policy",
        &policy("stream-approval").display().to_string(),
        "--input",
        &path,
        "--release-stream",
        "QA",
        "--environment",
        "dev",
    ]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("release: environment dev, stream QA, 0 resources\n"),
        "{run:#?}"
    );
    let release = converted(&path, &[]);
    assert_eq!(release["resources"], json!([]));
    assert_eq!(release["metadata"]["terraform.applyable"], "false");
}

// ---- eval on plans ----

fn eval(input: &str, policy_name: &str, extra: &[&str]) -> Run {
    let policy_path = policy(policy_name).display().to_string();
    let mut args = vec!["eval", "--policy", &policy_path, "--input", input];
    args.extend_from_slice(extra);
    let run = gatehouse(&args);
    assert_no_host_panic(&run);
    run
}

/// Terraform's `forget` and Pulumi's `discard`, each of one database: the
/// resource leaves the tool's state while the object survives.
fn forget_and_discard() -> [(&'static str, &'static str, tempfile::NamedTempFile); 2] {
    let forget = json!({
        "format_version": "1.2",
        "terraform_version": "1.9.0",
        "resource_changes": [{
            "address": "aws_db_instance.orders",
            "mode": "managed",
            "type": "aws_db_instance",
            "name": "orders",
            "change": {"actions": ["forget"], "before": {}, "after": null}
        }]
    });
    let discard = json!({
        "steps": [{
            "op": "discard",
            "urn": "urn:pulumi:prod::shop::aws:rds/instance:Instance::orders",
            "oldState": {"custom": true, "type": "aws:rds/instance:Instance"}
        }],
        "changeSummary": {"discard": 1}
    });
    [
        (
            "terraform.actions",
            "forget",
            temp_file(forget.to_string(), ".json"),
        ),
        (
            "pulumi.ops",
            "discard",
            temp_file(discard.to_string(), ".json"),
        ),
    ]
}

#[test]
fn forget_and_discard_are_both_delete_with_the_raw_action_kept() {
    for (attribute, action, file) in forget_and_discard() {
        let path = file.path().display().to_string();
        let release = converted(&path, &[]);
        let resource = &release["resources"][0];
        assert_eq!(resource["changeType"], "DELETE", "{release:#}");
        assert_eq!(resource["attributes"][attribute], action, "{release:#}");
        // A destructive-changes gate sees both, alike.
        let run = eval(
            &path,
            "destructive-changes",
            &[
                "--environment",
                "staging",
                "--release-stream",
                "QA",
                "--set",
                "protected-types=aws_db_instance,aws:rds/*",
                "--set",
                "approver-groups=dba",
                "--output",
                "json",
            ],
        );
        assert_eq!(run.code, 2, "{run:#?}");
        let report = run.json();
        assert_eq!(report["input"]["changes"], json!({"DELETE": 1}));
        assert_eq!(
            report["required_approvals"][0]["approver_groups"],
            json!(["dba"])
        );
    }
}

#[test]
fn shared_destructive_changes_gates_a_terraform_plan() {
    let Some(shared) =
        shared_or_skip("adapters::shared_destructive_changes_gates_a_terraform_plan")
    else {
        return;
    };
    let path = terraform_plan(&shared, TERRAFORM_FIXTURES[1])
        .display()
        .to_string();
    let staging = eval(
        &path,
        "destructive-changes",
        &[
            "--format",
            "terraform",
            "--environment",
            "staging",
            "--release-stream",
            "QA",
            "--set",
            "protected-types=null_resource",
            "--set",
            "approver-groups=dba",
            "--output",
            "json",
        ],
    );
    assert_eq!(staging.code, 2, "{staging:#?}");
    let report = staging.json();
    assert_eq!(report["input"]["changes"], json!({"RECREATE": 1}));
    let reasons = &report["policies"][0]["reasons"];
    assert_eq!(
        reasons[0]["message"],
        "RECREATE of null_resource null_resource.foo-bar"
    );
    assert_eq!(reasons[0]["resource_path"], "null_resource.foo-bar");
    assert_eq!(
        report["required_approvals"][0]["approver_groups"],
        json!(["dba"])
    );

    let prod = eval(
        &path,
        "destructive-changes",
        &[
            "--format",
            "terraform",
            "--environment",
            "prod-eu",
            "--release-stream",
            "PROD",
            "--set",
            "protected-types=null_resource",
        ],
    );
    assert_eq!(prod.code, 1, "{prod:#?}");
    assert!(
        prod.stdout
            .contains("RECREATE of null_resource null_resource.foo-bar"),
        "{prod:#?}"
    );

    // 55 creates, an aws_db_instance among them: nothing destructive.
    let large = terraform_plan(&shared, TERRAFORM_FIXTURES[11])
        .display()
        .to_string();
    let run = eval(
        &large,
        "destructive-changes",
        &[
            "--format",
            "terraform",
            "--environment",
            "prod-eu",
            "--release-stream",
            "PROD",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(run.stdout.contains("55 resources (55 CREATE)"), "{run:#?}");
}

#[test]
fn shared_report_shows_drift_and_output_changes() {
    let Some(shared) = shared_or_skip("adapters::shared_report_shows_drift_and_output_changes")
    else {
        return;
    };
    let path = terraform_plan(&shared, TERRAFORM_FIXTURES[8])
        .display()
        .to_string();
    let run = eval(
        &path,
        "stream-approval",
        &["--environment", "dev", "--release-stream", "QA"],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    for line in [
        "warning: 15 resources changed outside Terraform since the last apply (resource_drift): reported, not gated",
        "warning: 1 output change (output_changes): reported, not gated",
    ] {
        assert!(run.stdout.contains(line), "{line}: {run:#?}");
    }
}

#[test]
fn shared_incomplete_plans_and_deferred_changes_reach_metadata_and_report() {
    let Some(shared) = shared_or_skip(
        "adapters::shared_incomplete_plans_and_deferred_changes_reach_metadata_and_report",
    ) else {
        return;
    };
    let plan = plan_02(&shared, |p| {
        p["complete"] = json!(false);
        p["deferred_changes"] = json!([{
            "reason": "provider_config_unknown",
            "resource_change": {"address": "kubernetes_namespace.apps", "change": {"actions": ["create"]}}
        }]);
    });
    let file = temp_file(plan.to_string(), ".json");
    let path = file.path().display().to_string();
    let release = converted(&path, &[]);
    assert_eq!(release["metadata"]["terraform.complete"], "false");
    assert_eq!(release["metadata"]["terraform.deferred_changes"], "1");
    expect_counts("deferred", &release, &[("RECREATE", 1)]);
    let run = eval(
        &path,
        "stream-approval",
        &[
            "--environment",
            "dev",
            "--release-stream",
            "QA",
            "--output",
            "json",
        ],
    );
    assert_eq!(run.code, 0, "{run:#?}");
    let warnings = run.json()["input"]["warnings"].clone();
    let warnings: Vec<&str> = warnings
        .as_array()
        .expect("warnings")
        .iter()
        .map(|w| w.as_str().expect("warning"))
        .collect();
    assert!(
        warnings.iter().any(|w| w.contains("complete: false")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("kubernetes_namespace.apps (provider_config_unknown)")),
        "{warnings:?}"
    );
}

// ---- --meta and --approvals ----

#[test]
fn shared_meta_and_approvals_fill_a_plan() {
    let Some(shared) = shared_or_skip("adapters::shared_meta_and_approvals_fill_a_plan") else {
        return;
    };
    let path = terraform_plan(&shared, TERRAFORM_FIXTURES[2])
        .display()
        .to_string();
    let approvals = temp_file(
        json!([{"approver": "asmith", "groups": ["dba"], "at": "2026-11-22T09:00:00+01:00"}])
            .to_string(),
        ".json",
    );
    let approvals_path = approvals.path().display().to_string();
    let release = converted(
        &path,
        &[
            "--meta",
            "commit=9f2c1e7",
            "--meta",
            "pipeline=https://ci.example/run/42?x=1",
            "--approvals",
            &approvals_path,
        ],
    );
    assert_eq!(release["metadata"]["commit"], "9f2c1e7");
    assert_eq!(
        release["metadata"]["pipeline"],
        "https://ci.example/run/42?x=1"
    );
    assert_eq!(
        release["approvals"],
        json!([{"approver": "asmith", "groups": ["dba"], "at": "2026-11-22T08:00:00Z"}])
    );

    // The approvals count: approval-quorum passes with them, waits without.
    let quorum = [
        "--environment",
        "prod",
        "--release-stream",
        "PROD",
        "--set",
        "required-groups=dba",
        "--now",
        "2026-11-22T10:00:00Z",
    ];
    let run = eval(&path, "approval-quorum", &quorum);
    assert_eq!(run.code, 2, "{run:#?}");
    let mut with_approvals = quorum.to_vec();
    with_approvals.extend(["--approvals", approvals_path.as_str()]);
    let run = eval(&path, "approval-quorum", &with_approvals);
    assert_eq!(run.code, 0, "{run:#?}");
}

#[test]
fn meta_and_approvals_apply_to_a_release_too() {
    let release = json!({
        "environmentName": "prod-us", "releaseStream": "PROD", "resources": [],
        "metadata": {"author": "jdoe", "commit": "9f2c1e7"},
        "approvals": [{"approver": "asmith", "groups": ["tech-lead"], "at": "2026-11-22T08:15:00Z"}]
    });
    let input = temp_file(release.to_string(), ".json");
    let approvals = temp_file(
        json!([{"approver": "cdiaz", "groups": ["dba"], "at": "2026-11-22T09:30:00Z"}]).to_string(),
        ".json",
    );
    let run = gatehouse([
        "convert",
        "--input",
        &input.path().display().to_string(),
        "--meta",
        "author=bkumar",
        "--meta",
        "ticket=CHG-1",
        "--approvals",
        &approvals.path().display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{run:#?}");
    let converted = run.json();
    assert_eq!(
        converted["metadata"],
        json!({"author": "bkumar", "commit": "9f2c1e7", "ticket": "CHG-1"})
    );
    let approvers: Vec<&str> = converted["approvals"]
        .as_array()
        .expect("approvals")
        .iter()
        .map(|a| a["approver"].as_str().expect("approver"))
        .collect();
    assert_eq!(approvers, ["asmith", "cdiaz"]);
}

#[test]
fn shared_bad_meta_and_approvals_are_errors() {
    let Some(shared) = shared_or_skip("adapters::shared_bad_meta_and_approvals_are_errors") else {
        return;
    };
    let path = terraform_plan(&shared, TERRAFORM_FIXTURES[2])
        .display()
        .to_string();
    let run = convert(&path, &["--meta", "commit"]);
    assert_error(&run, &["--meta \"commit\": no '='", "KEY=VALUE"]);
    let run = convert(&path, &["--meta", "a=1", "--meta", "a=2"]);
    assert_error(&run, &["--meta: key \"a\" is given twice"]);
    let run = convert(&path, &["--meta", "terraform.version=0.1"]);
    assert_error(
        &run,
        &[
            "--meta terraform.version: keys starting with `terraform.` or `pulumi.` are derived from a Terraform plan and cannot be set or overridden",
        ],
    );
    for (approvals, fragment) in [
        (
            json!({"approver": "a"}),
            "$: invalid type: map, expected a list of approvals",
        ),
        (
            json!([{"approver": "a", "at": "yesterday"}]),
            "$[0].at: expected an RFC 3339 timestamp",
        ),
        (
            json!([{"groups": ["dba"], "at": "2026-11-22T09:30:00Z"}]),
            "$[0]: missing field `approver`",
        ),
    ] {
        let file = temp_file(approvals.to_string(), ".json");
        let approvals_path = file.path().display().to_string();
        let run = convert(&path, &["--approvals", &approvals_path]);
        assert_error(&run, &[&approvals_path, fragment]);
    }
    let run = convert(&path, &["--approvals", "/nonexistent/approvals.json"]);
    assert_error(
        &run,
        &["/nonexistent/approvals.json: cannot open the approvals file"],
    );
}

// ---- detection and the native format ----

#[test]
fn auto_detection_says_what_it_looked_for() {
    // `terraform providers schema -json`: neither format, nor a known look-alike.
    let message = convert_fails(
        &json!({"format_version": "1.0", "provider_schemas": {}}),
        &[],
        &[
            "$: cannot tell the input format from its top-level keys (found \"format_version\", \"provider_schemas\")",
            "`environmentName`",
            "`terraform_version`",
            "`steps`",
            "--format",
        ],
    );
    assert!(!message.contains('\n'), "{message}");
    convert_fails(
        &json!({"resources": [], "steps": []}),
        &[],
        &["ambiguous input", "--format"],
    );
    let run = gatehouse(["convert", "--input", "x.json", "--format", "cdk"]);
    assert_no_host_panic(&run);
    assert_eq!(run.code, 3, "{run:#?}");
}

#[test]
fn shared_explicit_format_that_does_not_fit_says_so() {
    let Some(shared) = shared_or_skip("adapters::shared_explicit_format_that_does_not_fit_says_so")
    else {
        return;
    };
    let plan = read(&terraform_plan(&shared, TERRAFORM_FIXTURES[1]));
    convert_fails(&plan, &["--format", "pulumi"], &["$: not a Pulumi preview"]);
    let preview = read(&pulumi_preview(&shared, PULUMI_FIXTURES[0]));
    convert_fails(
        &preview,
        &["--format", "terraform"],
        &["$: missing field `format_version`"],
    );
}

#[test]
fn convert_prints_a_native_release_unchanged() {
    let path = workspace_root()
        .join("example-policies/releases/staging-recreate-database.json")
        .display()
        .to_string();
    let run = gatehouse(["convert", "--input", &path]);
    assert_eq!(run.code, 0, "{run:#?}");
    let original = read(&PathBuf::from(&path));
    let release = run.json();
    assert_eq!(release["environmentName"], original["environmentName"]);
    assert_eq!(release["resources"], original["resources"]);
}

/// A converted plan is a native release: eval reads it back with the same
/// verdict as the plan itself.
#[test]
fn shared_converted_plan_evaluates_like_the_plan() {
    let Some(shared) = shared_or_skip("adapters::shared_converted_plan_evaluates_like_the_plan")
    else {
        return;
    };
    let plan = terraform_plan(&shared, TERRAFORM_FIXTURES[8])
        .display()
        .to_string();
    let converted_file = temp_file(converted(&plan, &[]).to_string(), ".json");
    let converted_path = converted_file.path().display().to_string();
    let settings = [
        "--set",
        "protected-types=aws_cloudwatch_*",
        "--output",
        "json",
    ];
    let mut direct_args = vec!["--environment", "staging", "--release-stream", "QA"];
    direct_args.extend(settings);
    let direct = eval(&plan, "destructive-changes", &direct_args);
    let mut again_args = vec!["--environment", "staging"];
    again_args.extend(settings);
    let again = eval(&converted_path, "destructive-changes", &again_args);
    assert_eq!(direct.code, 2, "{direct:#?}");
    assert_eq!(again.code, 2, "{again:#?}");
    assert_eq!(
        direct.json()["policies"][0]["reasons"],
        again.json()["policies"][0]["reasons"]
    );
}

#[test]
fn help_explains_the_formats_and_detection() {
    for command in ["eval", "convert"] {
        let run = gatehouse([command, "--help"]);
        assert_eq!(run.code, 0, "{run:#?}");
        for fragment in [
            "--format <FORMAT>",
            "auto decides from the input's top-level keys",
            "`format_version` together with",
            "`steps` or `changeSummary`",
            "--meta <KEY=VALUE>",
            "--approvals <PATH>",
        ] {
            assert!(
                run.stdout.contains(fragment),
                "{command} --help lacks {fragment:?}: {}",
                run.stdout
            );
        }
    }
}
