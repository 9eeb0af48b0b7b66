//! What a component may import, checked before instantiation.
//!
//! Allowed: our host interface (`gatehouse:policy/host` and `types`, version
//! 0.1.x; `host`, `types` and `input`, version 0.2.x) and the WASI 0.2 interfaces that language runtimes import at start-up
//! even when they never use them (cli, clocks, filesystem, io, random,
//! sockets). The sandbox links all of these but grants nothing: no
//! directories, no environment, no network. Anything else — `wasi:http`, an
//! unknown host function, a future WASI — is refused by name, before any
//! policy code runs.

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;
use wasmtime::component::types::ComponentItem;

/// What an import gives a policy, for reviewers and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportClass {
    /// Gatehouse's own interface: `log` and `now`.
    Gatehouse,
    /// Process basics: stdio (captured), arguments and environment (empty
    /// unless granted), exit, terminal queries.
    WasiCli,
    /// Wall clock (frozen at the evaluation time) and monotonic clock (virtual).
    WasiClocks,
    /// Files: nothing is reachable unless `--allow-read` grants a directory.
    WasiFilesystem,
    /// Streams and polling, the plumbing of the other interfaces.
    WasiIo,
    /// Random numbers (deterministic unless granted).
    WasiRandom,
    /// Network: linked so runtimes start, every connection and lookup denied.
    WasiSockets,
    /// A type the component's world names (WIT `use`), imported as a type
    /// equal to one defined elsewhere: names a type, gives no capability.
    /// Told apart by its kind, not its name (wasmtime does not list these).
    Type,
    /// Not provided: the component is refused.
    Forbidden,
}

impl ImportClass {
    /// Classifies an import name such as `wasi:cli/stdout@0.2.3`.
    pub fn of(name: &str) -> ImportClass {
        let Some((package, version)) = name.split_once('@') else {
            return ImportClass::Forbidden;
        };
        let Some((namespace_package, _interface)) = package.split_once('/') else {
            return ImportClass::Forbidden;
        };
        let (major, minor) = major_minor(version);
        match namespace_package {
            "gatehouse:policy" if major == Some(0) && matches!(minor, Some(1 | 2)) => {
                ImportClass::Gatehouse
            }
            wasi if major == Some(0) && minor == Some(2) => match wasi {
                "wasi:cli" => ImportClass::WasiCli,
                "wasi:clocks" => ImportClass::WasiClocks,
                "wasi:filesystem" => ImportClass::WasiFilesystem,
                "wasi:io" => ImportClass::WasiIo,
                "wasi:random" => ImportClass::WasiRandom,
                "wasi:sockets" => ImportClass::WasiSockets,
                _ => ImportClass::Forbidden,
            },
            _ => ImportClass::Forbidden,
        }
    }
}

impl ImportClass {
    /// Every class, in the order reports list them.
    pub const ALL: [ImportClass; 9] = [
        ImportClass::Gatehouse,
        ImportClass::WasiCli,
        ImportClass::WasiClocks,
        ImportClass::WasiFilesystem,
        ImportClass::WasiIo,
        ImportClass::WasiRandom,
        ImportClass::WasiSockets,
        ImportClass::Type,
        ImportClass::Forbidden,
    ];

    /// What imports of this class give a policy, as a heading for reviewers.
    pub fn title(self) -> &'static str {
        match self {
            ImportClass::Gatehouse => "Gatehouse host interface (log, now, and the WIT types)",
            ImportClass::WasiCli => "WASI cli: stdio, environment, arguments, exit, terminal",
            ImportClass::WasiClocks => "WASI clocks: wall clock and monotonic clock",
            ImportClass::WasiFilesystem => "WASI filesystem: files and directories",
            ImportClass::WasiIo => "WASI io: streams, polling and errors",
            ImportClass::WasiRandom => "WASI random: random bytes and seeds",
            ImportClass::WasiSockets => "WASI sockets: TCP, UDP and name lookup",
            ImportClass::Type => "Types named by the world (WIT `use`): no capability",
            ImportClass::Forbidden => "Not provided by the sandbox: the component is refused",
        }
    }
}

