"""Unit tests of the SDK's helpers that need no component: time, decisions,
release helpers (on lists, and read through a stand-in for the host's
release handle), durations and weekly windows. Run with the host's Python:
`python3 sdk-python/tests/test_sdk.py`."""

import pathlib
import sys
import unittest
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum, Flag, auto
from types import SimpleNamespace as Record

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gatehouse_sdk import (  # noqa: E402
    DailyHours,
    Decision,
    ParseError,
    Reason,
    Release,
    Settings,
    SettingsError,
    Timestamp,
    UtcOffset,
    Weekday,
    WeeklyWindow,
    durations,
    parse_duration,
    parse_weekdays,
    releases,
    windows,
)
from gatehouse_sdk.time import parse_weekday  # noqa: E402


class Time(unittest.TestCase):
    def test_timestamps(self) -> None:
        self.assertEqual(str(Timestamp(0)), "1970-01-01T00:00:00Z")
        self.assertEqual(str(Timestamp(1_795_343_405)), "2026-11-22T10:30:05Z")
        self.assertEqual(str(Timestamp(951_782_400)), "2000-02-29T00:00:00Z")
        self.assertEqual(str(Timestamp(-1)), "1969-12-31T23:59:59Z")
        self.assertEqual(Timestamp(1_795_343_405).civil().weekday, 6)
        monday = Timestamp(1_795_390_200).civil(60)
        self.assertEqual((monday.weekday, monday.hour, monday.minute), (0, 0, 30))
        parsed = Timestamp.parse_rfc3339("2026-11-22T11:30:05.123+01:00")
        self.assertEqual(parsed, Timestamp(1_795_343_405))
        for bad in ["2026-02-30T00:00:00Z", "2026-11-22T10:30:05", "2026-11-22T25:00:00Z", "x"]:
            self.assertIsNone(Timestamp.parse_rfc3339(bad), bad)
        self.assertEqual(parse_weekday("Thurs"), 3)
        self.assertIsNone(parse_weekday("mo"))
        self.assertIsNone(parse_weekday("Moon"))


class Decisions(unittest.TestCase):
    def test_builders(self) -> None:
        d = (
            Decision.require_approval("a")
            .because("b")
            .from_groups(["dba"])
            .min_approvals(0)
            .instructions("check")
        )
        self.assertEqual(d.reasons, [Reason("a"), Reason("b")])
        self.assertEqual((d.approver_groups, d.required_approvals), (["dba"], 1))
        self.assertEqual(d.instructions_text, "check")
        f = Decision.fail("x").from_groups(["dba"]).min_approvals(3)
        self.assertEqual((f.verdict, f.approver_groups, f.required_approvals), ("fail", [], 1))
        self.assertIsNone(Decision.require_approval_for([]))
        about = Reason.about(Record(resource_path="db/a"), "gone")
        self.assertEqual(about, Reason("gone", "db/a"))


class Releases(unittest.TestCase):
    def test_helpers(self) -> None:
        def r(change: str, kind: str, path: str) -> Record:
            return Record(
                change=Record(name=change),
                resource_type=kind,
                resource_path=path,
                resource_name="n",
                attributes=[("k", "v")],
            )

        release = Record(
            resources=[
                r("DELETE", "mysql", "db/a"),
                r("CREATE", "svc", "svc/b"),
                r("DELETE", "mysql", "db/eu/c"),
                r("NO_OPERATION", "s3", "b/d"),
            ],
            metadata=[("commit", "abc")],
            approvals=[
                Record(approver="bob", groups=["dba"]),
                Record(approver="ann", groups=["dba", "sre"]),
                Record(approver="bob", groups=["dba"]),
            ],
        )
        self.assertEqual(
            releases.count_by_kind(release), [("CREATE", 1), ("DELETE", 2), ("NO_OPERATION", 1)]
        )
        self.assertEqual(len(releases.changes_of_kind(release, "DELETE")), 2)
        self.assertEqual(len(releases.changed_resources(release)), 3)
        self.assertEqual(len(releases.destructive_changes(release)), 2)
        self.assertEqual(len(releases.resources_of_type(release, "mysql")), 2)
        self.assertEqual(len(releases.resources_of_types(release, ["my*", "s?"])), 3)
        self.assertEqual(len(releases.resources_matching(release, "db/*")), 1)
        self.assertEqual(len(releases.resources_matching(release, "db/**")), 2)
        self.assertEqual(releases.metadata(release, "commit"), "abc")
        self.assertEqual(releases.attribute(release.resources[0], "k"), "v")
        self.assertEqual(releases.approvers_for(release, "dba"), ["ann", "bob"])
        self.assertEqual(releases.parse_change_kind(" update_in_place "), "UPDATE_IN_PLACE")
        self.assertIsNone(releases.parse_change_kind("DESTROY"))


