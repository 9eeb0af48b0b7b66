"""The release under decision, with the questions gate logic asks all the
time (the Rust SDK's `Release` and `ResourceChange` helpers).

Under `gatehouse:policy@0.2.0` the release stays in the host: `evaluate`
receives a `Release` whose environment, stream and counts come with it and
whose lists (`resources`, `metadata`, `approvals`) are read from the host the
first time the policy looks at them. The helpers below ask the host for what
they need: `changes_of_kind`, `changes_of_kinds`, `destructive_changes`,
`changed_resources` and `resources_of_type` fetch only the resources they
select (filtered in the host), `count_by_kind` and `resource_count` none,
`metadata` and `approvers_for` one lookup. A policy that never looks at
resources never pays for them. The helpers also take any object with the
same attributes (a `Release` built from lists, for unit tests).

Change kinds are named by their Facets spelling: `CREATE`, `DELETE`,
`UPDATE_IN_PLACE`, `REPLACE`, `RECREATE`, `NO_OPERATION`.
"""

from collections.abc import Iterable
from typing import Any

from . import glob
from .text import ascii_lower, trim

CHANGE_KINDS = ("CREATE", "DELETE", "UPDATE_IN_PLACE", "REPLACE", "RECREATE", "NO_OPERATION")
"""Every change kind, in the order of the WIT enum."""

DESTRUCTIVE_KINDS = ("DELETE", "REPLACE", "RECREATE")
"""Kinds that destroy an existing object."""

BATCH = 4096
"""Resources asked for per host call; the host may cap a page lower."""


class Release:
    """The release change under decision: `environment_name`,
    `release_stream`, and the lists `resources` (each a `ResourceChange` of
    the generated bindings), `metadata` (key / value pairs sorted by key) and
    `approvals`, each read from the host on first use.

    `Release("prod", "PROD", resources=[...])` builds one from lists, for
    unit tests of gate logic; `evaluate` receives one read from the host."""

    def __init__(
        self,
        environment_name: str = "",
        release_stream: str = "",
        resources: Iterable[Any] = (),
        metadata: Iterable[tuple[str, str]] = (),
        approvals: Iterable[Any] = (),
    ) -> None:
        self.environment_name = environment_name
        """The target environment, e.g. `prod-eu`."""
        self.release_stream = release_stream
        """The release stream, e.g. `PROD`, `QA`."""
        self._host: Any = None
        self._types: Any = None
        self._counts: list[int] | None = None
        self._resources: list[Any] | None = list(resources)
        self._metadata: list[tuple[str, str]] | None = list(metadata)
        self._approvals: list[Any] | None = list(approvals)
        self._selections: dict[tuple[frozenset[str], str | None], list[Any]] = {}

    @staticmethod
    def from_host(handle: Any, types: Any = None) -> "Release":
        """The release behind the host's borrowed handle (`input.Release` of
        the bindings), as `export` hands it to `evaluate`: the summary now,
        everything else on first use. Valid for the `evaluate` call only.
        `types` is the bindings' `types` module (imported when not given)."""
        if types is None:
            from wit_world.imports import types
        summary = handle.summary()
        release = Release(summary.environment_name, summary.release_stream)
        release._host = handle
        release._types = types
        release._counts = list(summary.counts_by_kind)
        release._resources = release._metadata = release._approvals = None
        return release

    @property
    def resources(self) -> list[Any]:
        """Every resource the release touches, in input order."""
        if self._resources is None:
            self._resources = self._pages(lambda start: self._host.resources(start, BATCH))
        return self._resources

    @property
    def metadata(self) -> list[tuple[str, str]]:
        """Free-form context from the pipeline (commit, author, ...), sorted by key."""
        if self._metadata is None:
            self._metadata = list(self._host.metadata_entries())
        return self._metadata

    @property
    def approvals(self) -> list[Any]:
        """Approvals already recorded for this release, in input order."""
        if self._approvals is None:
            self._approvals = list(self._host.approvals())
        return self._approvals

    def counts(self) -> list[int]:
        """How many resources change in each way, in `CHANGE_KINDS` order
        (six numbers; from the host when it said)."""
        if self._counts is not None:
            return list(self._counts)
        counts = [0] * len(CHANGE_KINDS)
        for r in self.resources:
            counts[CHANGE_KINDS.index(kind_name(r.change))] += 1
        return counts

    def select(self, kinds: Iterable[str], resource_type: str | None = None) -> list[Any]:
        """Resources whose change is one of `kinds` (Facets spellings) and,
        when given, whose type is exactly `resource_type`, in input order:
        filtered in the host while the whole list has not been read."""
        wanted = _kinds(kinds)
        if self._resources is not None:
            return [
                r
                for r in self._resources
                if kind_name(r.change) in wanted
                and (resource_type is None or r.resource_type == resource_type)
            ]
        key = (wanted, resource_type)
        if key not in self._selections:
            self._selections[key] = self._query(wanted, resource_type)
        return self._selections[key]

    def metadata_value(self, key: str) -> str | None:
        """A metadata value (`commit`): one host lookup, or from the list once read."""
        if self._metadata is None:
            return self._host.metadata(key)
        return next((v for k, v in self._metadata if k == key), None)

    def approvers(self, group: str) -> list[str]:
        """Approvers who signed for `group`, each once, sorted."""
        if self._approvals is None:
            return list(self._host.approvers_for(group))
        return sorted({a.approver for a in self._approvals if group in a.groups})

    def _pages(self, page: Any) -> list[Any]:
        """Follows a paged query of the host to its end."""
        items: list[Any] = []
        start = 0
        while True:
            result = page(start)
            items.extend(result.resources)
            if result.next is None or result.next <= start:
                return items
            start = result.next

    def _query(self, kinds: frozenset[str], resource_type: str | None) -> list[Any]:
        """The resources of a filter, selected by the host."""
        # The flags' values are 1, 2, 4, ... in `CHANGE_KINDS` order, as the WIT declares them.
        value = 0
        for kind in kinds:
            value |= 1 << CHANGE_KINDS.index(kind)
        flags = self._types.ChangeKinds(value)
        query = self._types.ResourceFilter(kinds=flags, resource_type=resource_type)
        return self._pages(lambda start: self._host.find_resources(query, start, BATCH))

    def __repr__(self) -> str:
        return f"Release({self.environment_name!r}, {self.release_stream!r})"


