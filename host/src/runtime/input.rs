//! The release a `gatehouse:policy@0.2.0` policy reads in place: a host
//! resource ([`super::bindings::ReleaseHandle`]) over the caller's release, shared, never
//! copied or lowered whole. Each accessor copies into the guest only what it
//! returns, so a policy pays for what it reads, and filters and counts run
//! here, in native code.

use super::bindings::ReleaseHandle;
use super::bindings::v0_2::gatehouse::policy::{host, input, types};
use super::capture::LogLevel;
use super::sandbox::SandboxState;
use crate::release::{ChangeKind, Release, ResourceChange};
use std::sync::Arc;
use wasmtime::component::Resource;

/// Most resources one `resources` or `find-resources` call returns: enough
/// that a large release takes few calls, few enough that one call's copy
/// stays small next to the hostcall data limit.
pub const MAX_PAGE: u32 = 1024;

/// The position of a change kind in the WIT `change-kind` enum.
fn kind_index(kind: ChangeKind) -> usize {
    match kind {
        ChangeKind::Create => 0,
        ChangeKind::Delete => 1,
        ChangeKind::UpdateInPlace => 2,
        ChangeKind::Replace => 3,
        ChangeKind::Recreate => 4,
        ChangeKind::NoOperation => 5,
    }
}

fn kind_to_wit(kind: ChangeKind) -> types::ChangeKind {
    match kind {
        ChangeKind::Create => types::ChangeKind::Create,
        ChangeKind::Delete => types::ChangeKind::Delete,
        ChangeKind::UpdateInPlace => types::ChangeKind::UpdateInPlace,
        ChangeKind::Replace => types::ChangeKind::Replace,
        ChangeKind::Recreate => types::ChangeKind::Recreate,
        ChangeKind::NoOperation => types::ChangeKind::NoOperation,
    }
}

fn kind_flag(kind: ChangeKind) -> types::ChangeKinds {
    match kind {
        ChangeKind::Create => types::ChangeKinds::CREATE,
        ChangeKind::Delete => types::ChangeKinds::DELETE,
        ChangeKind::UpdateInPlace => types::ChangeKinds::UPDATE_IN_PLACE,
        ChangeKind::Replace => types::ChangeKinds::REPLACE,
        ChangeKind::Recreate => types::ChangeKinds::RECREATE,
        ChangeKind::NoOperation => types::ChangeKinds::NO_OPERATION,
    }
}

fn resource_to_wit(r: &ResourceChange) -> types::ResourceChange {
    types::ResourceChange {
        resource_type: r.resource_type.clone(),
        resource_name: r.resource_name.clone(),
        resource_path: r.resource_path.clone(),
        change: kind_to_wit(r.change_type),
        attributes: r
            .attributes
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    }
}

/// True when `r` passes every part of `filter`.
fn selects(filter: &types::ResourceFilter, r: &ResourceChange) -> bool {
    filter.kinds.contains(kind_flag(r.change_type))
        && filter
            .resource_type
            .as_deref()
            .is_none_or(|t| t == r.resource_type)
}