class ChangeKind(Enum):
    """The bindings' `types.ChangeKind`, as componentize-py generates it."""

    CREATE = 0
    DELETE = 1
    UPDATE_IN_PLACE = 2
    REPLACE = 3
    RECREATE = 4
    NO_OPERATION = 5


class ChangeKinds(Flag):
    """The bindings' `types.ChangeKinds`, as componentize-py generates it."""

    CREATE = auto()
    DELETE = auto()
    UPDATE_IN_PLACE = auto()
    REPLACE = auto()
    RECREATE = auto()
    NO_OPERATION = auto()


@dataclass
class ResourceFilter:
    kinds: ChangeKinds
    resource_type: str | None


TYPES = Record(ChangeKinds=ChangeKinds, ResourceFilter=ResourceFilter)


class HostRelease:
    """Answers the `release` resource's accessors as the host does (pages
    capped at `cap`, `next` an index into the resources), recording each
    call, so the tests see what the SDK asks for."""

    def __init__(self, resources: list, cap: int = 2) -> None:
        self.items = resources
        self.cap = cap
        self.calls: list[str] = []

    def summary(self) -> Record:
        self.calls.append("summary")
        counts = [sum(1 for r in self.items if r.change == k) for k in ChangeKind]
        return Record(
            environment_name="prod-eu",
            release_stream="PROD",
            resource_count=len(self.items),
            counts_by_kind=counts,
            metadata_count=2,
            approval_count=2,
        )

    def _page(self, start: int, size: int, keep) -> Record:
        size = min(size, self.cap)
        out, i = [], start
        while i < len(self.items) and len(out) < size:
            if keep(self.items[i]):
                out.append(self.items[i])
            i += 1
        more = any(keep(r) for r in self.items[i:])
        return Record(resources=out, next=i if more else None)

    def resources(self, start: int, size: int) -> Record:
        self.calls.append(f"resources {start}")
        return self._page(start, size, lambda r: True)

    def find_resources(self, query: ResourceFilter, start: int, size: int) -> Record:
        kinds = sorted(k.name for k in ChangeKind if ChangeKinds[k.name] & query.kinds)
        self.calls.append(f"find {','.join(kinds)} {query.resource_type} {start}")
        return self._page(
            start,
            size,
            lambda r: r.change.name in kinds
            and (query.resource_type is None or r.resource_type == query.resource_type),
        )

    def metadata(self, key: str) -> str | None:
        self.calls.append(f"metadata {key}")
        return {"commit": "abc"}.get(key)

    def metadata_entries(self) -> list:
        self.calls.append("metadata-entries")
        return [("author", "ann"), ("commit", "abc")]

    def approvals(self) -> list:
        self.calls.append("approvals")
        return [Record(approver="bob", groups=["dba"]), Record(approver="ann", groups=["dba"])]

    def approvers_for(self, group: str) -> list:
        self.calls.append(f"approvers-for {group}")
        return ["ann", "bob"] if group == "dba" else []


def change(kind: str, resource_type: str, path: str) -> Record:
    return Record(
        change=ChangeKind[kind],
        resource_type=resource_type,
        resource_path=path,
        resource_name=path.rsplit("/", 1)[-1],
        attributes=[],
    )


