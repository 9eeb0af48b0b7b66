//! The release change under decision: one typed model that every input format
//! is converted into, and that policies see through the WIT `release` record.

mod facets;

pub use facets::{ParseOptions, parse_release};

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How one resource changes, spelled as Facets spells it in JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChangeKind {
    /// The resource is created.
    Create,
    /// The resource is destroyed.
    Delete,
    /// The resource is modified in place.
    UpdateInPlace,
    /// Created before the old one is destroyed (Terraform `create,delete`).
    Replace,
    /// Destroyed before the new one is created (Terraform `delete,create`).
    Recreate,
    /// Nothing changes.
    NoOperation,
}

impl ChangeKind {
    /// Every kind, in WIT order.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Create,
        ChangeKind::Delete,
        ChangeKind::UpdateInPlace,
        ChangeKind::Replace,
        ChangeKind::Recreate,
        ChangeKind::NoOperation,
    ];

    /// The Facets spelling, e.g. `UPDATE_IN_PLACE`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Create => "CREATE",
            ChangeKind::Delete => "DELETE",
            ChangeKind::UpdateInPlace => "UPDATE_IN_PLACE",
            ChangeKind::Replace => "REPLACE",
            ChangeKind::Recreate => "RECREATE",
            ChangeKind::NoOperation => "NO_OPERATION",
        }
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One resource touched by the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceChange {
    /// The kind of resource, e.g. `mysql`.
    pub resource_type: String,
    /// The resource's name, e.g. `orders`.
    pub resource_name: String,
    /// Where the resource lives, e.g. `datastores/orders`.
    pub resource_path: String,
    /// What happens to it.
    pub change_type: ChangeKind,
    /// Source detail kept by adapters (e.g. `terraform.actions`), sorted by key.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// An approval already given to the release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Approval {
    /// Who approved.
    pub approver: String,
    /// The groups the approver signed for.
    pub groups: Vec<String>,
    /// When, RFC 3339 normalised to UTC (`2026-11-20T10:00:00Z`).
    pub at: String,
}

/// The release change under decision, in the native (Facets) shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    /// The target environment, e.g. `prod-eu`.
    pub environment_name: String,
    /// The release stream, e.g. `PROD`.
    pub release_stream: String,
    /// Every resource the release touches, in input order.
    pub resources: Vec<ResourceChange>,
    /// Free-form pipeline context, sorted by key.
    pub metadata: BTreeMap<String, String>,
    /// Approvals already recorded.
    pub approvals: Vec<Approval>,
}

impl Release {
    /// How many resources change in each way, for reports.
    pub fn change_counts(&self) -> BTreeMap<ChangeKind, usize> {
        let mut counts = BTreeMap::new();
        for resource in &self.resources {
            *counts.entry(resource.change_type).or_insert(0) += 1;
        }
        counts
    }
}
