"""Unit tests of the SDK's helpers that need no component: time, decisions,
release helpers. Run with the host's Python: `python3 sdk-python/tests/test_sdk.py`."""

import pathlib
import sys
import unittest
from types import SimpleNamespace as Record

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

from gatehouse_sdk import Decision, Reason, Timestamp, releases  # noqa: E402
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


if __name__ == "__main__":
    unittest.main()