class HostReads(unittest.TestCase):
    """`Release.from_host`: what a policy reads, and only that, is asked of the host."""

    def setUp(self) -> None:
        self.host = HostRelease(
            [
                change("DELETE", "mysql", "db/a"),
                change("CREATE", "svc", "svc/b"),
                change("NO_OPERATION", "s3", "b/c"),
                change("REPLACE", "mysql", "db/d"),
                change("DELETE", "s3", "b/e"),
            ]
        )
        self.release = Release.from_host(self.host, TYPES)

    def test_the_summary_alone_answers_counts(self) -> None:
        r = self.release
        self.assertEqual((r.environment_name, r.release_stream), ("prod-eu", "PROD"))
        self.assertEqual(
            releases.count_by_kind(r),
            [("CREATE", 1), ("DELETE", 2), ("REPLACE", 1), ("NO_OPERATION", 1)],
        )
        self.assertEqual(releases.resource_count(r), 5)
        self.assertEqual(self.host.calls, ["summary"])

    def test_selections_are_filtered_in_the_host_and_paged(self) -> None:
        r = self.release
        paths = [x.resource_path for x in releases.destructive_changes(r)]
        self.assertEqual(paths, ["db/a", "db/d", "b/e"])
        self.assertEqual(
            self.host.calls[1:],
            ["find DELETE,RECREATE,REPLACE None 0", "find DELETE,RECREATE,REPLACE None 4"],
        )
        releases.destructive_changes(r)
        self.assertEqual(len(self.host.calls), 3, "a selection is read once")
        self.assertEqual(
            [x.resource_path for x in releases.resources_of_type(r, "s3")], ["b/c", "b/e"]
        )
        self.assertTrue(self.host.calls[-1].endswith(" s3 0"), self.host.calls)
        self.assertEqual(len(releases.changed_resources(r)), 4)
        self.assertEqual(
            [x.resource_path for x in releases.changes_of_kinds(r, ["CREATE", "REPLACE"])],
            ["svc/b", "db/d"],
        )
        self.assertNotIn("resources 0", self.host.calls, "never every resource")

    def test_lists_are_read_once_in_pages_and_then_answer_everything(self) -> None:
        r = self.release
        self.assertEqual(len(r.resources), 5)
        self.assertEqual(
            self.host.calls, ["summary", "resources 0", "resources 2", "resources 4"]
        )
        self.assertEqual(len(releases.changes_of_kind(r, "DELETE")), 2)
        self.assertEqual(len(releases.resources_matching(r, "db/*")), 2)
        self.assertEqual(len(self.host.calls), 4, "selections come from the list once read")

    def test_metadata_and_approvers_are_looked_up(self) -> None:
        r = self.release
        self.assertEqual(releases.metadata(r, "commit"), "abc")
        self.assertEqual(releases.approvers_for(r, "dba"), ["ann", "bob"])
        self.assertEqual(self.host.calls[1:], ["metadata commit", "approvers-for dba"])
        self.assertEqual(r.metadata, [("author", "ann"), ("commit", "abc")])
        self.assertEqual(len(r.approvals), 2)
        self.assertEqual(self.host.calls[3:], ["metadata-entries", "approvals"])
        self.assertEqual(releases.metadata(r, "author"), "ann")
        self.assertEqual(releases.approvers_for(r, "dba"), ["ann", "bob"])
        self.assertEqual(len(self.host.calls), 5, "answered from the lists once read")

    def test_a_misspelt_kind_is_a_bug_not_an_empty_list(self) -> None:
        with self.assertRaisesRegex(ValueError, "unknown change kind 'delete'"):
            releases.changes_of_kind(self.release, "delete")
        with self.assertRaisesRegex(ValueError, "unknown change kind"):
            releases.changes_of_kind(Release("p", "s"), "DESTROY")

    def test_a_release_from_lists_answers_alike(self) -> None:
        local = Release("prod-eu", "PROD", resources=self.host.items, metadata=[("commit", "x")])
        self.assertEqual(releases.count_by_kind(local), releases.count_by_kind(self.release))
        for kinds in (["DELETE"], releases.DESTRUCTIVE_KINDS, ["NO_OPERATION", "CREATE"]):
            self.assertEqual(
                releases.changes_of_kinds(local, kinds),
                releases.changes_of_kinds(self.release, kinds),
            )
        self.assertEqual(releases.metadata(local, "commit"), "x")
        self.assertEqual(releases.approvers_for(local, "dba"), [])