/// What the sandbox does with an import, in one word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Treatment {
    /// Linked and working as the interface says (within the sandbox's bounds).
    Allowed,
    /// Linked so that language runtimes start, but it gives the policy nothing
    /// (or a fixed value) unless the user grants something.
    AllowedButInert,
    /// Not provided: the load fails before any policy code runs.
    Refused,
}

impl Treatment {
    /// The word reports print: `allowed`, `allowed-but-inert`, `refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Treatment::Allowed => "allowed",
            Treatment::AllowedButInert => "allowed-but-inert",
            Treatment::Refused => "refused",
        }
    }
}

/// What the Gatehouse sandbox does with one import, for reviewers
/// (`gatehouse inspect`). Derived from the same classification that
/// [`forbidden_imports`] enforces, so the two cannot disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SandboxTreatment {
    /// The import's class.
    pub class: ImportClass,
    /// Allowed, allowed but inert, or refused.
    pub treatment: Treatment,
    /// What exactly the sandbox does, or why the import is refused.
    pub detail: String,
    /// The `gatehouse eval` flag that would make the import give the policy
    /// something, when one exists (`--allow-read DIR`, `--allow-env NAME`).
    pub grant: Option<&'static str>,
}

/// What the sandbox does with the import `name`, such as `wasi:cli/environment@0.2.3`.
pub fn sandbox_treatment(name: &str) -> SandboxTreatment {
    use Treatment::{Allowed, AllowedButInert, Refused};
    let class = ImportClass::of(name);
    let interface = name
        .split_once('@')
        .map_or(name, |(package, _)| package)
        .split_once('/')
        .map_or("", |(_, interface)| interface);
    let (treatment, detail, grant): (Treatment, &str, Option<&'static str>) = match class {
        ImportClass::Gatehouse => match interface {
            "host" => (
                Allowed,
                "`log` lines go to the report (bounded in lines and bytes); `now` returns the fixed evaluation time",
                None,
            ),
            "input" => (
                Allowed,
                "reads the release under decision (0.2): accessors on a handle the host lends to `evaluate`",
                None,
            ),
            _ => (Allowed, "type definitions only; gives no capability", None),
        },
        ImportClass::WasiCli => match interface {
            "environment" => (
                AllowedButInert,
                "no environment variables and no arguments: empty unless a variable is passed",
                Some("--allow-env NAME"),
            ),
            "stdout" | "stderr" => (
                Allowed,
                "captured into the report, bounded in bytes; never reaches the terminal",
                None,
            ),
            "stdin" => (AllowedButInert, "always empty", None),
            "exit" => (
                Allowed,
                "ends the call; Gatehouse reports an error (exit 3), never a verdict",
                None,
            ),
            _ => (
                AllowedButInert,
                "no terminal: every query answers that there is none",
                None,
            ),
        },
        ImportClass::WasiClocks => match interface {
            "monotonic-clock" => (
                Allowed,
                "a virtual clock: starts at the same value in every evaluation and moves only by the time the policy waits; waits return at once and count toward the time budget (`--timeout-ms`)",
                None,
            ),
            "wall-clock" => (
                AllowedButInert,
                "frozen at the evaluation time (`eval --now`), the same value `now` returns",
                None,
            ),
            _ => (AllowedButInert, "linked; gives nothing", None),
        },
        ImportClass::WasiFilesystem => (
            AllowedButInert,
            "no directories are preopened, so every open fails, unless a directory is granted (read-only)",
            Some("--allow-read DIR"),
        ),
        ImportClass::WasiIo => (
            Allowed,
            "streams and polling for the other interfaces; reaches nothing by itself",
            None,
        ),
        ImportClass::WasiRandom => (
            AllowedButInert,
            "a deterministic stream seeded from the release and the policy's digest, the same on every run; real randomness only if granted",
            Some("--allow-random"),
        ),
        ImportClass::WasiSockets => (
            AllowedButInert,
            "linked so runtimes start; every connect, bind, send and name lookup is denied, and no grant enables the network",
            None,
        ),
        ImportClass::Type => (
            Allowed,
            "a type alias the world uses; gives no capability",
            None,
        ),
        ImportClass::Forbidden => {
            return SandboxTreatment {
                class,
                treatment: Refused,
                detail: refusal_reason(name),
                grant: None,
            };
        }
    };
    SandboxTreatment {
        class,
        treatment,
        detail: detail.to_string(),
        grant,
    }
}

