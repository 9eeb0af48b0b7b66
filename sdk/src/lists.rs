//! The release's lists, read from the host only when first used.
//!
//! Under `gatehouse:policy@0.2.0` the release stays in the host: a list is
//! fetched (in batches, once) the first time the policy looks at it, and
//! [`Resources`] answers the filtered questions (changes of some kinds,
//! destructive changes, changed resources, resources of one type) with a
//! host-side query that copies only the selected resources. Built from a `Vec` (unit tests,
//! `gatehouse:policy@0.1.0`) a list simply holds it.

use crate::bindings::gatehouse::policy::types::{Approval, ChangeKind, ResourceChange};
use std::cell::OnceCell;
use std::ops::Deref;

/// The host's handle on the release under decision, valid for the length of
/// one `evaluate` call (the only time a policy sees a release read from the host).
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source(pub(crate) u32);

/// How a list is read from the host; sealed, implemented for the element
/// types of the release's lists.
pub trait Fetch: Sized + sealed::Sealed {
    /// Every element of this list of the release behind `source`.
    #[doc(hidden)]
    fn fetch(source: Source) -> Vec<Self>;
}

mod sealed {
    /// Keeps [`super::Fetch`] implemented by this crate only.
    pub trait Sealed {}
    impl Sealed for super::ResourceChange {}
    impl Sealed for super::Approval {}
    impl Sealed for (String, String) {}
}

/// A list of the release (metadata, approvals, resources): a slice once read.
/// Build one from a `Vec` or with `collect()`; it dereferences to `[T]`.
pub struct HostList<T> {
    items: OnceCell<Vec<T>>,
    source: Option<Source>,
}

impl<T> HostList<T> {
    /// A list read from the host on first use.
    #[cfg_attr(feature = "wit-0-1", allow(dead_code))]
    pub(crate) fn from_host(source: Source) -> Self {
        HostList {
            items: OnceCell::new(),
            source: Some(source),
        }
    }

    /// True once the elements are here (built from a `Vec`, or read).
    pub(crate) fn is_read(&self) -> bool {
        self.items.get().is_some()
    }

    /// Where the list is read from, while it has not been read yet.
    pub(crate) fn pending_source(&self) -> Option<Source> {
        if self.is_read() { None } else { self.source }
    }
}

impl<T: Fetch> Deref for HostList<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.items.get_or_init(|| match self.source {
            Some(source) => T::fetch(source),
            None => Vec::new(),
        })
    }
}

impl<T> Default for HostList<T> {
    fn default() -> Self {
        HostList::from(Vec::new())
    }
}

impl<T> From<Vec<T>> for HostList<T> {
    fn from(items: Vec<T>) -> Self {
        HostList {
            items: OnceCell::from(items),
            source: None,
        }
    }
}

impl<T> FromIterator<T> for HostList<T> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        HostList::from(iter.into_iter().collect::<Vec<T>>())
    }
}

/// A clone holds the elements (reading them first if needed), so it stays
/// usable after the evaluation that produced it.
impl<T: Fetch + Clone> Clone for HostList<T> {
    fn clone(&self) -> Self {
        HostList::from(self.deref().to_vec())
    }
}

impl<T: Fetch + std::fmt::Debug> std::fmt::Debug for HostList<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T: Fetch + PartialEq> PartialEq for HostList<T> {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl<T: Fetch + Eq> Eq for HostList<T> {}

impl<'a, T: Fetch> IntoIterator for &'a HostList<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// Which resources a host-side query selects: a set of change kinds and,
/// optionally, one exact resource type (the WIT `resource-filter`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Selection<'a> {
    /// Bit `kind as usize` set for every kind selected.
    kinds: u8,
    /// Only resources of exactly this type, when given.
    resource_type: Option<&'a str>,
}

impl<'a> Selection<'a> {
    /// Resources changed in one of `kinds` (none selects nothing).
    pub(crate) fn kinds(kinds: impl IntoIterator<Item = ChangeKind>) -> Self {
        Selection {
            kinds: kinds
                .into_iter()
                .fold(0, |set, kind| set | 1 << kind as usize),
            resource_type: None,
        }
    }

    /// Resources of exactly `resource_type`, whatever their change.
    pub(crate) fn of_type(resource_type: &'a str) -> Self {
        Selection {
            resource_type: Some(resource_type),
            ..Selection::kinds(ChangeKind::ALL)
        }
    }

    /// True when the selection includes changes of `kind`.
    pub(crate) fn has_kind(self, kind: ChangeKind) -> bool {
        self.kinds & 1 << kind as usize != 0
    }

    /// True when `r` belongs to the selection.
    pub(crate) fn selects(self, r: &ResourceChange) -> bool {
        self.has_kind(r.change) && self.resource_type.is_none_or(|t| t == r.resource_type)
    }
}

/// The host selections already read, by what they select: an append-only
/// chain of cells, so a slice handed out stays valid while later questions
/// add selections. A policy asks a handful of questions, so a walk is cheap.
#[derive(Default)]
struct Selections {
    /// One selection's key (kind bits, type) and resources.
    entry: OnceCell<(u8, Option<String>, Vec<ResourceChange>)>,
    /// The selections added after this one.
    next: OnceCell<Box<Selections>>,
}

