//! The release under decision, with the questions gate logic asks all the time:
//! which resources change, how, and who has already approved.

use crate::bindings::gatehouse::policy::types;
use crate::glob;
use crate::lists::{HostList, Resources, Selection};

/// An approval already recorded for the release.
pub use types::Approval;
/// How one resource changes (the Facets `changeType`).
pub use types::ChangeKind;
/// One resource touched by the release.
pub use types::ResourceChange;

/// The release change under decision.
///
/// Under `gatehouse:policy@0.2.0` the release stays in the host: the
/// environment, stream and counts come with it, and each list is read the
/// first time the policy looks at it (`release.resources.iter()`), in
/// batches; [`Release::changes_of_kind`], [`Release::changes_of_kinds`],
/// [`Release::destructive_changes`], [`Release::changed_resources`] and
/// [`Release::resources_of_type`] have the host filter and read only the
/// resources they select.
/// A policy that never looks at resources never pays for them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Release {
    /// The target environment, e.g. `prod-eu`.
    pub environment_name: String,
    /// The release stream, e.g. `PROD`, `QA`.
    pub release_stream: String,
    /// Every resource the release touches, in input order. Build it from a
    /// `Vec` (`vec![..].into()`) or with `collect()`.
    pub resources: Resources,
    /// Free-form context from the pipeline (commit, author, ...), sorted by key.
    pub metadata: HostList<(String, String)>,
    /// Approvals already recorded for this release, in input order.
    pub approvals: HostList<Approval>,
}

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
    ///     resources: vec![ResourceChange::new(ChangeKind::Create, "service", "services/api")].into(),
    ///     ..Release::new("production", "PROD")
    /// };
    /// assert_eq!(release.changed_resources().count(), 1);
    /// ```
    pub fn new(environment_name: impl Into<String>, release_stream: impl Into<String>) -> Self {
        Release {
            environment_name: environment_name.into(),
            release_stream: release_stream.into(),
            ..Release::default()
        }
    }

    /// The release behind the host's handle, as `evaluate` receives it: the
    /// summary now, every list on first use.
    #[cfg(not(feature = "wit-0-1"))]
    pub(crate) fn from_host(release: &crate::bindings::gatehouse::policy::input::Release) -> Self {
        let source = crate::lists::Source(release.handle());
        let summary = release.summary();
        let mut counts = [0u32; 6];
        for (count, given) in counts.iter_mut().zip(&summary.counts_by_kind) {
            *count = *given;
        }
        Release {
            environment_name: summary.environment_name,
            release_stream: summary.release_stream,
            resources: Resources::from_host(source, counts),
            metadata: HostList::from_host(source),
            approvals: HostList::from_host(source),
        }
    }

    /// The release `evaluate` receives whole under `gatehouse:policy@0.1.0`.
    #[cfg(feature = "wit-0-1")]
    pub(crate) fn from_record(release: types::Release) -> Self {
        Release {
            environment_name: release.environment_name,
            release_stream: release.release_stream,
            resources: release.resources.into(),
            metadata: release.metadata.into(),
            approvals: release.approvals.into(),
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
    ///     ].into(),
    ///     ..Release::new("prod", "PROD")
    /// };
    /// assert_eq!(release.count_by_kind(), [(ChangeKind::Create, 1), (ChangeKind::Delete, 2)]);
    /// ```
    pub fn count_by_kind(&self) -> Vec<(ChangeKind, usize)> {
        ChangeKind::ALL
            .into_iter()
            .zip(self.resources.counts())
            .filter(|(_, count)| *count > 0)
            .collect()
    }

    /// The resources of `selection`, read from the host only as far as needed.
    fn selected<'a>(
        &'a self,
        selection: Selection<'a>,
    ) -> impl Iterator<Item = &'a ResourceChange> + 'a {
        self.resources
            .selection(selection)
            .iter()
            .filter(move |r| selection.selects(r))
    }

    /// Resources changed in exactly this way, in input order.
    pub fn changes_of_kind(&self, kind: ChangeKind) -> impl Iterator<Item = &ResourceChange> {
        self.selected(Selection::kinds([kind]))
    }

    /// Resources changed in any of these ways, in input order: the shape of a
    /// configurable rule (`change-types = "DELETE, RECREATE"`). Read from the
    /// host, only these resources are copied into the policy.
    ///
    /// ```
    /// use gatehouse_sdk::{ChangeKind, Release, ResourceChange};
    /// let release = Release {
    ///     resources: vec![
    ///         ResourceChange::new(ChangeKind::Delete, "mysql", "db/a"),
    ///         ResourceChange::new(ChangeKind::Create, "service", "svc/b"),
    ///         ResourceChange::new(ChangeKind::Recreate, "mysql", "db/c"),
    ///     ].into(),
    ///     ..Release::new("prod", "PROD")
    /// };
    /// let paths: Vec<&str> = release
    ///     .changes_of_kinds(&[ChangeKind::Recreate, ChangeKind::Delete])
    ///     .map(|r| r.resource_path.as_str())
    ///     .collect();
    /// assert_eq!(paths, ["db/a", "db/c"]);
    /// ```
    pub fn changes_of_kinds(&self, kinds: &[ChangeKind]) -> impl Iterator<Item = &ResourceChange> {
        self.selected(Selection::kinds(kinds.iter().copied()))
    }

    /// Resources that really change (everything but no-operation).
    pub fn changed_resources(&self) -> impl Iterator<Item = &ResourceChange> {
        self.selected(Selection::kinds(
            ChangeKind::ALL.into_iter().filter(|k| k.is_change()),
        ))
    }

    /// Resources deleted, replaced or recreated.
    pub fn destructive_changes(&self) -> impl Iterator<Item = &ResourceChange> {
        self.selected(Selection::kinds(
            ChangeKind::ALL.into_iter().filter(|k| k.is_destructive()),
        ))
    }

    /// Resources of one type, compared exactly (`mysql`), in input order.
    /// Read from the host, only these resources are copied into the policy.
    pub fn resources_of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a ResourceChange> + 'a {
        self.selected(Selection::of_type(resource_type))
    }

    /// Resources whose path matches a glob (see [`ResourceChange::path_matches`]).
    /// The host cannot filter by path, so this reads every resource; narrow
    /// with [`Release::changes_of_kinds`] or [`Release::resources_of_type`]
    /// first when the rule allows.
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
            ]
            .into(),
            metadata: vec![("commit".into(), "abc".into())].into(),
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
            ]
            .into(),
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
        assert_eq!(
            r.resources_of_type("mysq").count(),
            0,
            "types compare exactly"
        );
        let paths = |it: &mut dyn Iterator<Item = &ResourceChange>| {
            it.map(|r| r.resource_path.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            paths(&mut r.changes_of_kinds(&[ChangeKind::Recreate, ChangeKind::Delete])),
            ["datastores/orders", "datastores/cache"],
            "input order, whatever the order of the kinds"
        );
        assert_eq!(r.changes_of_kinds(&[]).count(), 0);
        assert_eq!(
            paths(&mut r.changes_of_kinds(&[ChangeKind::NoOperation, ChangeKind::NoOperation])),
            ["datastores/users"]
        );
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
