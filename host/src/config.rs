//! Policy sets: `gatehouse.toml` names the policies to run, each with its
//! conditions (environments, release streams), settings, limits and grants,
//! and optionally pins its digest (see docs/policy-sets.md).
//!
//! Unknown keys are errors naming the key and its line; relative paths are
//! resolved against the config file's directory.
//!
//! Conditions match case-sensitively; a release that would match a policy
//! only if case were ignored is refused ([`Applicability::CaseMismatch`]), and
//! a release no policy applies to is not approved unless the set says so
//! ([`WhenNothingApplies`]).

mod applies;
mod pinned;
mod when;

pub use crate::approvals::{DEFAULT_AUTHOR_KEY, SelfApproval, Trust};
pub use crate::untrusted::quote;
pub use applies::Applicability;
pub use when::WhenNothingApplies;

use crate::runtime::{Grants, Limits};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The default config file, in the current directory.
pub const DEFAULT_CONFIG: &str = "gatehouse.toml";

/// Largest config file accepted.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// A parsed, validated policy set.
#[derive(Debug, Clone)]
pub struct PolicySet {
    /// The config file, as given.
    pub path: PathBuf,
    /// The policies, in file order.
    pub policies: Vec<PolicyEntry>,
    /// The compile cache directory (`cache-dir`, resolved against the config
    /// file's directory), used unless `--cache-dir` or `--no-cache` is given.
    pub cache_dir: Option<PathBuf>,
    /// What to do when no policy applies to a release (`when-nothing-applies`).
    pub when_nothing_applies: WhenNothingApplies,
    /// Who may approve (`[trust]`), if the set says.
    pub trust: Option<Trust>,
}

/// One `[[policy]]` entry.
#[derive(Debug, Clone)]
pub struct PolicyEntry {
    /// Unique name, used in reports.
    pub name: String,
    /// The policy file, resolved against the config file's directory.
    pub path: PathBuf,
    /// Pinned hex sha256 (lowercase), if any.
    pub sha256: Option<String>,
    /// Environment globs ([`gatehouse_glob`]: `*` and `?` within a `/`-separated
    /// segment, `**` across segments); `None` matches every environment.
    pub environments: Option<Vec<String>>,
    /// Release stream names; `None` matches every stream.
    pub release_streams: Option<Vec<String>>,
    /// Settings as text, sorted by key.
    pub settings: Vec<(String, String)>,
    /// Limits: defaults overridden by `[policy.limits]`.
    pub limits: Limits,
    /// Directories to grant read access to, resolved against the config's directory.
    pub read_dirs: Vec<PathBuf>,
    /// Environment variables to pass through.
    pub env: Vec<String>,
    /// Real randomness instead of the deterministic stream (`random = true`).
    pub random: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default, rename = "cache-dir")]
    cache_dir: Option<PathBuf>,
    #[serde(default, rename = "when-nothing-applies")]
    when_nothing_applies: Option<toml::Spanned<toml::Value>>,
    #[serde(default)]
    trust: Option<toml::Spanned<crate::approvals::trust::RawTrust>>,
    #[serde(default)]
    policy: Vec<RawPolicy>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: toml::Spanned<String>,
    path: String,
    sha256: Option<toml::Spanned<String>>,
    environments: Option<toml::Spanned<Vec<String>>>,
    release_streams: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    settings: BTreeMap<String, toml::Spanned<toml::Value>>,
    #[serde(default)]
    limits: RawLimits,
    #[serde(default)]
    grants: RawGrants,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    fuel: Option<toml::Spanned<u64>>,
    memory_mib: Option<toml::Spanned<u64>>,
    timeout_ms: Option<toml::Spanned<u64>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrants {
    #[serde(default)]
    read: Vec<String>,
    #[serde(default)]
    env: Vec<String>,
    #[serde(default)]
    random: bool,
}

/// `line N` for a byte offset into `text` (1-based).
fn line_of(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count()
        + 1
}

