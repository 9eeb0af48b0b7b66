//! The files of a new project, rendered from templates embedded at compile
//! time (`templates/<lang>/*.tmpl`, `templates/common/*.tmpl`). A template
//! names its values `{{key}}`; every key is filled in, or rendering fails.

use super::{Lang, SDK_VERSION, ScaffoldError};

/// How the repository installs its pinned componentize-py (the source of its version).
const INSTALL_TOOLS: &str = include_str!("../../scaffold-assets/install-tools.sh");
/// The JavaScript build tools the repository pins (versions for package.json).
const JS_TOOLS_PACKAGE: &str = include_str!("../../scaffold-assets/js-tools/package.json");
/// Their lock file: every transitive version and integrity hash.
const JS_TOOLS_LOCK: &str = include_str!("../../scaffold-assets/js-tools/package-lock.json");
/// The Python SDK (`sdk-python/gatehouse_sdk`), copied into every Python
/// project as `gatehouse_sdk/` so that it builds offline and stays valid when moved.
const PY_SDK: &[(&str, &str)] = &[
    (
        "__init__.py",
        include_str!("../../scaffold-assets/sdk-python/__init__.py"),
    ),
    (
        "dates.py",
        include_str!("../../scaffold-assets/sdk-python/dates.py"),
    ),
    (
        "decision.py",
        include_str!("../../scaffold-assets/sdk-python/decision.py"),
    ),
    (
        "durations.py",
        include_str!("../../scaffold-assets/sdk-python/durations.py"),
    ),
    (
        "glob.py",
        include_str!("../../scaffold-assets/sdk-python/glob.py"),
    ),
    (
        "host.py",
        include_str!("../../scaffold-assets/sdk-python/host.py"),
    ),
    (
        "policy.py",
        include_str!("../../scaffold-assets/sdk-python/policy.py"),
    ),
    (
        "releases.py",
        include_str!("../../scaffold-assets/sdk-python/releases.py"),
    ),
    (
        "settings.py",
        include_str!("../../scaffold-assets/sdk-python/settings.py"),
    ),
    (
        "text.py",
        include_str!("../../scaffold-assets/sdk-python/text.py"),
    ),
    (
        "time.py",
        include_str!("../../scaffold-assets/sdk-python/time.py"),
    ),
    (
        "windows.py",
        include_str!("../../scaffold-assets/sdk-python/windows.py"),
    ),
];
/// The JavaScript SDK's modules (`sdk-js/`), copied into every JavaScript
/// project as `gatehouse-sdk/`, for the same reasons.
const JS_SDK: &[(&str, &str)] = &[
    (
        "dates.js",
        include_str!("../../scaffold-assets/sdk-js/dates.js"),
    ),
    (
        "decision.js",
        include_str!("../../scaffold-assets/sdk-js/decision.js"),
    ),
    (
        "durations.js",
        include_str!("../../scaffold-assets/sdk-js/durations.js"),
    ),
    (
        "glob.js",
        include_str!("../../scaffold-assets/sdk-js/glob.js"),
    ),
    (
        "host.js",
        include_str!("../../scaffold-assets/sdk-js/host.js"),
    ),
    (
        "index.js",
        include_str!("../../scaffold-assets/sdk-js/index.js"),
    ),
    (
        "policy.js",
        include_str!("../../scaffold-assets/sdk-js/policy.js"),
    ),
    (
        "release.js",
        include_str!("../../scaffold-assets/sdk-js/release.js"),
    ),
    (
        "releases.js",
        include_str!("../../scaffold-assets/sdk-js/releases.js"),
    ),
    (
        "settings.js",
        include_str!("../../scaffold-assets/sdk-js/settings.js"),
    ),
    (
        "text.js",
        include_str!("../../scaffold-assets/sdk-js/text.js"),
    ),
    (
        "time.js",
        include_str!("../../scaffold-assets/sdk-js/time.js"),
    ),
    (
        "unicode-tables.js",
        include_str!("../../scaffold-assets/sdk-js/unicode-tables.js"),
    ),
    (
        "windows.js",
        include_str!("../../scaffold-assets/sdk-js/windows.js"),
    ),
];
/// Where each language's SDK goes in a project.
pub const PY_SDK_DIR: &str = "gatehouse_sdk";
/// Where the JavaScript SDK goes in a project (`import ... from './gatehouse-sdk/index.js'`).
pub const JS_SDK_DIR: &str = "gatehouse-sdk";
/// The name `package-lock.json` gives the pinned tools' own package.
const JS_TOOLS_NAME: &str = "gatehouse-js-tools";