class Durations(unittest.TestCase):
    def test_every_form_parses(self) -> None:
        for text, seconds in [
            ("90s", 90),
            ("15m", 900),
            ("2h", 7200),
            ("1d", 86400),
            ("1h30m", 5400),
            ("1d12h", 129600),
            ("1d2h3m4s", 93784),
            ("0s", 0),
            ("05m", 300),
            ("36500d", 3_153_600_000),
        ]:
            self.assertEqual(parse_duration(text), timedelta(seconds=seconds), text)
        self.assertEqual(durations.format_duration(timedelta(seconds=93784)), "1d2h3m4s")
        self.assertEqual(durations.format_duration(timedelta(0)), "0s")

    def test_bad_shapes_and_lengths_are_explained(self) -> None:
        for bad in ["", "h", "1x", "1.5h", "-1h", "+1h", "1m1h", "1h1h", " 1h", "1h ", "1H", "1"]:
            with self.assertRaises(ParseError, msg=bad) as e:
                parse_duration(bad)
            self.assertEqual(str(e.exception), durations.bad_duration(bad))
        self.assertEqual(
            durations.bad_duration("1x"),
            "expected a duration such as 90s, 15m, 2h, 1d or 1h30m "
            '(units d, h, m, s, largest first, each once), got "1x"',
        )
        for long in ["36500d1s", "87600001h", "1" + "0" * 29 + "s", "9" * 5000 + "d"]:
            with self.assertRaises(ParseError, msg=long[:20]) as e:
                parse_duration(long)
            self.assertEqual(str(e.exception), durations.too_long(long))
        self.assertEqual(
            durations.too_long("36500d1s"), 'the duration "36500d1s" is longer than 36500 days'
        )
        self.assertEqual(parse_duration("0" * 40 + "1s"), timedelta(seconds=1))

    def test_the_getter_prefixes_the_key(self) -> None:
        s = Settings([("grace", "1h30m"), ("bad", "soon")])
        self.assertEqual(s.get_duration("grace"), timedelta(minutes=90))
        self.assertIsNone(s.get_duration("missing"))
        with self.assertRaises(SettingsError) as e:
            s.get_duration("bad")
        self.assertEqual(str(e.exception), "setting 'bad': " + durations.bad_duration("soon"))
        s.reject_unknown()


def at(text: str) -> Timestamp:
    t = Timestamp.parse_rfc3339(text)
    assert t is not None, text
    return t


def window(days: str, hours: str, offset: str) -> WeeklyWindow:
    return WeeklyWindow(parse_weekdays(days), DailyHours.parse(hours), UtcOffset.parse(offset))


