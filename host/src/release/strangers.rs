//! Files that are often passed where a plan, a preview or a release belongs,
//! but are none of them: recognised so that the error says what the file is
//! and what to pass instead, in one line, whatever `--format` says.
//!
//! Two kinds (docs/input-formats.md, "Refused inputs"):
//! - text that is not JSON at all ([`by_bytes`], only asked once the text
//!   failed to parse): the log of a CI wrapper around `terraform` (GitHub's
//!   `hashicorp/setup-terraform`, `opentofu/setup-opentofu`), a binary plan
//!   file, UTF-16 text, the human-readable output of `terraform plan` or
//!   `pulumi preview`;
//! - JSON objects of a related but different document ([`by_keys`]):
//!   Terraform state (a `.tfstate` file, or `terraform show -json` without a
//!   plan), the empty `terraform show -json` output, and HCP Terraform /
//!   Terraform Enterprise's redacted JSON plan.
//!
//! Nothing here ever accepts or repairs an input: a recognised file is refused
//! like any other bad input (exit 3), only with a better message. The
//! signatures are chosen so that no valid input of a supported format matches
//! one: every [`by_bytes`] shape is invalid JSON, and every [`by_keys`] shape
//! lacks the keys that make a plan (`format_version` with `resource_changes`
//! or `planned_values`) or carries keys only state has (`lineage`, `serial`).

use std::collections::BTreeSet;

/// What to run instead of passing state or a non-plan: the one way to get a
/// plan Gatehouse reads.
const GET_A_PLAN: &str = "run `terraform plan -out=PLANFILE` and pass the output of `terraform show -json PLANFILE` (or `tofu`)";

/// The refusal of Terraform state as `terraform show -json` prints it.
pub(super) const SHOW_JSON_STATE: &str = "this is Terraform state (`terraform show -json` without a plan file: `values`, no `resource_changes`), not a plan: state says what exists, a plan what will change";

/// How much of the start of a non-JSON file is searched for the phrases of a
/// human-readable plan or preview.
const TEXT_SEARCHED: usize = 64 * 1024;

/// How many characters of a wrapper's `[command]` line are quoted.
const COMMAND_SHOWN: usize = 100;

/// Says what a file that is not JSON is, when it is a known stranger.
pub(super) fn by_bytes(text: &[u8]) -> Option<String> {
    if let Some(message) = ci_wrapper(text) {
        return Some(message);
    }
    if text.starts_with(b"PK\x03\x04") {
        return Some(String::from(
            "this is a binary plan file (a zip archive, as `terraform plan -out=PLANFILE` writes it), not JSON; pass the output of `terraform show -json PLANFILE` (or `tofu show -json PLANFILE`) instead",
        ));
    }
    if utf16(text) {
        return Some(
            "this file is UTF-16 text (Windows PowerShell 5 writes `>` and `Out-File` output as UTF-16), and Gatehouse reads UTF-8 JSON; write it as UTF-8, e.g. `terraform show -json PLANFILE | Out-File -Encoding utf8 plan.json`".into(),
        );
    }
    human_readable(text)
}

/// UTF-16 text: a byte-order mark, or ASCII characters each with a zero
/// byte beside it (little- or big-endian), as JSON in UTF-16 starts.
fn utf16(text: &[u8]) -> bool {
    let zero_beside = |zero: usize, other: usize| {
        [zero, zero + 2].iter().all(|&i| text.get(i) == Some(&0))
            && [other, other + 2]
                .iter()
                .all(|&i| text.get(i).is_some_and(|b| *b != 0))
    };
    text.starts_with(&[0xFF, 0xFE])
        || text.starts_with(&[0xFE, 0xFF])
        || zero_beside(1, 0)
        || zero_beside(0, 1)
}

