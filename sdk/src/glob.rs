//! Globs for resource paths, types and names, environments and list
//! settings: Gatehouse's one glob dialect, the same as a policy set's
//! `environments` (the [`gatehouse_glob`] crate). `*` and `?` match within
//! one `/`-separated segment (`?` is one character), `**` as a whole segment
//! matches any number of segments, and matching is case-sensitive. The rules
//! in full: docs/policy-sets.md, "Globs".
//!
//! Matching allocates nothing and costs O(pattern × text) at worst, so it is
//! cheap in fuel and safe on any release.
//!
//! ```
//! use gatehouse_sdk::glob::{first_match, matches, matches_any};
//! assert!(matches("datastores/*", "datastores/orders"));
//! assert!(!matches("datastores/*", "datastores/eu/orders"));
//! assert!(matches("datastores/**", "datastores/eu/orders"));
//! assert!(matches("**/orders", "datastores/eu/orders"));
//! assert!(matches("db-?", "db-1"));
//! assert!(matches_any(&["prod*", "live"], "prod-eu"));
//! let protected = vec!["prod*".to_string(), "live".to_string()];
//! assert_eq!(first_match(&protected, "prod-eu"), Some("prod*"));
//! ```

pub use gatehouse_glob::{first_match, matches, matches_any};