/// The npm package that builds JavaScript policies.
pub const COMPONENTIZE_JS_PACKAGE: &str = "@bytecodealliance/componentize-js";

const SUITE: &str = include_str!("templates/common/suite.test.toml.tmpl");
const RELEASE: &str = include_str!("templates/common/production.json.tmpl");
const RUST_CARGO: &str = include_str!("templates/rust/Cargo.toml.tmpl");
const RUST_LIB: &str = include_str!("templates/rust/lib.rs.tmpl");
const RUST_README: &str = include_str!("templates/rust/README.md.tmpl");
const RUST_GITIGNORE: &str = include_str!("templates/rust/gitignore.tmpl");
const PY_APP: &str = include_str!("templates/python/app.py.tmpl");
const PY_README: &str = include_str!("templates/python/README.md.tmpl");
const PY_REQUIREMENTS: &str = include_str!("templates/python/requirements.txt.tmpl");
const PY_GITIGNORE: &str = include_str!("templates/python/gitignore.tmpl");
/// The WIT every new project carries as its `wit/policy.wit`:
/// `gatehouse:policy@0.2.0`, whose release the SDKs read through the
/// borrowed handle.
pub(super) const PROJECT_WIT: &str = include_str!("../../wit/0.2.0/policy.wit");
const JS_POLICY: &str = include_str!("templates/js/policy.js.tmpl");
const JS_PACKAGE: &str = include_str!("templates/js/package.json.tmpl");
const JS_README: &str = include_str!("templates/js/README.md.tmpl");
const JS_GITIGNORE: &str = include_str!("templates/js/gitignore.tmpl");

/// A project's files (path relative to the project, contents) and how to build it.
#[derive(Debug)]
pub(super) struct Rendered {
    pub files: Vec<(String, String)>,
    pub build_commands: Vec<String>,
    pub wasm_path: String,
}

/// The componentize-py version `scripts/install-tools.sh` pins.
pub fn componentize_py_version() -> Result<&'static str, ScaffoldError> {
    INSTALL_TOOLS
        .lines()
        .find_map(|line| line.trim().strip_prefix("COMPONENTIZE_PY_VERSION="))
        .map(|v| v.trim().trim_matches('"'))
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            ScaffoldError::Template(
                "no COMPONENTIZE_PY_VERSION= in scripts/install-tools.sh".into(),
            )
        })
}

/// The npm packages and exact versions `scripts/js-tools/package.json` pins.
pub fn js_tool_versions() -> Result<Vec<(String, String)>, ScaffoldError> {
    let bad =
        |what: &str| ScaffoldError::Template(format!("scripts/js-tools/package.json: {what}"));
    let package: serde_json::Value =
        serde_json::from_str(JS_TOOLS_PACKAGE).map_err(|e| bad(&e.to_string()))?;
    let dependencies = package
        .get("dependencies")
        .and_then(serde_json::Value::as_object)
        .ok_or_else(|| bad("no dependencies object"))?;
    let versions: Vec<(String, String)> = dependencies
        .iter()
        .map(|(name, version)| {
            version
                .as_str()
                .map(|v| (name.clone(), v.to_string()))
                .ok_or_else(|| bad(&format!("the version of {name} is not a string")))
        })
        .collect::<Result<_, _>>()?;
    if !versions
        .iter()
        .any(|(name, _)| name == COMPONENTIZE_JS_PACKAGE)
    {
        return Err(bad(&format!("{COMPONENTIZE_JS_PACKAGE} is not pinned")));
    }
    Ok(versions)
}

/// The pinned tools' lock file, renamed to the project (`npm ci` checks that
/// the lock's root package matches package.json's name, version and dependencies).
fn js_lock(name: &str) -> Result<String, ScaffoldError> {
    let root_before = format!(
        "    \"\": {{\n      \"name\": \"{JS_TOOLS_NAME}\",\n      \"license\": \"Apache-2.0\",\n"
    );
    let root_after =
        format!("    \"\": {{\n      \"name\": \"{name}\",\n      \"version\": \"0.1.0\",\n");
    let top_before = format!("{{\n  \"name\": \"{JS_TOOLS_NAME}\",\n");
    let top_after = format!("{{\n  \"name\": \"{name}\",\n  \"version\": \"0.1.0\",\n");
    if !JS_TOOLS_LOCK.starts_with(&top_before) || JS_TOOLS_LOCK.matches(&root_before).count() != 1 {
        return Err(ScaffoldError::Template(
            "scripts/js-tools/package-lock.json does not start as expected (name, then the root package with name and license)".into(),
        ));
    }
    Ok(JS_TOOLS_LOCK
        .replacen(&top_before, &top_after, 1)
        .replacen(&root_before, &root_after, 1))
}