/// The marker `@actions/exec` prints before running a command, and the
/// workflow commands (`::debug::`, `::set-output name=...::`) of the GitHub
/// Actions toolkit: the lines the setup-terraform and setup-opentofu wrappers
/// add to what terraform prints. No line of JSON starts with either.
fn ci_wrapper(text: &[u8]) -> Option<String> {
    let mut command: Option<(usize, &[u8])> = None;
    let mut workflow: Option<(usize, &[u8])> = None;
    let mut seen_content = false;
    for (index, raw) in text.split(|b| *b == b'\n').enumerate() {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !seen_content && line.starts_with(b"[command]") {
            command = Some((index + 1, line));
        }
        if workflow.is_none()
            && let Some(name) = workflow_command(line)
        {
            workflow = Some((index + 1, name));
        }
        seen_content |= line.iter().any(|b| !b.is_ascii_whitespace());
        if command.is_some() && workflow.is_some() {
            break;
        }
    }
    if command.is_none() && workflow.is_none() {
        return None;
    }
    let program = command
        .and_then(|(_, line)| line.get(b"[command]".len()..))
        .and_then(|rest| rest.split(|b| b.is_ascii_whitespace()).next())
        .and_then(|path| path.rsplit(|b| *b == b'/').next())
        .unwrap_or_default();
    let tofu = String::from_utf8_lossy(program).contains("tofu");
    let (action, setting, tool) = if tofu {
        ("opentofu/setup-opentofu", "tofu_wrapper", "tofu")
    } else {
        (
            "hashicorp/setup-terraform",
            "terraform_wrapper",
            "terraform",
        )
    };
    let mut found = Vec::new();
    if let Some((line, text)) = command {
        found.push(format!("line {line} is its {:?} line", shorten(text)));
    }
    if let Some((line, name)) = workflow {
        found.push(format!(
            "line {line} is a `::{}::` workflow command",
            String::from_utf8_lossy(name)
        ));
    }
    Some(format!(
        "this is the log of {action}'s {tool} wrapper, not {tool}'s own output: {}; set `{setting}: false` on the {action} step (or use the step's `stdout` output, which has none of the wrapper's lines) and produce the file again",
        found.join(" and ")
    ))
}

/// The name of a GitHub Actions workflow command (`::debug::...`,
/// `::set-output name=x::...`) that `line` is, if it is one.
fn workflow_command(line: &[u8]) -> Option<&[u8]> {
    let rest = line.strip_prefix(b"::")?;
    let end = rest
        .iter()
        .position(|b| !(b.is_ascii_lowercase() || *b == b'-'))?;
    let (name, after) = rest.split_at(end);
    let known = name.len() >= 3 && (after.starts_with(b"::") || after.starts_with(b" "));
    known.then_some(name)
}

/// A line quoted in a message: lossy UTF-8, at most [`COMMAND_SHOWN`] characters.
fn shorten(line: &[u8]) -> String {
    let text = String::from_utf8_lossy(line);
    if text.chars().count() > COMMAND_SHOWN {
        text.chars().take(COMMAND_SHOWN).collect::<String>() + "..."
    } else {
        text.into_owned()
    }
}

/// The human-readable output of `terraform plan` / `tofu plan` or `pulumi
/// preview`, told by phrases they always print near the top.
fn human_readable(text: &[u8]) -> Option<String> {
    let head = String::from_utf8_lossy(text.get(..TEXT_SEARCHED).unwrap_or(text));
    const PLAN_PHRASES: [&str; 4] = [
        "will perform the following actions",
        "used the selected providers to generate the following execution",
        "No changes. Your infrastructure matches the configuration",
        "Objects have changed outside of",
    ];
    if PLAN_PHRASES.iter().any(|p| head.contains(p)) {
        return Some(format!(
            "this is the human-readable output of `terraform plan` or `terraform show`, not JSON; {GET_A_PLAN}"
        ));
    }
    if head.contains("Previewing update (") || head.contains("Previewing destroy (") {
        return Some(
            "this is the human-readable output of `pulumi preview`, not JSON; pass the output of `pulumi preview --json --show-replacement-steps`".into(),
        );
    }
    None
}