impl PolicySet {
    /// Reads and validates a config file. Returns every problem found, each
    /// one line naming the file (and line where known).
    pub fn load(path: &Path) -> Result<PolicySet, Vec<String>> {
        use std::io::Read;
        let name = path.display();
        let file = std::fs::File::open(path)
            .map_err(|e| vec![format!("{name}: cannot open the config file: {e}")])?;
        if file.metadata().is_ok_and(|m| m.is_dir()) {
            return Err(vec![format!(
                "{name}: is a directory; pass a gatehouse.toml file"
            )]);
        }
        let mut bytes = Vec::new();
        file.take(MAX_CONFIG_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| vec![format!("{name}: cannot read the config file: {e}")])?;
        if bytes.len() as u64 > MAX_CONFIG_BYTES {
            return Err(vec![format!(
                "{name}: the config file is larger than {} MiB",
                MAX_CONFIG_BYTES >> 20
            )]);
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| vec![format!("{name}: the config file is not valid UTF-8")])?;
        Self::parse(path, &text)
    }

    /// Parses and validates config text; `path` names it and locates relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<PolicySet, Vec<String>> {
        let name = path.display().to_string();
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let message = e.message().trim().replace('\n', " ");
            match e.span() {
                Some(span) => vec![format!(
                    "{name}: line {}: {message}",
                    line_of(text, span.start)
                )],
                None => vec![format!("{name}: {message}")],
            }
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let mut problems = Vec::new();
        let when_nothing_applies = match raw.when_nothing_applies {
            None => WhenNothingApplies::default(),
            Some(value) => {
                let line = line_of(text, value.span().start);
                WhenNothingApplies::parse(value.into_inner()).unwrap_or_else(|message| {
                    problems.push(format!("{name}: line {line}: {message}"));
                    WhenNothingApplies::default()
                })
            }
        };
        let trust = raw.trust.and_then(|section| {
            let line = line_of(text, section.span().start);
            section.into_inner().validate(
                line,
                |offset| line_of(text, offset),
                |l| format!("{name}: line {l}"),
                &base,
                &mut problems,
            )
        });
        if raw.policy.is_empty() {
            problems.push(format!(
                "{name}: no policies; add a [[policy]] table with a name and a path"
            ));
        }
        let mut policies = Vec::with_capacity(raw.policy.len());
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for p in raw.policy {
            let line = line_of(text, p.name.span().start);
            let at = |l: usize| format!("{name}: line {l}");
            let policy_name = p.name.into_inner();
            let mut bad = |l: usize, message: String| {
                problems.push(format!("{}: policy '{policy_name}': {message}", at(l)));
            };
            if !valid_name(&policy_name) {
                bad(
                    line,
                    "the name must be non-empty and use letters, digits, '-', '_' and '.'".into(),
                );
            }
            if let Some(first) = seen.insert(policy_name.clone(), line) {
                bad(
                    line,
                    format!("the name is already used on line {first}; names must be unique"),
                );
            }
            if p.path.trim().is_empty() {
                bad(line, "the path is empty".into());
            }
            let sha256 = p.sha256.map(|s| {
                let l = line_of(text, s.span().start);
                let value = s.into_inner().to_ascii_lowercase();
                if value.len() != 64 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
                    bad(
                        l,
                        format!("sha256 {value:?} is not 64 hex digits (sha256sum FILE prints it)"),
                    );
                }
                value
            });
            let mut list = |key: &str, value: Option<toml::Spanned<Vec<String>>>| {
                value.map(|v| {
                    let l = line_of(text, v.span().start);
                    let v = v.into_inner();
                    if v.is_empty() {
                        bad(
                            l,
                            format!("{key} is empty, so the policy would never run; omit the key to match all"),
                        );
                    }
                    if v.iter().any(|s| s.trim().is_empty()) {
                        bad(l, format!("{key} has an empty entry"));
                    }
                    v
                })
            };
            let environments = list("environments", p.environments);
            let release_streams = list("release_streams", p.release_streams);
            let mut settings = Vec::with_capacity(p.settings.len());
            for (key, value) in p.settings {
                let l = line_of(text, value.span().start);
                if !valid_key(&key) {
                    bad(
                        l,
                        format!("setting {key:?}: keys use letters, digits, '-', '_' and '.'"),
                    );
                }
                let text_value = match value.into_inner() {
                    toml::Value::String(s) => s,
                    toml::Value::Integer(n) => n.to_string(),
                    toml::Value::Float(f) => f.to_string(),
                    toml::Value::Boolean(b) => b.to_string(),
                    other => {
                        bad(
                            l,
                            format!(
                                "setting {key:?} is of type {}; settings are strings (lists are comma-separated: \"a,b\"), numbers or booleans",
                                other.type_str()
                            ),
                        );
                        continue;
                    }
                };
                settings.push((key, text_value));
            }
            let mut limits = Limits::default();
            let mut positive = |key: &str, value: Option<toml::Spanned<u64>>| {
                value.map(|v| {
                    let l = line_of(text, v.span().start);
                    let v = v.into_inner();
                    if v == 0 {
                        bad(l, format!("limits.{key} must be at least 1"));
                    }
                    v
                })
            };
            let fuel = positive("fuel", p.limits.fuel);
            let memory_mib = positive("memory_mib", p.limits.memory_mib);
            let timeout_ms = positive("timeout_ms", p.limits.timeout_ms);
            if let Some(fuel) = fuel {
                limits.fuel = fuel;
            }
            if let Some(mib) = memory_mib {
                match usize::try_from(mib.saturating_mul(1 << 20)) {
                    Ok(bytes) if mib <= 1 << 20 => limits.memory_bytes = bytes,
                    _ => bad(line, format!("limits.memory_mib {mib} is too large")),
                }
            }
            if let Some(ms) = timeout_ms {
                limits.timeout_ms = ms;
            }
            for var in &p.grants.env {
                if let Err(e) = Grants::default().allow_env(var) {
                    bad(line, format!("grants.env: {e}"));
                }
            }
            policies.push(PolicyEntry {
                name: policy_name,
                path: base.join(&p.path),
                sha256,
                environments,
                release_streams,
                settings,
                limits,
                read_dirs: p.grants.read.iter().map(|d| base.join(d)).collect(),
                env: p.grants.env,
                random: p.grants.random,
            });
        }
        if problems.is_empty() {
            Ok(PolicySet {
                path: path.to_path_buf(),
                policies,
                cache_dir: raw.cache_dir.map(|dir| base.join(dir)),
                when_nothing_applies,
                trust,
            })
        } else {
            Err(problems)
        }
    }

    /// The element-wise maximum of every policy's limits: what the engine's
    /// pooling allocator must be sized for.
    pub fn max_limits<'a>(entries: impl IntoIterator<Item = &'a PolicyEntry>) -> Limits {
        entries
            .into_iter()
            .fold(None, |acc: Option<Limits>, e| {
                Some(match acc {
                    None => e.limits.clone(),
                    Some(acc) => acc.max(&e.limits),
                })
            })
            .unwrap_or_default()
    }
}

