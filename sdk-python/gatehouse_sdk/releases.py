"""The release under decision, with the questions gate logic asks all the
time (the Rust SDK's `Release` and `ResourceChange` helpers), as functions on
the `Release` and `ResourceChange` records of the generated bindings.

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
    return [r for r in release.resources if kind_name(r.change) == kind]


def changed_resources(release: Any) -> list[Any]:
    """Resources that really change (everything but NO_OPERATION)."""
    return [r for r in release.resources if kind_name(r.change) != "NO_OPERATION"]


def destructive_changes(release: Any) -> list[Any]:
    """Resources deleted, replaced or recreated."""
    return [r for r in release.resources if kind_name(r.change) in DESTRUCTIVE_KINDS]


def count_by_kind(release: Any) -> list[tuple[str, int]]:
    """How many resources change in each way, in `CHANGE_KINDS` order, leaving
    out kinds with no resource: `[("CREATE", 1), ("DELETE", 2)]`."""
    counts = {k: 0 for k in CHANGE_KINDS}
    for r in release.resources:
        counts[kind_name(r.change)] += 1
    return [(k, n) for k, n in counts.items() if n > 0]


def resources_of_type(release: Any, resource_type: str) -> list[Any]:
    """Resources of one type, compared exactly (`mysql`)."""
    return [r for r in release.resources if r.resource_type == resource_type]


def resources_matching(release: Any, pattern: str) -> list[Any]:
    """Resources whose path matches a glob (`datastores/**`)."""
    return [r for r in release.resources if glob.matches(pattern, r.resource_path)]


def resources_of_types(release: Any, patterns: Iterable[str]) -> list[Any]:
    """Resources whose type matches any of the globs (`aws_db_*`)."""
    patterns = list(patterns)
    return [r for r in release.resources if glob.matches_any(patterns, r.resource_type)]


def metadata(release: Any, key: str) -> str | None:
    """A metadata value of the release, e.g. `commit`."""
    return next((v for k, v in release.metadata if k == key), None)


def approvers_for(release: Any, group: str) -> list[str]:
    """Approvals given for a group, each approver once, sorted."""
    return sorted({a.approver for a in release.approvals if group in a.groups})
