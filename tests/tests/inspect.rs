//! `gatehouse inspect`: the reviewer's page for every example policy (Rust,
//! Python, JavaScript), for the hostile fixtures (refused imports, a
//! `describe` that never returns, another world), and the errors for files
//! that are not components. The JSON form is checked against the fields
//! documented in docs/inspect.md.

#![forbid(unsafe_code)]

use gatehouse_e2e::{
    Run, assert_error, assert_no_host_panic, fixture_policy, gatehouse, policy, sha256_hex,
    temp_file, workspace_root,
};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Runs `gatehouse inspect FILE` (text).
fn inspect_text(file: &Path) -> Run {
    let run = gatehouse(["inspect".as_ref(), file.as_os_str()]);
    assert_no_host_panic(&run);
    run
}

/// Runs `gatehouse inspect FILE --output json`, expecting exit 0, and parses it.
fn inspect_json(file: &Path) -> Value {
    let run = gatehouse([
        "inspect".as_ref(),
        file.as_os_str(),
        "--output".as_ref(),
        "json".as_ref(),
    ]);
    assert_no_host_panic(&run);
    assert_eq!(
        run.code,
        0,
        "inspect --output json {}: {run:#?}",
        file.display()
    );
    run.json()
}

/// Every example policy built into target/policies/.
fn example_policies() -> Vec<PathBuf> {
    // `policy()` asserts the directory was built.
    let dir = policy("destructive-changes")
        .parent()
        .expect("target/policies")
        .to_path_buf();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("read target/policies")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "expected the example policies: {files:?}");
    files
}

/// Every import of an inspection, flattened: (group class, import object).
fn imports(json: &Value) -> Vec<(String, Value)> {
    json["imports"]
        .as_array()
        .expect("imports is a list")
        .iter()
        .flat_map(|group| {
            let class = group["class"].as_str().expect("class").to_string();
            group["imports"]
                .as_array()
                .expect("group imports")
                .iter()
                .map(move |import| (class.clone(), import.clone()))
        })
        .collect()
}

fn import_named<'a>(list: &'a [(String, Value)], prefix: &str) -> &'a (String, Value) {
    list.iter()
        .find(|(_, i)| i["name"].as_str().is_some_and(|n| n.starts_with(prefix)))
        .unwrap_or_else(|| panic!("no import named {prefix}*: {list:#?}"))
}

#[test]
fn every_example_policy_is_inspected_and_loads() {
    for file in example_policies() {
        let bytes = std::fs::read(&file).expect("read policy");
        let json = inspect_json(&file);
        let what = file.display().to_string();
        assert_eq!(json["schema"], "gatehouse.inspect/v1", "{what}");
        assert_eq!(json["sha256"], sha256_hex(&bytes), "{what}");
        assert_eq!(json["size"], bytes.len() as u64, "{what}");
        assert_eq!(json["load"]["ok"], true, "{what}: {}", json["load"]);
        assert_eq!(json["describe"]["status"], "ok", "{what}");
        let name = json["describe"]["info"]["name"].as_str().expect("name");
        assert!(!name.is_empty(), "{what}");
        assert_eq!(json["world"]["targets_policy_world"], true, "{what}");
        // Every example targets 0.2.0 (target/policies-0.1 holds the Rust
        // examples built for 0.1.0, which tests/tests/world_versions.rs runs).
        let version = "0.2.0";
        assert_eq!(json["world"]["policy_versions"][0], version, "{what}");
        assert_eq!(json["refused_imports"], serde_json::json!([]), "{what}");
        for required in ["describe", "validate-settings", "evaluate"] {
            let export = json["exports"]
                .as_array()
                .expect("exports")
                .iter()
                .find(|e| e["name"] == required)
                .unwrap_or_else(|| panic!("{what}: no export {required}"));
            assert_eq!(export["required"], true);
            let signature = export["signature"].as_str().expect("signature");
            assert!(signature.starts_with("func("), "{what}: {signature}");
        }
        let list = imports(&json);
        assert!(!list.is_empty(), "{what}");
        for (class, import) in &list {
            assert_ne!(class, "forbidden", "{what}: {import}");
            let treatment = import["treatment"].as_str().expect("treatment");
            assert!(
                ["allowed", "allowed-but-inert"].contains(&treatment),
                "{what}: {import}"
            );
            assert!(!import["sandbox"].as_str().expect("sandbox").is_empty());
        }
        assert!(
            !json["producers"].as_array().expect("producers").is_empty(),
            "{what}: every toolchain here records its producers"
        );
        assert!(json["counts"]["functions"].as_u64().expect("functions") > 0);
        assert_eq!(json["limits"]["within_precheck"], true, "{what}");
        assert_eq!(json["limits"]["per_evaluation"]["fuel"], 2_000_000_000u64);

        // The text page names the same facts.
        let run = inspect_text(&file);
        assert_eq!(run.code, 0, "{run:#?}");
        assert!(run.stderr.is_empty(), "{run:#?}");
        let page = &run.stdout;
        assert!(
            page.contains(&format!("sha256  {}", sha256_hex(&bytes))),
            "{page}"
        );
        assert!(page.contains("Sandbox: loads"), "{page}");
        assert!(page.contains(&format!("name         {name}")), "{page}");
        assert!(
            page.contains(&format!(
                "exports every function of gatehouse:policy/policy@{version}"
            )),
            "{page}"
        );
        for (_, import) in &list {
            let name = import["name"].as_str().expect("name");
            assert!(
                page.contains(&format!("    {name}")),
                "{what}: {name} missing"
            );
        }
    }
}