/// Says what a JSON object with these top-level keys is, when it is a known
/// stranger rather than an input.
pub(super) fn by_keys(keys: &BTreeSet<String>) -> Option<String> {
    let has = |key: &str| keys.contains(key);
    let plan_keys = has("resource_changes") || has("planned_values");
    if has("lineage") && has("serial") {
        return Some(format!(
            "this is a Terraform state file (`terraform.tfstate`: `version`, `serial`, `lineage`), not a plan: state says what exists, a plan what will change; {GET_A_PLAN}"
        ));
    }
    if has("plan_format_version") && !has("format_version") {
        return Some(format!(
            "this is an HCP Terraform / Terraform Enterprise redacted JSON plan (`plan_format_version`: the API's `json-output-redacted`), whose format Gatehouse does not read; download the run's `json-output` instead (it is `terraform show -json` output), or {GET_A_PLAN}"
        ));
    }
    if has("format_version") && !plan_keys {
        if has("values") {
            return Some(format!("{SHOW_JSON_STATE}; {GET_A_PLAN}"));
        }
        if keys.len() == 1 {
            return Some(format!(
                "this is what `terraform show -json` prints when there is no state and no plan file (only `format_version`), not a plan; {GET_A_PLAN}"
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|k| k.to_string()).collect()
    }

    const WRAPPER: &str = "[command]/home/runner/work/_temp/abc/terraform-bin show -json plan.out\n{\"format_version\":\"1.2\"}\n::debug::Terraform exited with code 0.\n::debug::stdout: {}%0A\n::set-output name=exitcode::0\n";

    #[test]
    fn the_setup_terraform_wrapper_is_named_with_its_lines() {
        let message = by_bytes(WRAPPER.as_bytes()).expect("recognised");
        assert_eq!(
            message,
            "this is the log of hashicorp/setup-terraform's terraform wrapper, not terraform's own output: line 1 is its \"[command]/home/runner/work/_temp/abc/terraform-bin show -json plan.out\" line and line 3 is a `::debug::` workflow command; set `terraform_wrapper: false` on the hashicorp/setup-terraform step (or use the step's `stdout` output, which has none of the wrapper's lines) and produce the file again"
        );
        // Only the workflow commands after the JSON (no `[command]` line).
        let tail = "{\"format_version\":\"1.2\"}\r\n::set-output name=stdout::{}\r\n";
        let message = by_bytes(tail.as_bytes()).expect("recognised");
        assert!(
            message.contains(
                "line 2 is a `::set-output::` workflow command; set `terraform_wrapper: false`"
            ),
            "{message}"
        );
        let tofu = "[command]/tmp/x/tofu-bin show -json plan\n{}";
        let message = by_bytes(tofu.as_bytes()).expect("recognised");
        assert!(
            message.starts_with("this is the log of opentofu/setup-opentofu's tofu wrapper")
                && message.contains("`tofu_wrapper: false`"),
            "{message}"
        );
        let long = format!(
            "[command]/usr/bin/terraform show -json {}\n{{}}",
            "x".repeat(500)
        );
        let message = by_bytes(long.as_bytes()).expect("recognised");
        assert!(message.contains("xxx...\" line"), "{message}");
    }

    #[test]
    fn lookalikes_of_the_wrapper_are_not_it() {
        for text in [
            "[1, 2",
            "{\"a\": \"[command]x\"",
            "{\n  \"a\": 1,\n  ::\n",
            "{\n::x::\n",
            "x\n[command]later\n",
        ] {
            assert_eq!(ci_wrapper(text.as_bytes()), None, "{text:?}");
        }
    }

    #[test]
    fn binary_utf16_and_text_plans_are_named() {
        let zip = by_bytes(b"PK\x03\x04\x14\x00rest").expect("zip");
        assert!(zip.starts_with("this is a binary plan file"), "{zip}");
        for utf16 in [
            &b"\xFF\xFE{\x00\"\x00"[..],
            b"{\x00\"\x00f\x00",
            b"\xFE\xFF\x00{",
        ] {
            let message = by_bytes(utf16).expect("utf-16");
            assert!(message.starts_with("this file is UTF-16 text"), "{message}");
        }
        let text = "\nTerraform used the selected providers to generate the following execution\nplan. Resource actions are indicated with the following symbols:\n";
        let message = by_bytes(text.as_bytes()).expect("text plan");
        assert!(
            message.contains("human-readable output of `terraform plan`"),
            "{message}"
        );
        let message = by_bytes(b"Previewing update (dev)\n\n").expect("text preview");
        assert!(message.contains("`pulumi preview --json"), "{message}");
        assert_eq!(by_bytes(b"environment: prod\n"), None);
        assert_eq!(by_bytes(b"{\"a\": "), None);
    }

    #[test]
    fn state_and_cloud_plans_are_named() {
        let tfstate = by_keys(&keys(&[
            "version",
            "terraform_version",
            "serial",
            "lineage",
            "outputs",
            "resources",
        ]))
        .expect("tfstate");
        assert!(
            tfstate.starts_with("this is a Terraform state file"),
            "{tfstate}"
        );
        let shown = by_keys(&keys(&["format_version", "terraform_version", "values"]))
            .expect("show -json state");
        assert!(
            shown.starts_with("this is Terraform state (`terraform show -json`"),
            "{shown}"
        );
        let empty = by_keys(&keys(&["format_version"])).expect("empty show");
        assert!(empty.contains("no state and no plan file"), "{empty}");
        let cloud = by_keys(&keys(&[
            "plan_format_version",
            "provider_format_version",
            "resource_changes",
            "resource_drift",
        ]))
        .expect("redacted");
        assert!(cloud.contains("redacted JSON plan"), "{cloud}");
        for message in [tfstate, shown, empty, cloud] {
            assert!(message.contains("terraform show -json"), "{message}");
        }
    }

    #[test]
    fn plans_previews_and_releases_are_never_strangers() {
        for list in [
            &[
                "format_version",
                "terraform_version",
                "planned_values",
                "values",
            ][..],
            &["format_version", "resource_changes"],
            &["format_version", "plan_format_version", "resource_changes"],
            &["steps", "changeSummary"],
            &["resources", "environmentName", "releaseStream", "version"],
            &["resources", "serial"],
            &[],
        ] {
            assert_eq!(by_keys(&keys(list)), None, "{list:?}");
        }
    }
}