/// A count or index as the WIT's `u32` (a release never has 4 billion
/// resources: input size limits stop it long before).
fn as_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Resources from `start` passing `select`, at most `max` (capped at
/// [`MAX_PAGE`]), and where to continue.
fn page(
    release: &Release,
    start: u32,
    max: u32,
    select: impl Fn(&ResourceChange) -> bool,
) -> types::ResourcePage {
    let max = max.min(MAX_PAGE) as usize;
    let start = start as usize;
    let mut resources = Vec::new();
    let mut next = None;
    for (index, r) in release.resources.iter().enumerate().skip(start) {
        if !select(r) {
            continue;
        }
        if resources.len() == max {
            next = Some(as_u32(index));
            break;
        }
        resources.push(resource_to_wit(r));
    }
    types::ResourcePage { resources, next }
}

impl SandboxState {
    fn release(&mut self, handle: &Resource<ReleaseHandle>) -> wasmtime::Result<Arc<Release>> {
        Ok(Arc::clone(&self.table().get(handle)?.release))
    }
}

impl types::Host for SandboxState {}

impl input::Host for SandboxState {}

impl input::HostRelease for SandboxState {
    fn summary(
        &mut self,
        handle: Resource<ReleaseHandle>,
    ) -> wasmtime::Result<types::ReleaseSummary> {
        let release = self.release(&handle)?;
        let mut counts = vec![0u32; 6];
        for r in &release.resources {
            let slot = &mut counts[kind_index(r.change_type)];
            *slot = slot.saturating_add(1);
        }
        Ok(types::ReleaseSummary {
            environment_name: release.environment_name.clone(),
            release_stream: release.release_stream.clone(),
            resource_count: as_u32(release.resources.len()),
            counts_by_kind: counts,
            metadata_count: as_u32(release.metadata.len()),
            approval_count: as_u32(release.approvals.len()),
        })
    }

    fn metadata(
        &mut self,
        handle: Resource<ReleaseHandle>,
        key: String,
    ) -> wasmtime::Result<Option<String>> {
        Ok(self.release(&handle)?.metadata.get(&key).cloned())
    }

    fn metadata_entries(
        &mut self,
        handle: Resource<ReleaseHandle>,
    ) -> wasmtime::Result<Vec<(String, String)>> {
        let release = self.release(&handle)?;
        Ok(release
            .metadata
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn approvals(
        &mut self,
        handle: Resource<ReleaseHandle>,
    ) -> wasmtime::Result<Vec<types::Approval>> {
        let release = self.release(&handle)?;
        Ok(release
            .approvals
            .iter()
            .map(|a| types::Approval {
                approver: a.approver.clone(),
                groups: a.groups.clone(),
                at: a.at.clone(),
            })
            .collect())
    }

    fn approvers_for(
        &mut self,
        handle: Resource<ReleaseHandle>,
        group: String,
    ) -> wasmtime::Result<Vec<String>> {
        let release = self.release(&handle)?;
        let mut approvers: Vec<String> = release
            .approvals
            .iter()
            .filter(|a| a.groups.contains(&group))
            .map(|a| a.approver.clone())
            .collect();
        approvers.sort_unstable();
        approvers.dedup();
        Ok(approvers)
    }

    fn resource_at(
        &mut self,
        handle: Resource<ReleaseHandle>,
        index: u32,
    ) -> wasmtime::Result<Option<types::ResourceChange>> {
        let release = self.release(&handle)?;
        Ok(release.resources.get(index as usize).map(resource_to_wit))
    }

    fn resources(
        &mut self,
        handle: Resource<ReleaseHandle>,
        start: u32,
        max: u32,
    ) -> wasmtime::Result<types::ResourcePage> {
        let release = self.release(&handle)?;
        Ok(page(&release, start, max, |_| true))
    }

    fn find_resources(
        &mut self,
        handle: Resource<ReleaseHandle>,
        filter: types::ResourceFilter,
        start: u32,
        max: u32,
    ) -> wasmtime::Result<types::ResourcePage> {
        let release = self.release(&handle)?;
        Ok(page(&release, start, max, |r| selects(&filter, r)))
    }

    fn count_matching(
        &mut self,
        handle: Resource<ReleaseHandle>,
        filter: types::ResourceFilter,
    ) -> wasmtime::Result<u32> {
        let release = self.release(&handle)?;
        Ok(as_u32(
            release
                .resources
                .iter()
                .filter(|r| selects(&filter, r))
                .count(),
        ))
    }

    fn drop(&mut self, handle: Resource<ReleaseHandle>) -> wasmtime::Result<()> {
        self.table().delete(handle)?;
        Ok(())
    }
}

impl host::Host for SandboxState {
    fn log(&mut self, level: host::Level, message: String) -> wasmtime::Result<()> {
        let level = match level {
            host::Level::Debug => LogLevel::Debug,
            host::Level::Info => LogLevel::Info,
            host::Level::Warn => LogLevel::Warn,
            host::Level::Error => LogLevel::Error,
        };
        self.logs.push(level, &message);
        Ok(())
    }

    fn now(&mut self) -> wasmtime::Result<i64> {
        Ok(self.now_seconds())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn release(kinds: &[ChangeKind]) -> Release {
        Release {
            environment_name: "prod".into(),
            release_stream: "PROD".into(),
            resources: kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| ResourceChange {
                    resource_type: if i % 2 == 0 { "mysql" } else { "redis" }.into(),
                    resource_name: format!("r{i}"),
                    resource_path: format!("db/r{i}"),
                    change_type: *kind,
                    attributes: BTreeMap::new(),
                })
                .collect(),
            metadata: BTreeMap::new(),
            approvals: Vec::new(),
        }
    }

    fn paths(page: &types::ResourcePage) -> Vec<&str> {
        page.resources
            .iter()
            .map(|r| r.resource_path.as_str())
            .collect()
    }

    #[test]
    fn pages_follow_input_order_and_say_where_to_go_on() {
        use ChangeKind::*;
        let r = release(&[Delete, Create, Delete, NoOperation, Delete]);
        let first = page(&r, 0, 2, |_| true);
        assert_eq!(paths(&first), ["db/r0", "db/r1"]);
        assert_eq!(first.next, Some(2));
        let rest = page(&r, 2, 10, |_| true);
        assert_eq!(paths(&rest), ["db/r2", "db/r3", "db/r4"]);
        assert_eq!(rest.next, None);
        assert!(page(&r, 99, 10, |_| true).resources.is_empty());
    }

    #[test]
    fn filters_select_by_kind_and_type() {
        use ChangeKind::*;
        let r = release(&[Delete, Create, Delete, NoOperation, Recreate]);
        let destructive = types::ResourceFilter {
            kinds: types::ChangeKinds::DELETE
                | types::ChangeKinds::REPLACE
                | types::ChangeKinds::RECREATE,
            resource_type: None,
        };
        let p = page(&r, 0, 10, |x| selects(&destructive, x));
        assert_eq!(paths(&p), ["db/r0", "db/r2", "db/r4"]);
        let mysql_deletes = types::ResourceFilter {
            kinds: types::ChangeKinds::DELETE,
            resource_type: Some("mysql".into()),
        };
        let p = page(&r, 0, 1, |x| selects(&mysql_deletes, x));
        assert_eq!(paths(&p), ["db/r0"]);
        assert_eq!(p.next, Some(2));
        let none = types::ResourceFilter {
            kinds: types::ChangeKinds::empty(),
            resource_type: None,
        };
        assert!(page(&r, 0, 10, |x| selects(&none, x)).resources.is_empty());
    }

    #[test]
    fn a_page_never_exceeds_the_cap() {
        let r = release(&vec![ChangeKind::Create; MAX_PAGE as usize + 5]);
        let p = page(&r, 0, u32::MAX, |_| true);
        assert_eq!(p.resources.len(), MAX_PAGE as usize);
        assert_eq!(p.next, Some(MAX_PAGE));
    }
}