impl PolicyEntry {
    /// The grants, with read directories resolved to canonical paths.
    pub fn grants(&self) -> Result<Grants, String> {
        let mut grants = Grants::default();
        for dir in &self.read_dirs {
            grants.allow_read(dir).map_err(|e| {
                format!(
                    "policy '{}': grants.read: {}",
                    self.name,
                    e.trim_start_matches("--allow-read ")
                )
            })?;
        }
        for name in &self.env {
            grants
                .allow_env(name)
                .map_err(|e| format!("policy '{}': grants.env: {e}", self.name))?;
        }
        grants.random = self.random;
        Ok(grants)
    }
}

fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

fn valid_name(name: &str) -> bool {
    valid_key(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<PolicySet, Vec<String>> {
        PolicySet::parse(Path::new("conf/gatehouse.toml"), text)
    }

    #[test]
    fn a_full_entry_parses() {
        let set = parse(
            r#"
[[policy]]
name = "destructive"
path = "policies/d.wasm"
sha256 = "ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789"
environments = ["prod*", "staging"]
release_streams = ["PROD"]
[policy.settings]
approver-groups = "dba,sre"
min-approvals = 2
strict = true
[policy.limits]
fuel = 5000
memory_mib = 64
timeout_ms = 100
[policy.grants]
read = ["config/"]
env = ["DEPLOY_REGION"]

[[policy]]
name = "budget"
path = "/abs/b.wasm"
"#,
        )
        .expect("valid");
        let [d, b] = &set.policies[..] else {
            panic!("two policies")
        };
        assert_eq!(d.path, Path::new("conf/policies/d.wasm"));
        assert_eq!(b.path, Path::new("/abs/b.wasm"));
        assert_eq!(
            d.sha256.as_deref(),
            Some("abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")
        );
        assert_eq!(
            d.settings,
            [
                ("approver-groups".to_string(), "dba,sre".to_string()),
                ("min-approvals".into(), "2".into()),
                ("strict".into(), "true".into())
            ]
        );
        assert_eq!(
            (d.limits.fuel, d.limits.memory_bytes, d.limits.timeout_ms),
            (5000, 64 << 20, 100)
        );
        assert_eq!(d.read_dirs, [Path::new("conf/config/")]);
        assert_eq!(b.limits, Limits::default());
        let max = PolicySet::max_limits(&set.policies);
        assert_eq!(max, Limits::default());
        assert_eq!(
            d.applicability("prod-eu", "PROD"),
            Applicability::Applies(
                "environment \"prod-eu\" matches \"prod*\"; release stream \"PROD\" is \"PROD\""
                    .into()
            )
        );
        assert!(matches!(
            d.applicability("staging", "PROD"),
            Applicability::Applies(_)
        ));
        assert_eq!(
            d.applicability("dev", "PROD"),
            Applicability::Skipped(
                "environment \"dev\" matches none of \"prod*\", \"staging\"".into()
            )
        );
        assert_eq!(
            d.applicability("prod", "QA"),
            Applicability::Skipped("release stream \"QA\" is not one of \"PROD\"".into())
        );
        assert_eq!(
            b.applicability("anything", "ANY"),
            Applicability::Applies("any environment; any release stream".into())
        );
        assert_eq!(set.when_nothing_applies, WhenNothingApplies::Error);
    }

    #[test]
    fn the_random_grant_is_read_and_off_by_default() {
        let set = parse(
            "[[policy]]\nname = \"r\"\npath = \"r.wasm\"\n[policy.grants]\nrandom = true\n\n[[policy]]\nname = \"d\"\npath = \"d.wasm\"\n",
        )
        .expect("valid");
        assert!(set.policies[0].random);
        assert!(set.policies[0].grants().expect("grants").random);
        assert!(!set.policies[1].random);
        let errs = parse(
            "[[policy]]\nname = \"r\"\npath = \"r.wasm\"\n[policy.grants]\nrandom = \"yes\"\n",
        )
        .expect_err("not a boolean");
        assert!(errs[0].contains("line 5"), "{errs:?}");
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let errs =
            parse("[[policy]]\nname = \"a\"\npath = \"a.wasm\"\n[policy.limits]\nfuell = 3\n")
                .expect_err("typo");
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert!(
            errs[0].starts_with("conf/gatehouse.toml: line 5: "),
            "{errs:?}"
        );
        assert!(errs[0].contains("unknown field `fuell`"), "{errs:?}");
        let errs = parse("[[policy]]\nname = \"a\"\npath = \"a.wasm\"\nenvironment = [\"x\"]\n")
            .expect_err("typo");
        assert!(
            errs[0].contains("line 4") && errs[0].contains("`environment`"),
            "{errs:?}"
        );
        let errs = parse("[[policy]]\nname = \"a\"\n").expect_err("no path");
        assert!(errs[0].contains("missing field `path`"), "{errs:?}");
        let errs = parse("[[policy]\n").expect_err("syntax");
        assert!(errs[0].contains("line 1"), "{errs:?}");
    }

    #[test]
    fn every_semantic_problem_is_listed() {
        let errs = parse(
            r#"
[[policy]]
name = "a"
path = "a.wasm"
sha256 = "xyz"
environments = []
[policy.limits]
fuel = 0
[policy.settings]
list = ["a", "b"]

[[policy]]
name = "a"
path = "b.wasm"
"#,
        )
        .expect_err("problems");
        assert_eq!(errs.len(), 5, "{errs:#?}");
        assert!(
            errs[0].contains("line 5: policy 'a': sha256 \"xyz\""),
            "{errs:?}"
        );
        assert!(errs[1].contains("environments is empty"), "{errs:?}");
        assert!(
            errs.iter().any(|e| e.contains("is of type array")),
            "{errs:?}"
        );
        assert!(
            errs.iter()
                .any(|e| e.contains("limits.fuel must be at least 1"))
        );
        assert!(errs[4].contains("line 13") && errs[4].contains("already used on line 3"));
        assert!(parse("").expect_err("empty")[0].contains("no policies"));
    }

    const ONE_POLICY: &str = "[[policy]]\nname = \"a\"\npath = \"a.wasm\"\n";

    #[test]
    fn a_trust_section_parses_with_its_defaults() {
        let set = parse(&format!(
            "[trust]\nallowed-signers = \"keys/allowed_signers\"\n[trust.groups]\ndba = [\"alice@example.com\", \"bob@example.com\"]\n{ONE_POLICY}"
        ))
        .expect("valid");
        let trust = set.trust.expect("a trust section");
        assert_eq!(
            trust.allowed_signers,
            Path::new("conf/keys/allowed_signers")
        );
        assert_eq!(
            trust.groups["dba"],
            ["alice@example.com", "bob@example.com"]
        );
        assert_eq!(trust.self_approval, SelfApproval::Forbid);
        assert_eq!(trust.author_key, "author");
        let set = parse(&format!(
            "[trust]\nallowed-signers = \"s\"\nself-approval = \"allow\"\nauthor-key = \"triggered-by\"\n{ONE_POLICY}"
        ))
        .expect("valid");
        let trust = set.trust.expect("a trust section");
        assert_eq!(
            (trust.self_approval, trust.author_key.as_str()),
            (SelfApproval::Allow, "triggered-by")
        );
        assert!(parse(ONE_POLICY).expect("valid").trust.is_none());
    }

    #[test]
    fn trust_problems_name_their_line() {
        let errs =
            parse(&format!("[trust]\nallowed-signer = \"s\"\n{ONE_POLICY}")).expect_err("typo");
        assert!(
            errs[0].contains("line 2") && errs[0].contains("unknown field `allowed-signer`"),
            "{errs:?}"
        );
        let errs = parse(&format!(
            "[trust]\nself-approval = \"never\"\nauthor-key = \"a b\"\n[trust.groups]\ndba = []\nsre = [\"x\", \"x\"]\n{ONE_POLICY}"
        ))
        .expect_err("problems");
        assert_eq!(errs.len(), 5, "{errs:#?}");
        let expected = [
            ("line 1", "needs allowed-signers"),
            ("line 5", "group \"dba\" has no members"),
            ("line 6", "lists \"x\" twice"),
            ("line 2", "self-approval = \"never\""),
            ("line 3", "author-key: the key has the character ' '"),
        ];
        for (err, (line, fragment)) in errs.iter().zip(expected) {
            assert!(
                err.starts_with(&format!("conf/gatehouse.toml: {line}: "))
                    && err.contains(fragment),
                "{err} vs {line} {fragment}"
            );
        }
    }
}
