//! # gatehouse-sdk: release-approval policies in Rust
//!
//! A Gatehouse policy is a WebAssembly component that looks at a release change
//! (environment, release stream, the resources it touches and how) and answers
//! **auto-approve**, **require approval** or **fail**. This crate is the
//! idiomatic layer over the bindings generated from `wit/policy.wit`: implement
//! [`Policy`], call [`export_policy!`], build for `wasm32-wasip2`.
//!
//! ```
//! use gatehouse_sdk::{export_policy, ChangeKind, Decision, EvaluationError, Policy,
//!     PolicyInfo, Reason, Release, Settings, SettingsError};
//!
//! /// Deleting more than `max-deletes` resources needs a DBA and an SRE.
//! struct DeleteGuard;
//!
//! /// Parsed once by `validate_settings`, handed to every `evaluate`.
//! struct Config {
//!     max_deletes: u32,
//!     groups: Vec<String>,
//! }
//!
//! impl Policy for DeleteGuard {
//!     type Config = Config;
//!
//!     fn describe() -> PolicyInfo {
//!         PolicyInfo::new("delete-guard", env!("CARGO_PKG_VERSION"), "Limits deletions per release.")
//!     }
//!
//!     fn validate_settings(settings: &Settings) -> Result<Config, SettingsError> {
//!         Ok(Config {
//!             max_deletes: settings.get_u32("max-deletes")?.unwrap_or(0),
//!             groups: settings.get_non_empty_list("groups")?.unwrap_or_else(|| vec!["dba".into(), "sre".into()]),
//!         })
//!     }
//!
//!     fn evaluate(release: &Release, config: &Config) -> Result<Decision, EvaluationError> {
//!         let deletes: Vec<Reason> = release
//!             .changes_of_kind(ChangeKind::Delete)
//!             .map(|r| Reason::about(r, format!("{} is deleted", r.label())))
//!             .collect();
//!         if deletes.len() as u64 <= u64::from(config.max_deletes) {
//!             return Ok(Decision::approve(format!("{} deletions, at most {} allowed", deletes.len(), config.max_deletes)));
//!         }
//!         gatehouse_sdk::host::warn("too many deletions");
//!         Ok(Decision::require_approval(format!("{} deletions exceed the limit of {}", deletes.len(), config.max_deletes))
//!             .with_reasons(deletes)
//!             .from_groups(config.groups.clone())
//!             .instructions("Confirm backups exist for every deleted resource."))
//!     }
//! }
//!
//! export_policy!(DeleteGuard);
//! # fn main() {}
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2` (crate type
//! `cdylib`) and run it with
//! `gatehouse eval --policy target/wasm32-wasip2/release/delete_guard.wasm --input release.json`.
//!
//! How the host calls a policy: `describe` once, then `validate_settings` with
//! the user's settings (an error stops the run with exit 3 and your message),
//! then `evaluate` with the release and the same settings. Every setting key
//! that `validate_settings` never reads is rejected as unknown, so typos fail
//! loudly. Returning `Err` from `evaluate` means "this policy could not
//! decide": the host reports an error (exit 3), never a verdict.

pub mod bindings;
pub mod dates;
mod decision;
pub mod glob;
pub mod host;
mod release;
mod settings;
pub mod time;
pub mod windows;

pub use dates::{Date, DateRange};
pub use decision::{ApprovalRequest, Decision, Reason};
pub use release::{Approval, ChangeKind, Release, ResourceChange};
pub use settings::{Settings, SettingsError};
pub use time::{CivilTime, Timestamp, Weekday};
pub use windows::{DailyHours, UtcOffset, WeeklyWindow};

/// Who a policy is, for reports and audit.
pub use bindings::gatehouse::policy::types::PolicyInfo;

/// Lets `::gatehouse_sdk::...` paths in generated code resolve inside this crate too.
extern crate self as gatehouse_sdk;

impl PolicyInfo {
    /// Builds the description; `name` should be lower-case with dashes.
    pub fn new(
        name: impl Into<String>,
        version: impl Into<String>,
        description: impl Into<String>,
    ) -> Self {
        PolicyInfo {
            name: name.into(),
            version: version.into(),
            description: description.into(),
        }
    }
}

/// Why a policy could not decide. The host turns it into an error report and
/// exit code 3, never into a verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationError(pub String);

impl std::fmt::Display for EvaluationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for EvaluationError {}

impl From<SettingsError> for EvaluationError {
    fn from(e: SettingsError) -> Self {
        EvaluationError(e.to_string())
    }
}

impl From<String> for EvaluationError {
    fn from(message: String) -> Self {
        EvaluationError(message)
    }
}

impl From<&str> for EvaluationError {
    fn from(message: &str) -> Self {
        EvaluationError(message.to_string())
    }
}

/// A release-approval policy. Implement it on a unit struct and pass that
/// struct to [`export_policy!`].
pub trait Policy {
    /// Settings parsed into the shape `evaluate` needs.
    type Config;

    /// Names and versions the policy.
    fn describe() -> PolicyInfo;

    /// Parses and checks settings. The host calls it before any evaluation,
    /// and `evaluate` receives its result.
    fn validate_settings(settings: &Settings) -> Result<Self::Config, SettingsError>;

    /// Decides on a release.
    fn evaluate(release: &Release, config: &Self::Config) -> Result<Decision, EvaluationError>;
}

/// Exports a [`Policy`] implementation as the component's `policy` world.
///
/// Use it once per crate, at the top level: `export_policy!(MyPolicy);`.
#[macro_export]
macro_rules! export_policy {
    ($policy:ty) => {
        const _: () = {
            struct GatehouseExport;

            impl $crate::bindings::Guest for GatehouseExport {
                fn describe() -> $crate::PolicyInfo {
                    <$policy as $crate::Policy>::describe()
                }

                fn validate_settings(
                    settings: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::__private::validate::<$policy>(settings).map(|_| ())
                }

                fn evaluate(
                    release: $crate::Release,
                    settings: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<
                    $crate::bindings::gatehouse::policy::types::Decision,
                    ::std::string::String,
                > {
                    let decision = $crate::__private::evaluate::<$policy>(&release, settings);
                    // Gatehouse discards the instance after every evaluation,
                    // so freeing the release piece by piece (hundreds of
                    // thousands of strings for a large plan) is pure cost.
                    ::std::mem::forget(release);
                    decision
                }
            }

            $crate::bindings::__export_policy_world!(GatehouseExport with_types_in $crate::bindings);
        };
    };
}

/// Glue used by [`export_policy!`]; not part of the public API.
#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    use crate::bindings::gatehouse::policy::types;
    use crate::{Policy, Release, Settings};

    /// Parses settings with the policy and rejects keys it never read.
    pub fn validate<P: Policy>(raw: Vec<(String, String)>) -> Result<P::Config, String> {
        let settings = Settings::from_pairs(raw);
        let config = P::validate_settings(&settings).map_err(|e| e.to_string())?;
        settings.reject_unknown().map_err(|e| e.to_string())?;
        Ok(config)
    }

    /// Validates settings again (the host may call `evaluate` alone) and evaluates.
    pub fn evaluate<P: Policy>(
        release: &Release,
        raw: Vec<(String, String)>,
    ) -> Result<types::Decision, String> {
        let config = validate::<P>(raw).map_err(|e| format!("invalid settings: {e}"))?;
        P::evaluate(release, &config)
            .map(Into::into)
            .map_err(|e| e.to_string())
    }
}