class Windows(unittest.TestCase):
    """The Rust SDK's `windows` unit tests, case for case."""

    def message(self, parse, text: str) -> str:
        with self.assertRaises(ParseError, msg=text) as e:
            parse(text)
        return str(e.exception)

    def test_offsets_parse_and_print(self) -> None:
        self.assertEqual(UtcOffset.parse("+01:00").minutes, 60)
        self.assertEqual(UtcOffset.parse("-05:30").minutes, -330)
        self.assertEqual(UtcOffset.parse("utc"), UtcOffset(0))
        self.assertEqual(str(UtcOffset.parse("+14:00")), "+14:00")
        self.assertEqual(str(UtcOffset.parse("-05:30")), "-05:30")
        for bad in ["CET", "+15:00", "01:00", "+1:60", ""]:
            self.assertEqual(
                self.message(UtcOffset.parse, bad),
                f"expected an offset such as +01:00 or -05:30, got {bad!r}".replace("'", '"'),
            )

    def test_day_lists_wrap_and_explain_errors(self) -> None:
        W = Weekday
        self.assertEqual(parse_weekdays("fri-mon"), [W.MON, W.FRI, W.SAT, W.SUN])
        self.assertEqual(parse_weekdays("wed, Monday,wed"), [W.MON, W.WED])
        self.assertEqual(parse_weekdays("sun-sun"), [W.SUN])
        self.assertEqual(len(parse_weekdays("tue-mon")), 7)
        self.assertEqual([str(d) for d in parse_weekdays("sat,sun")], ["Sat", "Sun"])
        self.assertEqual(
            self.message(parse_weekdays, "funday"),
            'unknown day "funday"; use mon, tue, wed, thu, fri, sat, sun',
        )
        self.assertEqual(
            self.message(parse_weekdays, "mon- fry"),
            'unknown day "fry"; use mon, tue, wed, thu, fri, sat, sun',
        )
        self.assertEqual(self.message(parse_weekdays, " , "), "no days given; e.g. mon-fri")

    def test_hours_parse_and_explain_errors(self) -> None:
        h = DailyHours.parse("9-17:30")
        self.assertEqual((h.start_minute, h.end_minute, h.overnight()), (540, 1050, False))
        self.assertEqual(str(h), "09:00-17:30")
        self.assertTrue(DailyHours.parse("22:00-02:00").overnight())
        self.assertEqual(DailyHours.parse("00:00-24:00").end_minute, 1440)
        for bad, message in [
            ("9", windows.bad_hours("9")),
            ("9:00-9:00", windows.empty_hours("9:00-9:00")),
            ("25:00-26:00", windows.bad_clock("25:00")),
            ("24:00-02:00", windows.start_too_late("24:00")),
            ("9:60-10", windows.bad_clock("9:60")),
            (" 9 - x ", windows.bad_clock("x")),
        ]:
            self.assertEqual(self.message(DailyHours.parse, bad), message)
        self.assertEqual(windows.bad_hours("9"), 'expected START-END such as 09:00-17:00, got "9"')
        self.assertEqual(windows.bad_clock("x"), 'expected a time such as 09:00, got "x"')
        self.assertEqual(windows.start_too_late("24:00"), 'the start "24:00" must be before 24:00')
        self.assertEqual(
            windows.empty_hours("9-9"), 'the window "9-9" is empty; start and end are equal'
        )

    def test_windows_open_close_and_wrap_overnight(self) -> None:
        office = window("mon-thu", "09:00-17:00", "Z")
        self.assertTrue(office.is_open(at("2026-11-23T09:00:00Z")))  # Monday
        self.assertFalse(office.is_open(at("2026-11-23T17:00:00Z")))
        self.assertFalse(office.is_open(at("2026-11-27T10:00:00Z")))  # Friday
        self.assertEqual(office.next_opening(at("2026-11-27T10:00:00Z")), at("2026-11-30T09:00:00Z"))
        self.assertEqual(office.next_opening(at("2026-11-23T06:00:00Z")), at("2026-11-23T09:00:00Z"))
        self.assertEqual(office.next_opening(at("2026-11-23T09:00:00Z")), at("2026-11-24T09:00:00Z"))

        night = window("fri-mon", "22:00-02:00", "+01:00")
        self.assertEqual(str(night), "Mon, Fri, Sat, Sun 22:00-02:00 (UTC+01:00)")
        self.assertTrue(night.is_open(at("2026-11-22T23:30:00Z")))  # Monday 00:30 local
        self.assertTrue(night.is_open(at("2026-11-24T00:00:00Z")))  # Tuesday 01:00 local
        self.assertFalse(night.is_open(at("2026-11-25T00:00:00Z")))  # Wednesday 01:00 local
        self.assertEqual(night.next_opening(at("2026-11-25T00:00:00Z")), at("2026-11-27T21:00:00Z"))

        weekly = window("wed", "10:00-11:00", "-05:30")
        self.assertEqual(weekly.next_opening(at("2026-11-25T15:31:00Z")), at("2026-12-02T15:30:00Z"))

    def test_the_getters_prefix_the_key(self) -> None:
        s = Settings([("days", "mon-fri"), ("hours", "22-2"), ("bad", "9")])
        self.assertEqual(len(s.get_weekdays("days")), 5)
        self.assertTrue(s.get_daily_hours("hours").overnight())
        with self.assertRaises(SettingsError) as e:
            s.get_daily_hours("bad")
        self.assertEqual(str(e.exception), "setting 'bad': " + windows.bad_hours("9"))
        with self.assertRaises(SettingsError) as e:
            s.get_weekdays("bad")
        self.assertEqual(str(e.exception), "setting 'bad': " + windows.unknown_day("9"))
        self.assertIsNone(s.get_weekdays("missing"))
        s.reject_unknown()


if __name__ == "__main__":
    unittest.main()
