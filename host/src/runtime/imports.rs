//! What a component may import, checked before instantiation.
//!
//! Allowed: our host interface (`gatehouse:policy/host` and `types`, version
//! 0.1.x) and the WASI 0.2 interfaces that language runtimes import at start-up
//! even when they never use them (cli, clocks, filesystem, io, random,
//! sockets). The sandbox links all of these but grants nothing: no
//! directories, no environment, no network. Anything else — `wasi:http`, an
//! unknown host function, a future WASI — is refused by name, before any
//! policy code runs.

use serde::Serialize;
use wasmtime::Engine;
use wasmtime::component::Component;

/// What an import gives a policy, for reviewers and error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ImportClass {
    /// Gatehouse's own interface: `log` and `now`.
    Gatehouse,
    /// Process basics: stdio (captured), arguments and environment (empty
    /// unless granted), exit, terminal queries.
    WasiCli,
    /// Wall clock (frozen at the evaluation time) and monotonic clock.
    WasiClocks,
    /// Files: nothing is reachable unless `--allow-read` grants a directory.
    WasiFilesystem,
    /// Streams and polling, the plumbing of the other interfaces.
    WasiIo,
    /// Random numbers.
    WasiRandom,
    /// Network: linked so runtimes start, every connection and lookup denied.
    WasiSockets,
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
            "gatehouse:policy" if (major, minor) == (Some(0), Some(1)) => ImportClass::Gatehouse,
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

fn major_minor(version: &str) -> (Option<u64>, Option<u64>) {
    let mut parts = version.split(['.', '-', '+']);
    let major = parts.next().and_then(|p| p.parse().ok());
    let minor = parts.next().and_then(|p| p.parse().ok());
    (major, minor)
}

/// Every import of a component with its class, in declaration order.
pub fn classify_imports(engine: &Engine, component: &Component) -> Vec<(String, ImportClass)> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| (name.to_string(), ImportClass::of(name)))
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
            ("gatehouse:policy/host@0.2.0", Forbidden),
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
}