/// Fills every `{{key}}` of a template; an unknown key is an error.
fn fill(template: &str, values: &[(&str, &str)]) -> Result<String, ScaffoldError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| ScaffoldError::Template("an unclosed {{ in a template".into()))?;
        let key = &after[..end];
        let value = values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| ScaffoldError::Template(format!("no value for {{{{{key}}}}}")))?;
        out.push_str(value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `protect-prod` becomes `ProtectProd`, the policy's Rust type name.
fn type_name(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// Renders every file of a project.
pub(super) fn render(name: &str, lang: Lang) -> Result<Rendered, ScaffoldError> {
    let version = concat!("v", env!("CARGO_PKG_VERSION"));
    let crate_name = name.replace('-', "_");
    let (wasm_path, build_commands) = match lang {
        Lang::Rust => (
            format!("target/wasm32-wasip2/release/{crate_name}.wasm"),
            vec!["cargo build --release --target wasm32-wasip2".to_string()],
        ),
        Lang::Python => (
            format!("{name}.wasm"),
            vec![format!(
                "componentize-py -d wit -w policy componentize app -o {name}.wasm"
            )],
        ),
        Lang::Js => (format!("{name}.wasm"), vec!["npm run build".to_string()]),
    };
    let policy_path = format!("../{wasm_path}");
    let common: [(&str, &str); 3] = [
        ("name", name),
        ("gatehouse_version", version),
        ("policy_path", &policy_path),
    ];
    let mut files = vec![
        ("wit/policy.wit".to_string(), PROJECT_WIT.to_string()),
        (format!("tests/{name}.test.toml"), fill(SUITE, &common)?),
        (
            "tests/releases/production.json".to_string(),
            fill(RELEASE, &common)?,
        ),
    ];
    match lang {
        Lang::Rust => {
            let type_name = type_name(name);
            let values: Vec<(&str, &str)> = common
                .into_iter()
                .chain([
                    ("crate_name", crate_name.as_str()),
                    ("type_name", type_name.as_str()),
                    ("sdk_version", SDK_VERSION),
                ])
                .collect();
            files.extend([
                ("Cargo.toml".to_string(), fill(RUST_CARGO, &values)?),
                ("src/lib.rs".to_string(), fill(RUST_LIB, &values)?),
                ("README.md".to_string(), fill(RUST_README, &values)?),
                (".gitignore".to_string(), fill(RUST_GITIGNORE, &values)?),
            ]);
        }
        Lang::Python => {
            let py_version = componentize_py_version()?;
            let values: Vec<(&str, &str)> = common
                .into_iter()
                .chain([("componentize_py_version", py_version)])
                .collect();
            files.extend(
                PY_SDK
                    .iter()
                    .map(|(file, text)| (format!("{PY_SDK_DIR}/{file}"), (*text).to_string())),
            );
            files.extend([
                ("app.py".to_string(), fill(PY_APP, &values)?),
                (
                    "requirements.txt".to_string(),
                    fill(PY_REQUIREMENTS, &values)?,
                ),
                ("README.md".to_string(), fill(PY_README, &values)?),
                (".gitignore".to_string(), fill(PY_GITIGNORE, &values)?),
            ]);
        }
        Lang::Js => {
            let tools = js_tool_versions()?;
            let js_version = tools
                .iter()
                .find(|(package, _)| package == COMPONENTIZE_JS_PACKAGE)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let dependencies = tools
                .iter()
                .map(|(package, v)| format!("    \"{package}\": \"{v}\""))
                .collect::<Vec<_>>()
                .join(",\n");
            let values: Vec<(&str, &str)> = common
                .into_iter()
                .chain([
                    ("componentize_js_version", js_version.as_str()),
                    ("js_dependencies", dependencies.as_str()),
                ])
                .collect();
            files.extend(
                JS_SDK
                    .iter()
                    .map(|(file, text)| (format!("{JS_SDK_DIR}/{file}"), (*text).to_string())),
            );
            files.extend([
                ("policy.js".to_string(), fill(JS_POLICY, &values)?),
                ("package.json".to_string(), fill(JS_PACKAGE, &values)?),
                ("package-lock.json".to_string(), js_lock(name)?),
                ("README.md".to_string(), fill(JS_README, &values)?),
                (".gitignore".to_string(), fill(JS_GITIGNORE, &values)?),
            ]);
        }
    }
    Ok(Rendered {
        files,
        build_commands,
        wasm_path,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_come_from_the_repository_build_scripts() {
        let py = componentize_py_version().expect("pinned");
        assert!(
            py.split('.').all(|part| part.parse::<u32>().is_ok()),
            "{py}"
        );
        let js = js_tool_versions().expect("pinned");
        assert!(js.iter().any(|(name, _)| name == COMPONENTIZE_JS_PACKAGE));
        let lock = js_lock("protect-prod").expect("lock renamed");
        let parsed: serde_json::Value = serde_json::from_str(&lock).expect("valid JSON");
        assert_eq!(parsed["name"], "protect-prod");
        assert_eq!(parsed["packages"][""]["name"], "protect-prod");
        assert_eq!(parsed["packages"][""]["version"], "0.1.0");
        for (name, version) in &js {
            assert_eq!(
                parsed["packages"][""]["dependencies"][name],
                version.as_str()
            );
        }
        assert!(!lock.contains(JS_TOOLS_NAME));
    }

    /// The `.py` / `.js` files of a directory under `scaffold-assets/`.
    fn sources(dir: &str, ext: &str) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scaffold-assets")
            .join(dir);
        let mut names: Vec<String> = std::fs::read_dir(&path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(ext))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn projects_carry_every_module_of_the_sdks() {
        let listed =
            |sdk: &[(&str, &str)]| sdk.iter().map(|(f, _)| f.to_string()).collect::<Vec<_>>();
        assert_eq!(listed(PY_SDK), sources("sdk-python", ".py"));
        assert_eq!(listed(JS_SDK), sources("sdk-js", ".js"));
        for (lang, dir) in [(Lang::Python, PY_SDK_DIR), (Lang::Js, JS_SDK_DIR)] {
            let rendered = render("protect-prod", lang).expect("rendered");
            let sdk = rendered
                .files
                .iter()
                .filter(|(path, _)| path.starts_with(&format!("{dir}/")))
                .count();
            assert!(sdk >= 9, "{lang}: {sdk} SDK files");
        }
    }

    #[test]
    fn templates_fill_every_key_or_fail() {
        assert_eq!(
            fill("a {{x}} b {{x}}", &[("x", "1")]).expect("filled"),
            "a 1 b 1"
        );
        assert!(fill("{{y}}", &[("x", "1")]).is_err());
        assert!(fill("{{x", &[("x", "1")]).is_err());
        assert_eq!(type_name("protect-prod-2"), "ProtectProd2");
    }

    #[test]
    fn the_package_json_is_valid_and_builds_without_wasi() {
        let rendered = render("protect-prod", Lang::Js).expect("rendered");
        let (_, package) = rendered
            .files
            .iter()
            .find(|(path, _)| path == "package.json")
            .expect("package.json");
        let package: serde_json::Value = serde_json::from_str(package).expect("valid JSON");
        let build = package["scripts"]["build"].as_str().expect("build script");
        assert!(build.contains("--disable stdio random clocks http fetch-event"));
        assert!(build.ends_with("--out protect-prod.wasm"));
        for (name, version) in js_tool_versions().expect("pinned") {
            assert_eq!(package["dependencies"][&name], version.as_str());
        }
    }

    #[test]
    fn a_javascript_project_targets_the_0_2_0_world() {
        let rendered = render("protect-prod", Lang::Js).expect("rendered");
        let (_, wit) = rendered
            .files
            .iter()
            .find(|(path, _)| path == "wit/policy.wit")
            .expect("wit/policy.wit");
        assert!(wit.contains("package gatehouse:policy@0.2.0;"), "{wit}");
        assert!(wit.contains("func(release: borrow<release>"));
        let (_, readme) = rendered
            .files
            .iter()
            .find(|(path, _)| path == "README.md")
            .expect("README.md");
        assert!(readme.contains("gatehouse:policy@0.2.0"));
    }
}