#[test]
fn a_rust_policy_shows_its_toolchain_and_wasi_imports() {
    let json = inspect_json(&policy("destructive-changes"));
    let producers = json["producers"].to_string();
    assert!(producers.contains("wit-component"), "{producers}");
    let list = imports(&json);
    let (class, stdout) = import_named(&list, "wasi:cli/stdout@0.2");
    assert_eq!(class, "wasi-cli");
    assert_eq!(stdout["treatment"], "allowed");
    assert!(
        stdout["sandbox"]
            .as_str()
            .unwrap_or("")
            .contains("captured")
    );
    let (_, environment) = import_named(&list, "wasi:cli/environment@0.2");
    assert_eq!(environment["treatment"], "allowed-but-inert");
    assert_eq!(environment["grant"], "--allow-env NAME");
    assert_eq!(json["describe"]["info"]["name"], "destructive-changes");
}

#[test]
fn the_python_policy_shows_sockets_and_filesystem_with_their_treatment() {
    let file = policy("destructive-changes-py");
    let json = inspect_json(&file);
    let list = imports(&json);
    let sockets: Vec<&Value> = list
        .iter()
        .filter(|(class, _)| class == "wasi-sockets")
        .map(|(_, i)| i)
        .collect();
    assert!(sockets.len() >= 3, "{list:#?}");
    for socket in &sockets {
        assert_eq!(socket["treatment"], "allowed-but-inert", "{socket}");
        let sandbox = socket["sandbox"].as_str().expect("sandbox");
        assert!(sandbox.contains("denied"), "{sandbox}");
        assert!(socket["grant"].is_null(), "no grant opens the network");
    }
    let (class, tcp) = import_named(&list, "wasi:sockets/tcp@0.2");
    assert_eq!(class, "wasi-sockets");
    let functions: Vec<&str> = tcp["functions"]
        .as_array()
        .expect("functions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        functions.iter().any(|f| f.contains("connect")),
        "the functions the policy could call: {functions:?}"
    );
    let (class, preopens) = import_named(&list, "wasi:filesystem/preopens@0.2");
    assert_eq!(class, "wasi-filesystem");
    assert_eq!(preopens["treatment"], "allowed-but-inert");
    assert_eq!(preopens["grant"], "--allow-read DIR");
    let (_, wall) = import_named(&list, "wasi:clocks/wall-clock@0.2");
    assert!(wall["sandbox"].as_str().unwrap_or("").contains("frozen"));
    assert_eq!(json["describe"]["info"]["name"], "destructive-changes-py");
    assert!(
        json["counts"]["core_modules"]
            .as_u64()
            .expect("core modules")
            > 1
    );

    let run = inspect_text(&file);
    assert_eq!(run.code, 0, "{run:#?}");
    let page = &run.stdout;
    assert!(
        page.contains("WASI sockets: TCP, UDP and name lookup"),
        "{page}"
    );
    assert!(
        page.contains("no grant enables the network"),
        "the sockets' treatment is on the page: {page}"
    );
    assert!(
        page.contains("needs a grant to give anything: --allow-read DIR"),
        "{page}"
    );
}