impl Selections {
    /// The resources of `selection`, read with `fetch` the first time.
    fn get_or_fetch(
        &self,
        selection: Selection<'_>,
        fetch: impl FnOnce() -> Vec<ResourceChange>,
    ) -> &[ResourceChange] {
        let mut node = self;
        loop {
            match node.entry.get() {
                None => {
                    let entry = node.entry.get_or_init(|| {
                        let key = selection.resource_type.map(str::to_string);
                        (selection.kinds, key, fetch())
                    });
                    return &entry.2;
                }
                Some((kinds, resource_type, resources))
                    if *kinds == selection.kinds
                        && resource_type.as_deref() == selection.resource_type =>
                {
                    return resources;
                }
                Some(_) => node = node.next.get_or_init(Box::default),
            }
        }
    }
}

/// The resources a release touches, in input order: a slice once read
/// (`release.resources.iter()`, `.len()`, indexing). Read from the host, the
/// filtered questions of [`crate::Release`] fetch only what they select.
pub struct Resources {
    all: HostList<ResourceChange>,
    /// Per change kind (in [`ChangeKind::ALL`] order), when the host said.
    counts: Option<[u32; 6]>,
    /// Host-side selections already read.
    selected: Selections,
}

impl Resources {
    /// Resources read from the host on first use, with the host's counts.
    #[cfg_attr(feature = "wit-0-1", allow(dead_code))]
    pub(crate) fn from_host(source: Source, counts: [u32; 6]) -> Self {
        Resources {
            all: HostList::from_host(source),
            counts: Some(counts),
            selected: Default::default(),
        }
    }

    /// The resources in `selection`, from the host when the whole list has
    /// not been read, else from the list. Either way the caller filters the
    /// slice with [`Selection::selects`] (a no-op on a host selection).
    pub(crate) fn selection(&self, selection: Selection<'_>) -> &[ResourceChange] {
        match self.all.pending_source() {
            Some(source) => self
                .selected
                .get_or_fetch(selection, || query(source, selection)),
            None => &self.all,
        }
    }

    /// How many resources change in each way, in [`ChangeKind::ALL`] order.
    pub(crate) fn counts(&self) -> [usize; 6] {
        match self.counts {
            Some(counts) => counts.map(|n| n as usize),
            None => {
                let mut counts = [0usize; 6];
                for r in self.all.iter() {
                    counts[r.change as usize] += 1;
                }
                counts
            }
        }
    }
}

impl Deref for Resources {
    type Target = [ResourceChange];

    fn deref(&self) -> &[ResourceChange] {
        &self.all
    }
}

impl Default for Resources {
    fn default() -> Self {
        Resources::from(Vec::new())
    }
}

impl From<Vec<ResourceChange>> for Resources {
    fn from(items: Vec<ResourceChange>) -> Self {
        Resources {
            all: HostList::from(items),
            counts: None,
            selected: Default::default(),
        }
    }
}

impl FromIterator<ResourceChange> for Resources {
    fn from_iter<I: IntoIterator<Item = ResourceChange>>(iter: I) -> Self {
        Resources::from(iter.into_iter().collect::<Vec<_>>())
    }
}

/// A clone holds every resource (reading them first if needed).
impl Clone for Resources {
    fn clone(&self) -> Self {
        Resources::from(self.all.to_vec())
    }
}

impl std::fmt::Debug for Resources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.all.fmt(f)
    }
}

impl PartialEq for Resources {
    fn eq(&self, other: &Self) -> bool {
        self.all == other.all
    }
}

impl Eq for Resources {}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a ResourceChange;
    type IntoIter = std::slice::Iter<'a, ResourceChange>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(not(feature = "wit-0-1"))]
mod host {
    //! Reading the release's lists through the `gatehouse:policy@0.2.0`
    //! accessors.

    use super::{Approval, ChangeKind, Fetch, ResourceChange, Selection, Source};
    use crate::bindings::gatehouse::policy::input::Release;
    use crate::bindings::gatehouse::policy::types::{ChangeKinds, ResourceFilter, ResourcePage};
    use std::mem::ManuallyDrop;

    /// Resources asked for per call; the host may cap a batch lower.
    const BATCH: u32 = 4096;

    /// Runs `read` on the release behind `source`. The handle is borrowed
    /// from the host for the `evaluate` call, so it is never dropped here.
    fn with_release<R>(source: Source, read: impl FnOnce(&Release) -> R) -> R {
        // SAFETY: `source` is the handle of the `borrow<release>` passed to
        // the running `evaluate` (a `Release` only gets a `Source` there).
        // `ManuallyDrop` keeps the borrowed handle from being dropped; used
        // after the call ends, the host rejects it (a trap, never a verdict).
        let release = ManuallyDrop::new(unsafe { Release::from_handle(source.0) });
        read(&release)
    }

