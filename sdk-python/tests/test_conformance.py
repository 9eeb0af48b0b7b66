"""The cases in sdk/conformance/ that the Rust, Python and JavaScript SDKs must
answer alike, byte for byte. Run from the repository root with the host's
Python (tests/tests/sdk_conformance.rs does):

    python3 sdk-python/tests/test_conformance.py
"""

import json
import pathlib
import sys
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "sdk-python"))

from gatehouse_sdk import (  # noqa: E402
    DailyHours,
    Settings,
    SettingsError,
    Timestamp,
    UtcOffset,
    WeeklyWindow,
    glob,
    parse_weekdays,
)

CONFORMANCE = ROOT / "sdk" / "conformance"


def load(name: str):
    path = CONFORMANCE / name
    if not path.is_file():
        raise AssertionError(f"{path} is missing: the shared cases are part of the repository")
    return json.loads(path.read_text(encoding="utf-8"))


def call(settings: Settings, getter: str, key: str, *args: int):
    """One getter call as the conformance files write its result."""
    methods = {
        "str": settings.get_str,
        "require_str": settings.require_str,
        "u32": settings.get_u32,
        "u32_at_least": settings.get_u32_at_least,
        "u64": settings.get_u64,
        "i64": settings.get_i64,
        "bool": settings.get_bool,
        "list": settings.get_list,
        "non_empty_list": settings.get_non_empty_list,
        "date": settings.get_date,
        "date_range": settings.get_date_range,
        "date_ranges": settings.get_date_ranges,
        "utc_offset": settings.get_utc_offset,
        "duration": settings.get_duration,
        "weekdays": settings.get_weekdays,
        "daily_hours": settings.get_daily_hours,
    }
    try:
        value = methods[getter](key, *args)
    except SettingsError as e:
        return {"error": str(e)}
    if value is None:
        return {"ok": None}
    if getter in ("u64", "i64", "date", "date_range", "utc_offset", "daily_hours"):
        value = str(value)
    if getter == "date_ranges":
        value = [str(r) for r in value]
    if getter == "duration":
        value = int(value.total_seconds())
    if getter == "weekdays":
        value = [str(day) for day in value]
    return {"ok": value}


def timestamp(text: str) -> Timestamp:
    t = Timestamp.parse_rfc3339(text)
    if t is None:
        raise ValueError(f"not RFC 3339: {text!r}")
    return t


class Conformance(unittest.TestCase):
    def test_settings(self) -> None:
        self.run_cases(load("settings.json"), 30)

    def test_dates(self) -> None:
        self.run_cases(load("dates.json"), 10)

    def test_durations(self) -> None:
        self.run_cases(load("durations.json"), 15)

    def test_windows(self) -> None:
        data = load("windows.json")
        self.run_cases(data["settings"], 20)
        cases = data["windows"]
        self.assertGreaterEqual(len(cases), 8)
        for index, case in enumerate(cases):
            spec = case["window"]
            window = WeeklyWindow(
                parse_weekdays(spec["days"]),
                DailyHours.parse(spec["hours"]),
                UtcOffset.parse(spec["offset"]),
            )
            now = timestamp(case["now"])
            self.assertEqual(window.is_open(now), case["open"], f"window {index}: open")
            self.assertEqual(
                str(window.next_opening(now)), case["next_opening"], f"window {index}: next"
            )

    def run_cases(self, cases: list, at_least: int) -> None:
        self.assertGreaterEqual(len(cases), 1)
        calls = sum(len(case["calls"]) for case in cases)
        self.assertGreaterEqual(calls, at_least, "getter calls in the file")
        for index, case in enumerate(cases):
            settings = Settings([tuple(pair) for pair in case["settings"]])
            for c, expected in zip(case["calls"], case["results"], strict=True):
                self.assertEqual(call(settings, *c), expected, f"case {index}, call {c}")
            try:
                settings.reject_unknown()
                unknown = None
            except SettingsError as e:
                unknown = str(e)
            self.assertEqual(unknown, case["unknown"], f"case {index}: reject_unknown")

    def test_globs(self) -> None:
        cases = load("globs.json")
        self.assertGreaterEqual(len(cases), 50)
        for pattern, text, expected in cases:
            self.assertEqual(glob.matches(pattern, text), expected, f"{pattern!r} {text!r}")


if __name__ == "__main__":
    unittest.main()