/// The hostile fixtures that import what the sandbox never provides.
#[test]
fn refused_imports_are_named_with_the_reason_and_exit_0() {
    let cases = [
        (
            "http-importer",
            "wasi:http/outgoing-handler@0.2",
            "policies get no network access",
            "handle",
        ),
        (
            "backdoor-importer",
            "test:evil/backdoor@1.0.0",
            "the sandbox does not know",
            "open",
        ),
    ];
    for (fixture, import, reason, function) in cases {
        let file = fixture_policy(fixture);
        let json = inspect_json(&file);
        assert_eq!(json["load"]["ok"], false, "{fixture}");
        let load_error = json["load"]["error"].as_str().expect("load error");
        assert!(load_error.contains(import), "{fixture}: {load_error}");
        assert_eq!(json["describe"]["status"], "not-called", "{fixture}");
        let refused = json["refused_imports"].to_string();
        assert!(refused.contains(import), "{fixture}: {refused}");
        let list = imports(&json);
        let (class, entry) = import_named(&list, import);
        assert_eq!(class, "forbidden", "{fixture}");
        assert_eq!(entry["treatment"], "refused");
        let sandbox = entry["sandbox"].as_str().expect("sandbox");
        assert!(sandbox.contains(reason), "{fixture}: {sandbox}");
        // What the module would have called through it, read from its types.
        assert_eq!(
            entry["functions"],
            serde_json::json!([function]),
            "{fixture}"
        );
        assert!(
            json["exports"][2]["signature"]
                .as_str()
                .is_some_and(|s| s.starts_with("func(release: record {")),
            "{fixture}: {}",
            json["exports"][2]
        );
        // Still a policy by its exports: the refusal is about the import alone.
        assert_eq!(json["world"]["targets_policy_world"], true, "{fixture}");

        let run = inspect_text(&file);
        assert_eq!(run.code, 0, "{run:#?}");
        let page = &run.stdout;
        assert!(page.contains("Sandbox: REFUSED, the load fails"), "{page}");
        assert!(page.contains("refused imports: "), "{page}");
        let line = page
            .lines()
            .find(|l| l.trim_start().starts_with(import))
            .unwrap_or_else(|| panic!("{fixture}: {import} not listed:\n{page}"));
        assert!(line.ends_with("REFUSED"), "{line}");
        assert!(page.contains(reason), "{page}");
        assert!(page.contains("describe()\n  not called"), "{page}");
        assert!(
            page.contains(&format!("      uses: {function}\n")),
            "{page}"
        );
    }
}

#[test]
fn a_describe_that_never_returns_is_reported_as_a_limit() {
    let file = fixture_policy("spin-describe");
    let json = inspect_json(&file);
    assert_eq!(json["load"]["ok"], true);
    assert_eq!(json["describe"]["status"], "failed");
    assert!(json["describe"]["info"].is_null());
    let error = json["describe"]["error"].as_str().expect("error");
    assert!(error.contains("in describe"), "{error}");
    let limit = json["describe"]["limit"]["name"].as_str().expect("limit");
    assert!(["fuel", "timeout-ms"].contains(&limit), "{limit}");
    // Everything known from the binary is still there.
    assert!(!imports(&json).is_empty());
    assert_eq!(json["exports"].as_array().map(Vec::len), Some(3));

    let run = inspect_text(&file);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains("FAILED under the default limits"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains(&format!("limit hit: {limit} = ")));
}

#[test]
fn another_world_shows_the_missing_exports() {
    let file = fixture_policy("other-world");
    let json = inspect_json(&file);
    assert_eq!(json["world"]["targets_policy_world"], false);
    assert_eq!(
        json["world"]["missing_exports"],
        serde_json::json!(["describe", "validate-settings", "evaluate"])
    );
    assert_eq!(json["world"]["policy_versions"], serde_json::json!([]));
    let exports = json["exports"].as_array().expect("exports");
    assert_eq!(exports.len(), 1);
    assert_eq!(exports[0]["name"], "greet");
    assert_eq!(exports[0]["kind"], "func");
    assert_eq!(exports[0]["required"], false);
    assert_eq!(exports[0]["signature"], "func(name: string) -> string");
    assert_eq!(json["load"]["ok"], false);
    assert!(
        json["load"]["error"]
            .as_str()
            .is_some_and(|e| e.contains("not a Gatehouse policy"))
    );
    assert_eq!(json["describe"]["status"], "not-called");

    let run = inspect_text(&file);
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout.contains(
            "NOT the Gatehouse policy world gatehouse:policy/policy@0.1.0: missing export(s) describe, validate-settings, evaluate"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("greet: func(name: string) -> string  (not part of the policy world)"),
        "{}",
        run.stdout
    );
}

