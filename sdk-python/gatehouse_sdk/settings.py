"""Typed access to a policy's settings, with errors that name the key and say
what was expected, and detection of keys the policy never reads (typos).

Every message is byte-identical to the Rust SDK's (`gatehouse_sdk::Settings`),
so one test suite can check a policy and its twins in other languages; the
cases in `sdk/conformance/settings.json` pin them.

    >>> s = Settings([("max-changes", "10"), ("groups", "dba, sre")])
    >>> s.get_u32("max-changes")
    10
    >>> s.get_list("groups")
    ['dba', 'sre']
    >>> s.get_bool("strict") is None
    True
"""

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TypeVar

from .dates import Date, DateRange, ParseError, UtcOffset
from .durations import parse_duration
from .text import ascii_lower, debug_str, trim
from .time import Weekday
from .windows import DailyHours, parse_weekdays

T = TypeVar("T")

U32_MAX = 4294967295
U64_MAX = 18446744073709551615
I64_MIN = -9223372036854775808
I64_MAX = 9223372036854775807


class SettingsError(Exception):
    """A settings value that could not be used, naming the key and the problem:
    `setting 'KEY': MESSAGE`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(key, message)
        self.key = key
        self.message = message

    def __str__(self) -> str:
        return f"setting '{self.key}': {self.message}"


def _parse_whole(text: str, signed: bool) -> int | None:
    """Rust's integer `FromStr`: decimal digits after an optional `+` (or `-`
    when signed); None when that is not the shape."""
    sign = 1
    digits = text
    if digits.startswith("+"):
        digits = digits[1:]
    elif signed and digits.startswith("-"):
        sign = -1
        digits = digits[1:]
    if not digits or not all("0" <= c <= "9" for c in digits):
        return None
    return sign * int(digits)


class Settings:
    """The settings handed to a policy: text values by key, parsed on demand.

    Every getter records the key as known; after `validate_settings` the SDK
    rejects any key the policy never asked for (`reject_unknown`), so a typo
    such as `max-change` is an error instead of a silently ignored setting.
    A getter returns None when the key is not given.
    """

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._pairs = [(k, v) for k, v in pairs]
        self._read: set[str] = set()

    def get_str(self, key: str) -> str | None:
        """The raw text of a setting, if given."""
        self._read.add(key)
        for k, v in self._pairs:
            if k == key:
                return v
        return None

    def require_str(self, key: str) -> str:
        """A setting that must be given, as text."""
        value = self.get_str(key)
        if value is None:
            raise SettingsError(key, "is required but was not given")
        return value

    def _whole(self, key: str, expected: str, low: int, high: int, signed: bool) -> int | None:
        raw = self.get_str(key)
        if raw is None:
            return None
        value = _parse_whole(trim(raw), signed)
        if value is None or not low <= value <= high:
            raise SettingsError(key, f"expected {expected}, got {debug_str(raw)}")
        return value

    def get_u32(self, key: str) -> int | None:
        """A whole number from 0 to 4294967295."""
        return self._whole(key, "a whole number from 0 to 4294967295", 0, U32_MAX, False)

    def get_u32_at_least(self, key: str, minimum: int, default: int) -> int:
        """A whole number of at least `minimum`, or `default` when not given
        (returned as is: pass one that satisfies `minimum`). A smaller value
        fails with `setting 'KEY': must be at least MIN`."""
        value = self.get_u32(key)
        if value is None:
            return default
        if value < minimum:
            raise SettingsError(key, f"must be at least {minimum}")
        return value

    def get_u64(self, key: str) -> int | None:
        """A whole number from 0 to 18446744073709551615."""
        return self._whole(
            key, "a whole number from 0 to 18446744073709551615", 0, U64_MAX, False
        )

    def get_i64(self, key: str) -> int | None:
        """A signed whole number (64 bits)."""
        return self._whole(key, "a whole number", I64_MIN, I64_MAX, True)

    def get_bool(self, key: str) -> bool | None:
        """`true` / `false` (also `yes` / `no`, `on` / `off`, `1` / `0`), ignoring case."""
        raw = self.get_str(key)
        if raw is None:
            return None
        word = ascii_lower(trim(raw))
        if word in ("true", "yes", "on", "1"):
            return True
        if word in ("false", "no", "off", "0"):
            return False
        raise SettingsError(key, f"expected true or false, got {debug_str(raw)}")

    def get_list(self, key: str) -> list[str] | None:
        """A comma-separated list; items are trimmed, empty items are dropped."""
        raw = self.get_str(key)
        if raw is None:
            return None
        return [item for item in (trim(part) for part in raw.split(",")) if item]

    def get_non_empty_list(self, key: str) -> list[str] | None:
        """A comma-separated list that, when given, must hold at least one item."""
        items = self.get_list(key)
        if items is not None and not items:
            raise SettingsError(
                key,
                "expected a comma-separated list with at least one item, got an empty value",
            )
        return items

    def get_with(self, key: str, parse: Callable[[str], T]) -> T | None:
        """A value parsed by `parse`, whose `ParseError` message becomes the
        setting's error (`setting 'KEY': MESSAGE`)."""
        raw = self.get_str(key)
        if raw is None:
            return None
        try:
            return parse(raw)
        except ParseError as e:
            raise SettingsError(key, str(e)) from None

    def get_date(self, key: str) -> Date | None:
        """A date `YYYY-MM-DD`, e.g. `2026-12-24`."""
        return self.get_with(key, Date.parse)

    def get_date_range(self, key: str) -> DateRange | None:
        """A date range `START..END`, both ends included, e.g. `2026-12-20..2027-01-03`."""
        return self.get_with(key, DateRange.parse)

    def get_date_ranges(self, key: str) -> list[DateRange] | None:
        """A comma-separated list of date ranges; an empty value is an empty list."""
        return self.get_with(key, DateRange.parse_list)

    def get_utc_offset(self, key: str) -> UtcOffset | None:
        """A fixed offset from UTC: `+01:00`, `-05:30`, `+1`, `Z` or `UTC`."""
        return self.get_with(key, UtcOffset.parse)

    def get_duration(self, key: str) -> timedelta | None:
        """A duration such as `90s`, `15m`, `2h`, `1d` or `1h30m` (units `d`,
        `h`, `m`, `s`, largest first, each once), at most 36500 days, as a
        `datetime.timedelta` of whole seconds."""
        return self.get_with(key, parse_duration)

    def get_weekdays(self, key: str) -> list[Weekday] | None:
        """Days of the week: `mon-fri`, `mon,wed,fri`, `fri-mon` (wrapping),
        sorted Monday first, without repeats."""
        return self.get_with(key, parse_weekdays)

    def get_daily_hours(self, key: str) -> DailyHours | None:
        """Hours of the day: `09:00-17:00`, `9-17`, overnight `22:00-02:00`."""
        return self.get_with(key, DailyHours.parse)

    def keys(self) -> list[str]:
        """Every key given, in order."""
        return [k for k, _ in self._pairs]

    def reject_unknown(self) -> None:
        """Fails on the first given key that no getter asked for, listing the
        keys the policy does read. The SDK calls this after `validate_settings`."""
        for key, _ in self._pairs:
            if key not in self._read:
                known = (
                    f"known settings: {', '.join(sorted(self._read))}"
                    if self._read
                    else "this policy takes no settings"
                )
                raise SettingsError(key, f"unknown setting ({known})")