    /// Follows a paged query to its end.
    fn all_pages(mut page: impl FnMut(u32) -> ResourcePage) -> Vec<ResourceChange> {
        let mut all = Vec::new();
        let mut start = 0;
        loop {
            let ResourcePage { resources, next } = page(start);
            if all.is_empty() {
                all = resources;
            } else {
                all.extend(resources);
            }
            match next {
                Some(next) if next > start => start = next,
                _ => return all,
            }
        }
    }

    fn flag(kind: ChangeKind) -> ChangeKinds {
        match kind {
            ChangeKind::Create => ChangeKinds::CREATE,
            ChangeKind::Delete => ChangeKinds::DELETE,
            ChangeKind::UpdateInPlace => ChangeKinds::UPDATE_IN_PLACE,
            ChangeKind::Replace => ChangeKinds::REPLACE,
            ChangeKind::Recreate => ChangeKinds::RECREATE,
            ChangeKind::NoOperation => ChangeKinds::NO_OPERATION,
        }
    }

    /// The resources in `selection`, filtered by the host.
    pub(crate) fn query(source: Source, selection: Selection<'_>) -> Vec<ResourceChange> {
        if selection.kinds == 0 {
            return Vec::new();
        }
        let kinds = ChangeKind::ALL
            .into_iter()
            .filter(|kind| selection.has_kind(*kind))
            .fold(ChangeKinds::empty(), |set, kind| set | flag(kind));
        let filter = ResourceFilter {
            kinds,
            resource_type: selection.resource_type.map(str::to_string),
        };
        with_release(source, |release| {
            all_pages(|start| release.find_resources(&filter, start, BATCH))
        })
    }

    impl Fetch for ResourceChange {
        fn fetch(source: Source) -> Vec<Self> {
            with_release(source, |release| {
                all_pages(|start| release.resources(start, BATCH))
            })
        }
    }

    impl Fetch for Approval {
        fn fetch(source: Source) -> Vec<Self> {
            with_release(source, Release::approvals)
        }
    }

    impl Fetch for (String, String) {
        fn fetch(source: Source) -> Vec<Self> {
            with_release(source, Release::metadata_entries)
        }
    }
}

#[cfg(feature = "wit-0-1")]
mod host {
    //! Under `gatehouse:policy@0.1.0` the whole release arrives with
    //! `evaluate`: no list has a host source, so nothing is ever fetched.

    use super::{Approval, Fetch, ResourceChange, Selection, Source};

    pub(crate) fn query(_: Source, _: Selection<'_>) -> Vec<ResourceChange> {
        Vec::new()
    }

    impl Fetch for ResourceChange {
        fn fetch(_: Source) -> Vec<Self> {
            Vec::new()
        }
    }

    impl Fetch for Approval {
        fn fetch(_: Source) -> Vec<Self> {
            Vec::new()
        }
    }

    impl Fetch for (String, String) {
        fn fetch(_: Source) -> Vec<Self> {
            Vec::new()
        }
    }
}

use host::query;

#[cfg(test)]
mod tests {
    use super::*;

    fn change(kind: ChangeKind, ty: &str, path: &str) -> ResourceChange {
        ResourceChange {
            resource_type: ty.into(),
            resource_name: path.into(),
            resource_path: path.into(),
            change: kind,
            attributes: Vec::new(),
        }
    }

    #[test]
    fn selections_match_kinds_and_exact_types() {
        let delete = change(ChangeKind::Delete, "mysql", "a");
        let create = change(ChangeKind::Create, "mysql-replica", "b");
        let kinds = Selection::kinds([ChangeKind::Delete, ChangeKind::Recreate]);
        assert!(kinds.selects(&delete) && !kinds.selects(&create));
        assert!(!Selection::kinds([]).selects(&delete));
        let mysql = Selection::of_type("mysql");
        assert!(mysql.selects(&delete) && !mysql.selects(&create));
        assert!(ChangeKind::ALL.into_iter().all(|k| mysql.has_kind(k)));
    }

    #[test]
    fn each_selection_is_fetched_once_and_kept_apart() {
        let cache = Selections::default();
        let fetches = std::cell::Cell::new(0);
        let fetch = |path: &str| {
            fetches.set(fetches.get() + 1);
            vec![change(ChangeKind::Delete, "mysql", path)]
        };
        let deletes = Selection::kinds([ChangeKind::Delete]);
        let mysql = Selection::of_type("mysql");
        let redis = Selection::of_type("redis");
        let first = cache.get_or_fetch(deletes, || fetch("deletes"));
        let second = cache.get_or_fetch(mysql, || fetch("mysql"));
        let third = cache.get_or_fetch(redis, || fetch("redis"));
        assert_eq!(fetches.get(), 3);
        // Earlier slices stay valid and answer again without a fetch.
        assert_eq!(first[0].resource_path, "deletes");
        assert_eq!(second[0].resource_path, "mysql");
        assert_eq!(third[0].resource_path, "redis");
        let again = cache.get_or_fetch(mysql, || fetch("never"));
        assert_eq!(again[0].resource_path, "mysql");
        assert_eq!(fetches.get(), 3);
    }
}
