//! # gatehouse-sdk: release-approval policies in Rust
//!
//! A Gatehouse policy is a WebAssembly component that looks at a release change
//! (environment, release stream, the resources it touches and how) and answers
//! **auto-approve**, **require approval** or **fail**. This crate is the
//! idiomatic layer over the bindings generated from the policy world
//! (`gatehouse:policy@0.2.0`, or 0.1.0 with the feature `wit-0-1`; the
//! source of a policy is the same for both): implement [`Policy`], call
//! [`export_policy!`], build for `wasm32-wasip2`.
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
//! How the host calls a policy: `describe` once per loaded policy, then
//! `validate_settings` once per distinct settings (an error stops the run
//! with exit 3 and your message), then `evaluate` with the release and the
//! same settings, in a fresh instance each time. Every setting key that
//! `validate_settings` never reads is rejected as unknown, so typos fail
//! loudly. `evaluate` gets its `Config` from `validate_settings` again (the
//! host hands over the settings it accepted), so keep that function free of
//! side effects. Returning `Err` from `evaluate` means "this policy could not
//! decide": the host reports an error (exit 3), never a verdict.
//!
//! The [`Release`] is read from the host as the policy uses it: a policy
//! that only looks at the environment, the stream or
//! [`Release::count_by_kind`] never copies a resource.

pub mod bindings;
pub mod dates;
mod decision;
pub mod durations;
pub mod glob;
pub mod host;
mod lists;
mod release;
mod settings;
pub mod time;
pub mod windows;

pub use dates::{Date, DateRange};
pub use decision::{ApprovalRequest, Decision, Reason};
pub use lists::{HostList, Resources};
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
#[cfg(not(feature = "wit-0-1"))]
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
                    release: &$crate::bindings::gatehouse::policy::input::Release,
                    settings: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<
                    $crate::bindings::gatehouse::policy::types::Decision,
                    ::std::string::String,
                > {
                    $crate::__private::evaluate_in_host::<$policy>(release, settings)
                }
            }

            $crate::bindings::__export_policy_world!(GatehouseExport with_types_in $crate::bindings);
        };
    };
}

/// Exports a [`Policy`] implementation as the component's `policy` world.
///
/// Use it once per crate, at the top level: `export_policy!(MyPolicy);`.
#[cfg(feature = "wit-0-1")]
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
                    release: $crate::bindings::gatehouse::policy::types::Release,
                    settings: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
                ) -> ::std::result::Result<
                    $crate::bindings::gatehouse::policy::types::Decision,
                    ::std::string::String,
                > {
                    $crate::__private::evaluate_record::<$policy>(release, settings)
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

    /// Evaluates the release with the config `validate_settings` makes of
    /// `raw`, then lets the instance end without freeing the release piece by
    /// piece (Gatehouse discards the instance after every evaluation, so
    /// that would be pure cost: hundreds of thousands of strings for a large plan).
    fn evaluate<P: Policy>(
        release: Release,
        raw: Vec<(String, String)>,
    ) -> Result<types::Decision, String> {
        // The host may call `evaluate` in an instance that never ran
        // `validate-settings`, so the config is made again here.
        let decision = validate::<P>(raw)
            .map_err(|e| format!("invalid settings: {e}"))
            .and_then(|config| {
                P::evaluate(&release, &config)
                    .map(Into::into)
                    .map_err(|e| e.to_string())
            });
        std::mem::forget(release);
        decision
    }

    /// `evaluate` of `gatehouse:policy@0.2.0`: the release stays in the host.
    #[cfg(not(feature = "wit-0-1"))]
    pub fn evaluate_in_host<P: Policy>(
        release: &crate::bindings::gatehouse::policy::input::Release,
        raw: Vec<(String, String)>,
    ) -> Result<types::Decision, String> {
        evaluate::<P>(Release::from_host(release), raw)
    }

    /// `evaluate` of `gatehouse:policy@0.1.0`: the release arrives whole.
    #[cfg(feature = "wit-0-1")]
    pub fn evaluate_record<P: Policy>(
        release: types::Release,
        raw: Vec<(String, String)>,
    ) -> Result<types::Decision, String> {
        evaluate::<P>(Release::from_record(release), raw)
    }
}