/// A real policy with an extra core module of `functions` empty functions
/// appended (a module section after the last one: nothing before it moves,
/// and a module that is never instantiated is valid).
fn with_extra_functions(original: &[u8], functions: u32) -> Vec<u8> {
    use wasm_encoder::{
        CodeSection, Component, Function, FunctionSection, Module, ModuleSection, TypeSection,
    };
    let mut types = TypeSection::new();
    types.ty().function([], []);
    let mut funcs = FunctionSection::new();
    let mut code = CodeSection::new();
    for _ in 0..functions {
        funcs.function(0);
        let mut body = Function::new([]);
        body.instructions().end();
        code.function(&body);
    }
    let mut module = Module::new();
    module.section(&types).section(&funcs).section(&code);
    let mut extra = Component::new();
    extra.section(&ModuleSection(&module));
    let extra = extra.finish();
    let mut bytes = original.to_vec();
    // Skip the extra component's 8-byte header: only its section is appended.
    bytes.extend_from_slice(&extra[8..]);
    bytes
}

#[test]
fn a_module_over_the_size_precheck_is_inspected_without_compiling() {
    let original = std::fs::read(policy("destructive-changes")).expect("read policy");
    let file = temp_file(with_extra_functions(&original, 60_000), ".wasm");
    let json = inspect_json(file.path());
    assert_eq!(json["load"]["ok"], false);
    let error = json["load"]["error"].as_str().expect("load error");
    assert!(error.contains("too large to compile safely"), "{error}");
    assert_eq!(json["limits"]["within_precheck"], false);
    let functions = json["counts"]["functions"].as_u64().expect("functions");
    assert!(functions > 60_000, "{functions}");
    assert_eq!(json["limits"]["max_functions"], 50_000);
    assert_eq!(json["describe"]["status"], "not-called");
    // What the parser tells is still there; types need a compile, so none.
    assert_eq!(json["world"]["targets_policy_world"], true);
    assert!(json["exports"][0]["signature"].is_null());
    assert!(imports(&json).iter().any(|(class, _)| class == "wasi-cli"));

    let run = inspect_text(file.path());
    assert_eq!(run.code, 0, "{run:#?}");
    assert!(
        run.stdout
            .contains("OVER the pre-check: the sandbox refuses to compile it"),
        "{}",
        run.stdout
    );
}

#[test]
fn files_that_are_not_components_exit_3_with_a_clear_error() {
    let core_module = temp_file(b"\0asm\x01\0\0\0", ".wasm");
    let text = temp_file("hello, not wasm", ".wasm");
    let empty = temp_file("", ".wasm");
    let real = std::fs::read(policy("destructive-changes")).expect("read policy");
    let truncated = temp_file(&real[..real.len() / 2], ".wasm");
    let cases: [(&Path, &str); 5] = [
        (
            core_module.path(),
            "core WebAssembly module, not a component",
        ),
        (text.path(), "not a WebAssembly file"),
        (empty.path(), "the file is empty"),
        (truncated.path(), "invalid component"),
        (
            Path::new("/definitely/not/here.wasm"),
            "cannot read the file",
        ),
    ];
    for (file, fragment) in cases {
        let run = inspect_text(file);
        assert!(run.stdout.is_empty(), "{run:#?}");
        assert_error(&run, &[fragment, &file.display().to_string()]);

        let run = gatehouse([
            "inspect".as_ref(),
            file.as_os_str(),
            "--output".as_ref(),
            "json".as_ref(),
        ]);
        assert_error(&run, &[fragment]);
        let json = run.json();
        assert_eq!(json["schema"], "gatehouse.inspect/v1");
        assert!(json["error"].as_str().is_some_and(|e| e.contains(fragment)));
    }
}

/// Every key path of a JSON value: `a`, `a.b`, arrays as `a[]`.
fn key_paths(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let path = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_json_field_is_documented() {
    let docs = std::fs::read_to_string(workspace_root().join("docs/inspect.md"))
        .expect("read docs/inspect.md");
    let mut paths = BTreeSet::new();
    for file in [
        policy("destructive-changes-py"),
        fixture_policy("spin-describe"),
        fixture_policy("http-importer"),
    ] {
        key_paths(&inspect_json(&file), "", &mut paths);
    }
    // Producers field names (language, processed-by, sdk) are data, not schema.
    let undocumented: Vec<&String> = paths
        .iter()
        .filter(|p| !p.starts_with("producers[].fields."))
        .filter(|p| !docs.contains(&format!("`{p}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "docs/inspect.md does not document: {undocumented:?}"
    );
}