/// What the sandbox does with a type import (equal to a type defined
/// elsewhere, e.g. `release` from `use types.{release}`): nothing to provide.
pub fn type_import_treatment() -> SandboxTreatment {
    SandboxTreatment {
        class: ImportClass::Type,
        treatment: Treatment::Allowed,
        detail: "a type alias the world uses; gives no capability".to_string(),
        grant: None,
    }
}

/// Why the sandbox refuses an import that [`ImportClass::of`] calls forbidden.
fn refusal_reason(name: &str) -> String {
    let Some((package, version)) = name.split_once('@') else {
        return format!(
            "`{name}` is not a versioned interface (namespace:package/interface@version): a bare host function the sandbox does not provide"
        );
    };
    let Some((namespace_package, _)) = package.split_once('/') else {
        return format!(
            "`{name}` is not an interface name (namespace:package/interface@version); the sandbox provides only interfaces"
        );
    };
    let (major, minor) = major_minor(version);
    match namespace_package {
        "gatehouse:policy" => format!(
            "gatehouse:policy version {version}: this host provides 0.1.x and 0.2.x; rebuild the policy against wit/0.2.0/policy.wit"
        ),
        "wasi:http" => "wasi:http is not provided: policies get no network access".to_string(),
        wasi if wasi.starts_with("wasi:") => {
            if (major, minor) == (Some(0), Some(2)) {
                format!(
                    "{wasi} is not provided by the sandbox (only cli, clocks, filesystem, io, random and sockets are)"
                )
            } else {
                format!(
                    "WASI {version} is not provided; the sandbox links WASI 0.2 only (build for wasm32-wasip2)"
                )
            }
        }
        other => format!(
            "`{other}` is an interface the sandbox does not know: a host function no Gatehouse host provides"
        ),
    }
}

fn major_minor(version: &str) -> (Option<u64>, Option<u64>) {
    let mut parts = version.split(['.', '-', '+']);
    let major = parts.next().and_then(|p| p.parse().ok());
    let minor = parts.next().and_then(|p| p.parse().ok());
    (major, minor)
}

/// Every import of a component with its class, in declaration order. A
/// resource type imported under a plain name (a world's `use` of
/// `input.release` in 0.2.0) names a type and gives no capability: its
/// methods are imported, and classified, with their interface.
pub fn classify_imports(engine: &Engine, component: &Component) -> Vec<(String, ImportClass)> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, item)| {
            let class = match item.ty {
                ComponentItem::Resource(_) if !name.contains([':', '/', '@']) => ImportClass::Type,
                _ => ImportClass::of(name),
            };
            (name.to_string(), class)
        })
        .collect()
}

/// The imports Gatehouse refuses, quoted, or `None` when all are allowed.
pub fn forbidden_imports(engine: &Engine, component: &Component) -> Option<Vec<String>> {
    let forbidden: Vec<String> = classify_imports(engine, component)
        .into_iter()
        .filter(|(_, class)| *class == ImportClass::Forbidden)
        .map(|(name, _)| format!("`{name}`"))
        .collect();
    (!forbidden.is_empty()).then_some(forbidden)
}

#[cfg(test)]
mod tests {
    use super::ImportClass::{self, *};