def prepare(types: Any) -> None:
    """Makes every combination of the bindings' `ChangeKinds` flags once.
    `export` calls it when the app module is imported, which componentize-py
    does at build time and keeps in the component, so a host-side query
    at evaluation time finds its flags made (Python's `Flag` builds a
    combination the first time it is asked for, which costs more fuel than
    the query itself on a small release)."""
    for value in range(1 << len(CHANGE_KINDS)):
        types.ChangeKinds(value)


def _kinds(kinds: Iterable[str]) -> frozenset[str]:
    """The kinds as a set; a name that is no change kind is a bug in the policy."""
    wanted = frozenset(kinds)
    unknown = sorted(wanted.difference(CHANGE_KINDS))
    if unknown:
        raise ValueError(
            f"unknown change kind {unknown[0]!r}; expected one of {', '.join(CHANGE_KINDS)} "
            "(releases.parse_change_kind reads any case)"
        )
    return wanted


def _selected(release: Any, kinds: Iterable[str], resource_type: str | None = None) -> list[Any]:
    """`Release.select` on a `Release`, the same filter on any other record."""
    if isinstance(release, Release):
        return release.select(kinds, resource_type)
    wanted = _kinds(kinds)
    return [
        r
        for r in release.resources
        if kind_name(r.change) in wanted
        and (resource_type is None or r.resource_type == resource_type)
    ]


def kind_name(change: Any) -> str:
    """The Facets spelling of a change kind (a `ChangeKind` of the bindings,
    or already a name): `ChangeKind.UPDATE_IN_PLACE` is `UPDATE_IN_PLACE`."""
    return change if isinstance(change, str) else change.name


def parse_change_kind(text: str) -> str | None:
    """The Facets spelling (`DELETE`, `update_in_place`, ...), ignoring ASCII
    case and surrounding white space; None when it is no change kind."""
    wanted = ascii_lower(trim(text))
    return next((k for k in CHANGE_KINDS if ascii_lower(k) == wanted), None)


def label(resource: Any) -> str:
    """A short human label, `type 'name' (path)`, for reasons and logs."""
    return f"{resource.resource_type} '{resource.resource_name}' ({resource.resource_path})"


def attribute(resource: Any, key: str) -> str | None:
    """The value of a source attribute of a resource, e.g. `terraform.actions`."""
    return next((v for k, v in resource.attributes if k == key), None)


def changes_of_kind(release: Any, kind: str) -> list[Any]:
    """Resources changed in exactly this way (`DELETE`)."""
    return _selected(release, [kind])


def changes_of_kinds(release: Any, kinds: Iterable[str]) -> list[Any]:
    """Resources changed in any of these ways (`["DELETE", "REPLACE"]`), in input order."""
    return _selected(release, kinds)


def changed_resources(release: Any) -> list[Any]:
    """Resources that really change (everything but NO_OPERATION)."""
    return _selected(release, CHANGE_KINDS[:-1])


def destructive_changes(release: Any) -> list[Any]:
    """Resources deleted, replaced or recreated."""
    return _selected(release, DESTRUCTIVE_KINDS)


def resource_count(release: Any) -> int:
    """How many resources the release touches (from the host's counts)."""
    if isinstance(release, Release):
        return sum(release.counts())
    return len(release.resources)


def count_by_kind(release: Any) -> list[tuple[str, int]]:
    """How many resources change in each way, in `CHANGE_KINDS` order, leaving
    out kinds with no resource: `[("CREATE", 1), ("DELETE", 2)]`."""
    if isinstance(release, Release):
        counts = release.counts()
    else:
        counts = [0] * len(CHANGE_KINDS)
        for r in release.resources:
            counts[CHANGE_KINDS.index(kind_name(r.change))] += 1
    return [(k, n) for k, n in zip(CHANGE_KINDS, counts, strict=True) if n > 0]


def resources_of_type(release: Any, resource_type: str) -> list[Any]:
    """Resources of one type, compared exactly (`mysql`)."""
    return _selected(release, CHANGE_KINDS, resource_type)


def resources_matching(release: Any, pattern: str) -> list[Any]:
    """Resources whose path matches a glob (`datastores/**`); reads every resource."""
    return [r for r in release.resources if glob.matches(pattern, r.resource_path)]


def resources_of_types(release: Any, patterns: Iterable[str]) -> list[Any]:
    """Resources whose type matches any of the globs (`aws_db_*`); reads every resource."""
    patterns = list(patterns)
    return [r for r in release.resources if glob.matches_any(patterns, r.resource_type)]


def metadata(release: Any, key: str) -> str | None:
    """A metadata value of the release, e.g. `commit`."""
    if isinstance(release, Release):
        return release.metadata_value(key)
    return next((v for k, v in release.metadata if k == key), None)


def approvers_for(release: Any, group: str) -> list[str]:
    """Approvals given for a group, each approver once, sorted."""
    if isinstance(release, Release):
        return release.approvers(group)
    return sorted({a.approver for a in release.approvals if group in a.groups})
