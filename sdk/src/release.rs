//! The release under decision, with the questions gate logic asks all the time:
//! which resources change, how, and who has already approved.

use crate::bindings::gatehouse::policy::types;
use crate::glob;

/// An approval already recorded for the release.
pub use types::Approval;
/// How one resource changes (the Facets `changeType`).
pub use types::ChangeKind;
/// The release change under decision.
pub use types::Release;
/// One resource touched by the release.
pub use types::ResourceChange;

impl ChangeKind {
    /// Every kind, in the order of the WIT enum.
    pub const ALL: [ChangeKind; 6] = [
        ChangeKind::Create,
        ChangeKind::Delete,
        ChangeKind::UpdateInPlace,
        ChangeKind::Replace,
        ChangeKind::Recreate,
        ChangeKind::NoOperation,
    ];

    /// True for changes that destroy an existing object: delete, replace, recreate.
    pub fn is_destructive(self) -> bool {
        matches!(
            self,
            ChangeKind::Delete | ChangeKind::Replace | ChangeKind::Recreate
        )
    }

    /// True for every kind but no-operation.
    pub fn is_change(self) -> bool {
        self != ChangeKind::NoOperation
    }

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

    /// Parses the Facets spelling (`DELETE`, `update_in_place`, ...), ignoring case.
    pub fn parse(text: &str) -> Option<ChangeKind> {
        ChangeKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(text.trim()))
    }
}

impl std::fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ResourceChange {
    /// A resource change with no source attributes; the name is the last
    /// segment of the path. Handy for unit tests of gate logic.
    ///
    /// ```
    /// use gatehouse_sdk::{ChangeKind, ResourceChange};
    /// let r = ResourceChange::new(ChangeKind::Delete, "mysql", "datastores/orders");
    /// assert_eq!(r.resource_name, "orders");
    /// ```
    pub fn new(
        change: ChangeKind,
        resource_type: impl Into<String>,
        resource_path: impl Into<String>,
    ) -> Self {
        let resource_path = resource_path.into();
        ResourceChange {
            resource_type: resource_type.into(),
            resource_name: resource_path
                .rsplit('/')
                .next()
                .unwrap_or(&resource_path)
                .to_string(),
            resource_path,
            change,
            attributes: Vec::new(),
        }
    }

    /// The value of a source attribute, e.g. `terraform.actions`.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// True when the resource path matches a glob: `*` and `?` stay within one
    /// `/`-separated segment, `**` spans segments (`datastores/**`).
    pub fn path_matches(&self, pattern: &str) -> bool {
        glob::matches(pattern, &self.resource_path)
    }

    /// A short human label, `type 'name' (path)`, for reasons and logs.
    pub fn label(&self) -> String {
        format!(
            "{} '{}' ({})",
            self.resource_type, self.resource_name, self.resource_path
        )
    }
}

impl Release {
    /// An empty release (no resources, metadata or approvals) to an
    /// environment on a stream; fill in the rest with struct update syntax.
    /// Handy for unit tests of gate logic.
    ///
    /// ```
    /// use gatehouse_sdk::{ChangeKind, Release, ResourceChange};
    /// let release = Release {
    ///     resources: vec![ResourceChange::new(ChangeKind::Create, "service", "services/api")],
    ///     ..Release::new("production", "PROD")
    /// };
    /// assert_eq!(release.changed_resources().count(), 1);
    /// ```
    pub fn new(environment_name: impl Into<String>, release_stream: impl Into<String>) -> Self {
        Release {
            environment_name: environment_name.into(),
            release_stream: release_stream.into(),
            resources: Vec::new(),
            metadata: Vec::new(),
            approvals: Vec::new(),
        }
    }

    /// How many resources change in each way, in [`ChangeKind::ALL`] order,
    /// leaving out kinds with no resource: for summaries such as
    /// `3 changes (1 CREATE, 2 DELETE)`.
    ///
    /// ```
    /// use gatehouse_sdk::{ChangeKind, Release, ResourceChange};
    /// let release = Release {
    ///     resources: vec![
    ///         ResourceChange::new(ChangeKind::Delete, "mysql", "db/a"),
    ///         ResourceChange::new(ChangeKind::Create, "service", "svc/b"),
    ///         ResourceChange::new(ChangeKind::Delete, "mysql", "db/c"),
    ///     ],
    ///     ..Release::new("prod", "PROD")
    /// };
    /// assert_eq!(release.count_by_kind(), [(ChangeKind::Create, 1), (ChangeKind::Delete, 2)]);
    /// ```
    pub fn count_by_kind(&self) -> Vec<(ChangeKind, usize)> {
        ChangeKind::ALL
            .into_iter()
            .map(|kind| (kind, self.changes_of_kind(kind).count()))
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// Resources changed in exactly this way.
    pub fn changes_of_kind(&self, kind: ChangeKind) -> impl Iterator<Item = &ResourceChange> {
        self.resources.iter().filter(move |r| r.change == kind)
    }

    /// Resources that really change (everything but no-operation).
    pub fn changed_resources(&self) -> impl Iterator<Item = &ResourceChange> {
        self.resources.iter().filter(|r| r.change.is_change())
    }

    /// Resources deleted, replaced or recreated.
    pub fn destructive_changes(&self) -> impl Iterator<Item = &ResourceChange> {
        self.resources.iter().filter(|r| r.change.is_destructive())
    }

    /// Resources of one type, compared exactly (`mysql`).
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a ResourceChange> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }

    /// Resources whose path matches a glob (see [`ResourceChange::path_matches`]).
    pub fn resources_matching<'a>(
        &'a self,
        pattern: &'a str,
    ) -> impl Iterator<Item = &'a ResourceChange> + 'a {
        self.resources
            .iter()
            .filter(move |r| r.path_matches(pattern))
    }

    /// A metadata value, e.g. `commit`.
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Approvals given for a group, counting each approver once.
    pub fn approvers_for(&self, group: &str) -> Vec<&str> {
        let mut approvers: Vec<&str> = self
            .approvals
            .iter()
            .filter(|a| a.groups.iter().any(|g| g == group))
            .map(|a| a.approver.as_str())
            .collect();
        approvers.sort_unstable();
        approvers.dedup();
        approvers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(path: &str, kind: ChangeKind) -> ResourceChange {
        ResourceChange {
            resource_type: "mysql".into(),
            resource_name: path.rsplit('/').next().unwrap_or(path).into(),
            resource_path: path.into(),
            change: kind,
            attributes: vec![("terraform.actions".into(), "delete".into())],
        }
    }

    fn release() -> Release {
        Release {
            environment_name: "prod".into(),
            release_stream: "PROD".into(),
            resources: vec![
                change("datastores/orders", ChangeKind::Delete),
                change("datastores/users", ChangeKind::NoOperation),
                change("services/api", ChangeKind::UpdateInPlace),
                change("datastores/cache", ChangeKind::Recreate),
            ],
            metadata: vec![("commit".into(), "abc".into())],
            approvals: vec![
                Approval {
                    approver: "ann".into(),
                    groups: vec!["dba".into(), "tech-lead".into()],
                    at: "2026-11-20T10:00:00Z".into(),
                },
                Approval {
                    approver: "ann".into(),
                    groups: vec!["dba".into()],
                    at: "2026-11-20T11:00:00Z".into(),
                },
                Approval {
                    approver: "bob".into(),
                    groups: vec!["dba".into()],
                    at: "2026-11-20T12:00:00Z".into(),
                },
            ],
        }
    }

    #[test]
    fn change_kind_round_trips_through_facets_spelling() {
        for kind in ChangeKind::ALL {
            assert_eq!(ChangeKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(
            ChangeKind::parse("update_in_place"),
            Some(ChangeKind::UpdateInPlace)
        );
        assert_eq!(ChangeKind::parse("DESTROY"), None);
    }

    #[test]
    fn filters_select_the_right_resources() {
        let r = release();
        assert_eq!(r.destructive_changes().count(), 2);
        assert_eq!(r.changed_resources().count(), 3);
        assert_eq!(r.changes_of_kind(ChangeKind::Delete).count(), 1);
        assert_eq!(r.resources_matching("datastores/*").count(), 3);
        assert_eq!(r.resources_matching("services/**").count(), 1);
        assert_eq!(r.resources_of_type("mysql").count(), 4);
        assert_eq!(r.metadata("commit"), Some("abc"));
        assert_eq!(
            r.resources[0].attribute("terraform.actions"),
            Some("delete")
        );
    }

    #[test]
    fn counts_by_kind_skip_absent_kinds() {
        assert_eq!(
            release().count_by_kind(),
            [
                (ChangeKind::Delete, 1),
                (ChangeKind::UpdateInPlace, 1),
                (ChangeKind::Recreate, 1),
                (ChangeKind::NoOperation, 1),
            ]
        );
        assert!(Release::new("prod", "PROD").count_by_kind().is_empty());
    }

    #[test]
    fn constructors_fill_names_and_leave_the_rest_empty() {
        let r = ResourceChange::new(ChangeKind::Create, "redis", "caches/eu/session");
        assert_eq!(r.resource_name, "session");
        assert_eq!(r.resource_path, "caches/eu/session");
        assert!(r.attributes.is_empty());
        assert_eq!(
            ResourceChange::new(ChangeKind::Create, "x", "flat").resource_name,
            "flat"
        );
        let release = Release::new("staging", "QA");
        assert_eq!(
            (
                release.environment_name.as_str(),
                release.release_stream.as_str()
            ),
            ("staging", "QA")
        );
        assert!(release.resources.is_empty() && release.approvals.is_empty());
    }

    #[test]
    fn approvers_are_counted_once_per_group() {
        let r = release();
        assert_eq!(r.approvers_for("dba"), vec!["ann", "bob"]);
        assert_eq!(r.approvers_for("tech-lead"), vec!["ann"]);
        assert!(r.approvers_for("on-call").is_empty());
    }
}