    #[test]
    fn classification() {
        let cases: [(&str, ImportClass); 12] = [
            ("gatehouse:policy/host@0.1.0", Gatehouse),
            ("gatehouse:policy/types@0.1.3", Gatehouse),
            ("gatehouse:policy/host@0.2.0", Gatehouse),
            ("wasi:cli/stdout@0.2.3", WasiCli),
            ("wasi:io/streams@0.2.0", WasiIo),
            ("wasi:clocks/wall-clock@0.2.6", WasiClocks),
            ("wasi:filesystem/preopens@0.2.0", WasiFilesystem),
            ("wasi:sockets/tcp@0.2.0", WasiSockets),
            ("wasi:random/random@0.2.0", WasiRandom),
            ("wasi:http/outgoing-handler@0.2.0", Forbidden),
            ("wasi:cli/stdout@0.3.0-rc-2025-01-01", Forbidden),
            ("evil-host-function", Forbidden),
        ];
        for (name, class) in cases {
            assert_eq!(ImportClass::of(name), class, "{name}");
        }
    }

    #[test]
    fn treatment_follows_the_classification() {
        use super::{Treatment, sandbox_treatment};
        let cases: [(&str, Treatment, Option<&str>, &str); 14] = [
            (
                "wasi:clocks/monotonic-clock@0.2.0",
                Treatment::Allowed,
                None,
                "virtual clock",
            ),
            (
                "wasi:random/random@0.2.9",
                Treatment::AllowedButInert,
                Some("--allow-random"),
                "deterministic",
            ),
            (
                "gatehouse:policy/host@0.1.0",
                Treatment::Allowed,
                None,
                "`log`",
            ),
            (
                "gatehouse:policy/types@0.1.0",
                Treatment::Allowed,
                None,
                "type definitions",
            ),
            (
                "wasi:cli/environment@0.2.3",
                Treatment::AllowedButInert,
                Some("--allow-env NAME"),
                "no environment variables",
            ),
            (
                "wasi:cli/stdout@0.2.3",
                Treatment::Allowed,
                None,
                "captured",
            ),
            (
                "wasi:cli/stdin@0.2.3",
                Treatment::AllowedButInert,
                None,
                "empty",
            ),
            (
                "wasi:clocks/wall-clock@0.2.3",
                Treatment::AllowedButInert,
                None,
                "frozen",
            ),
            (
                "wasi:filesystem/preopens@0.2.0",
                Treatment::AllowedButInert,
                Some("--allow-read DIR"),
                "no directories",
            ),
            (
                "wasi:sockets/tcp@0.2.0",
                Treatment::AllowedButInert,
                None,
                "denied",
            ),
            (
                "wasi:http/outgoing-handler@0.2.0",
                Treatment::Refused,
                None,
                "no network",
            ),
            (
                "test:evil/backdoor@1.0.0",
                Treatment::Refused,
                None,
                "`test:evil`",
            ),
            (
                "gatehouse:policy/host@0.3.0",
                Treatment::Refused,
                None,
                "provides 0.1.x and 0.2.x",
            ),
            (
                "evil-host-function",
                Treatment::Refused,
                None,
                "bare host function",
            ),
        ];
        for (name, treatment, grant, fragment) in cases {
            let t = sandbox_treatment(name);
            assert_eq!(t.class, ImportClass::of(name), "{name}");
            assert_eq!(t.treatment, treatment, "{name}");
            assert_eq!(t.grant, grant, "{name}");
            assert!(t.detail.contains(fragment), "{name}: {}", t.detail);
            assert_eq!(
                t.treatment == Treatment::Refused,
                t.class == Forbidden,
                "{name}"
            );
        }
        assert!(
            sandbox_treatment("wasi:cli/stdout@0.3.0")
                .detail
                .contains("WASI 0.3.0")
        );
        assert!(
            sandbox_treatment("wasi:keyvalue/store@0.2.0")
                .detail
                .contains("not provided")
        );
    }

    #[test]
    fn every_class_has_a_title() {
        let titles: std::collections::BTreeSet<&str> =
            ImportClass::ALL.iter().map(|c| c.title()).collect();
        assert_eq!(titles.len(), ImportClass::ALL.len(), "titles are distinct");
    }
}
