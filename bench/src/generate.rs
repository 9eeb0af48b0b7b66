//! Deterministic, realistic releases of any size, as Facets release JSON text.
//!
//! A release of `n` resources cycles through change kinds with a period of 20
//! (mostly no-ops, creates and in-place updates, one delete, one replace and
//! one recreate, as in a real plan) and through resource types with a period
//! of 7 (four of them protected by `destructive-changes`), so that every
//! combination occurs and about 3 in 35 resources are destructive changes to
//! protected resources. The environment is `prod-eu` on stream `PROD`, with
//! two approvals and some metadata, so every example policy has work to do.

use std::fmt::Write as _;

/// Change kinds, one period of the cycle (20 resources).
pub const KINDS: [&str; 20] = [
    "NO_OPERATION",
    "CREATE",
    "UPDATE_IN_PLACE",
    "NO_OPERATION",
    "NO_OPERATION",
    "CREATE",
    "DELETE",
    "UPDATE_IN_PLACE",
    "NO_OPERATION",
    "CREATE",
    "NO_OPERATION",
    "REPLACE",
    "UPDATE_IN_PLACE",
    "NO_OPERATION",
    "CREATE",
    "NO_OPERATION",
    "RECREATE",
    "UPDATE_IN_PLACE",
    "NO_OPERATION",
    "CREATE",
];

/// Resource types and the directory their paths live in, one period (7).
pub const TYPES: [(&str, &str); 7] = [
    ("service", "services"),
    ("mysql", "datastores"),
    ("ingress", "ingresses"),
    ("s3", "buckets"),
    ("redis", "caches"),
    ("postgres", "datastores"),
    ("aws_db_instance", "datastores"),
];

/// Types protected by `destructive-changes` (and the reference Rego rule) by default.
pub const PROTECTED: [&str; 4] = ["mysql", "postgres", "aws_db_instance", "s3"];

/// Change kinds `destructive-changes` counts by default.
pub const DESTRUCTIVE: [&str; 3] = ["DELETE", "REPLACE", "RECREATE"];

/// The environment every generated release targets.
pub const ENVIRONMENT: &str = "prod-eu";

/// The change kind and type of resource `i`.
pub fn resource(i: usize) -> (&'static str, &'static str, &'static str) {
    let kind = KINDS[i % KINDS.len()];
    let (ty, dir) = TYPES[i % TYPES.len()];
    (kind, ty, dir)
}

/// The release of `n` resources as JSON text.
pub fn release_json(n: usize) -> String {
    let mut out = String::with_capacity(160 + n * 130);
    out.push_str("{\"environmentName\":\"");
    out.push_str(ENVIRONMENT);
    out.push_str("\",\"releaseStream\":\"PROD\",\"resources\":[");
    for i in 0..n {
        let (kind, ty, dir) = resource(i);
        if i > 0 {
            out.push(',');
        }
        // Names repeat every 500 resources per type, like services in many modules.
        let _ = write!(
            out,
            "{{\"resourceType\":\"{ty}\",\"resourceName\":\"{ty}-{name}\",\"resourcePath\":\"{dir}/m{module}/{ty}-{name}\",\"changeType\":\"{kind}\"}}",
            name = i % 500,
            module = i / 500,
        );
    }
    out.push_str("],\"metadata\":{\"commit\":\"9f2c1e7\",\"pipeline\":\"release-4711\",\"author\":\"jdoe\"},");
    out.push_str("\"approvals\":[");
    out.push_str(
        "{\"approver\":\"asmith\",\"groups\":[\"tech-lead\"],\"at\":\"2026-11-22T08:15:00Z\"},",
    );
    out.push_str(
        "{\"approver\":\"bkumar\",\"groups\":[\"on-call\"],\"at\":\"2026-11-22T09:40:00Z\"}",
    );
    out.push_str("]}");
    out
}

/// The reasons the reference rule gives for the release of `n` resources,
/// computed directly: "<kind> of <type> <path>" for each destructive change
/// to a protected type, in order.
pub fn expected_destructive_reasons(n: usize) -> Vec<String> {
    (0..n)
        .filter_map(|i| {
            let (kind, ty, dir) = resource(i);
            (DESTRUCTIVE.contains(&kind) && PROTECTED.contains(&ty)).then(|| {
                format!(
                    "{kind} of {ty} {dir}/m{module}/{ty}-{name}",
                    module = i / 500,
                    name = i % 500
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use gatehouse_core::release::{ChangeKind, InputOptions, read_release};
    use std::collections::BTreeMap;

    fn parse(n: usize) -> gatehouse_core::release::Release {
        let text = release_json(n);
        read_release(text.as_bytes(), "generated", &InputOptions::default())
            .expect("the generated release parses")
            .0
    }

    #[test]
    fn counts_by_kind_and_type_follow_the_cycles() {
        let release = parse(1_400);
        assert_eq!(release.resources.len(), 1_400);
        assert_eq!(release.environment_name, ENVIRONMENT);
        assert_eq!(release.approvals.len(), 2);
        let counts = release.change_counts();
        // 1,400 = 70 periods of 20 kinds.
        assert_eq!(counts[&ChangeKind::NoOperation], 70 * 8);
        assert_eq!(counts[&ChangeKind::Create], 70 * 5);
        assert_eq!(counts[&ChangeKind::UpdateInPlace], 70 * 4);
        assert_eq!(counts[&ChangeKind::Delete], 70);
        assert_eq!(counts[&ChangeKind::Replace], 70);
        assert_eq!(counts[&ChangeKind::Recreate], 70);
        let mut types: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &release.resources {
            *types.entry(r.resource_type.as_str()).or_default() += 1;
        }
        assert_eq!(types.len(), 7);
        assert!(types.values().all(|&n| n == 200), "{types:?}");
    }

    #[test]
    fn expected_reasons_match_the_parsed_release_and_grow_linearly() {
        let release = parse(140);
        let from_release: Vec<String> = release
            .resources
            .iter()
            .filter(|r| DESTRUCTIVE.contains(&r.change_type.as_str()))
            .filter(|r| PROTECTED.contains(&r.resource_type.as_str()))
            .map(|r| {
                format!(
                    "{} of {} {}",
                    r.change_type, r.resource_type, r.resource_path
                )
            })
            .collect();
        assert_eq!(from_release, expected_destructive_reasons(140));
        // 3 destructive kinds in 20 by 4 protected types in 7, over 140 resources.
        assert_eq!(from_release.len(), 12);
        assert_eq!(expected_destructive_reasons(14_000).len(), 1_200);
        assert!(expected_destructive_reasons(1).is_empty());
        assert_eq!(release_json(0), release_json(0), "deterministic");
    }
}
