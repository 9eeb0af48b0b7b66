"""Calendar dates, inclusive date ranges and fixed UTC offsets (the Rust SDK's
`gatehouse_sdk::dates` and `UtcOffset`), with parse errors worded exactly as
the Rust SDK words them. Settings getters (`Settings.get_date`,
`get_date_range`, `get_date_ranges`, `get_utc_offset`) prefix them with
`setting 'KEY': `.

Time-zone rule: a policy turns the evaluation time into a day at a fixed
offset from UTC (`Timestamp.date(offset_minutes)`; UTC unless a setting such
as `utc-offset = "+01:00"` says otherwise). There is no time-zone database in
the guest, so daylight saving time is the setting's business.

    >>> freeze = DateRange.parse("2026-12-20..2027-01-03")
    >>> freeze.contains(Date.parse("2027-01-01")), freeze.days()
    (True, 15)
"""

from dataclasses import dataclass

from .text import ascii_lower, debug_str, trim
from .time import Timestamp, Weekday, civil_from_days, days_from_civil, days_in_month

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)


class ParseError(ValueError):
    """Text that could not be parsed as a date, range or offset; `str()` is the message."""


def _bad_date(got: str) -> str:
    return f"expected a date YYYY-MM-DD such as 2026-12-24, got {debug_str(got)}"


def _bad_range(got: str) -> str:
    return (
        "expected a date range START..END such as 2026-12-20..2027-01-03, "
        f"got {debug_str(got)}"
    )


@dataclass(frozen=True, order=True)
class Date:
    """A day of the proleptic Gregorian calendar; `str()` is `YYYY-MM-DD`."""

    year: int
    month: int
    day: int

    @staticmethod
    def new(year: int, month: int, day: int) -> "Date | None":
        """The date, or None when it is not in the calendar (`2026-02-29`)."""
        if not 1 <= month <= 12 or day < 1 or day > days_in_month(year, month):
            return None
        return Date(year, month, day)

    @staticmethod
    def parse(text: str) -> "Date":
        """Exactly `YYYY-MM-DD`, ignoring surrounding white space; raises `ParseError`."""
        text = trim(text)
        shape_ok = len(text) == 10 and all(
            c == "-" if i in (4, 7) else "0" <= c <= "9" for i, c in enumerate(text)
        )
        if not shape_ok:
            raise ParseError(_bad_date(text))
        year, month, day = int(text[0:4]), int(text[5:7]), int(text[8:10])
        if not 1 <= month <= 12:
            raise ParseError(f"{_bad_date(text)} (there is no month {month})")
        date = Date.new(year, month, day)
        if date is None:
            why = (
                "there is no day 0"
                if day == 0
                else f"{MONTH_NAMES[month - 1]} {year:04} has {days_in_month(year, month)} days"
            )
            raise ParseError(f"{_bad_date(text)} ({why})")
        return date

    def weekday(self) -> Weekday:
        """The day of the week (an int, 0 for Monday up to 6 for Sunday)."""
        return Weekday((self.days_since_epoch() + 3) % 7)

    def days_since_epoch(self) -> int:
        """Days since 1970-01-01 (negative before it)."""
        return days_from_civil(self.year, self.month, self.day)

    @staticmethod
    def from_days_since_epoch(days: int) -> "Date":
        """The date `days` days after 1970-01-01."""
        return Date(*civil_from_days(days))

    def plus_days(self, days: int) -> "Date":
        """The date `days` days later (earlier when negative)."""
        return Date.from_days_since_epoch(self.days_since_epoch() + days)

    def days_until(self, other: "Date") -> int:
        """Days from this date to `other`: 1 from a day to the next."""
        return other.days_since_epoch() - self.days_since_epoch()

    def start(self, offset_minutes: int = 0) -> Timestamp:
        """The first instant of this day at `offset_minutes` from UTC."""
        return Timestamp(self.days_since_epoch() * 86400 - offset_minutes * 60)

    def __str__(self) -> str:
        return f"{self.year:04}-{self.month:02}-{self.day:02}"


def date_of(timestamp: Timestamp, offset_minutes: int = 0) -> Date:
    """The day `timestamp` falls on at `offset_minutes` from UTC."""
    c = timestamp.civil(offset_minutes)
    return Date(c.year, c.month, c.day)


@dataclass(frozen=True, order=True)
class DateRange:
    """Consecutive days, both ends included (`2026-12-20..2027-01-03` is 15
    days); never empty. `str()` is `START..END`."""

    first: Date
    last: Date

    @staticmethod
    def parse(text: str) -> "DateRange":
        """`START..END`, both `YYYY-MM-DD`, white space around either allowed;
        one day is `2026-12-25..2026-12-25`. Raises `ParseError`."""
        text = trim(text)
        if ".." not in text:
            raise ParseError(_bad_range(text))
        first, last = (trim(side) for side in text.split("..", 1))
        if not first or not last:
            raise ParseError(_bad_range(text))

        def date(side: str) -> Date:
            try:
                return Date.parse(side)
            except ParseError as e:
                raise ParseError(f"in the range {debug_str(text)}: {e}") from None

        start, end = date(first), date(last)
        if end < start:
            raise ParseError(
                f"the range {debug_str(text)} ends before it starts; write the earlier date first"
            )
        return DateRange(start, end)

    @staticmethod
    def parse_list(text: str) -> "list[DateRange]":
        """A comma-separated list of ranges; empty items are skipped."""
        return [DateRange.parse(item) for item in (trim(p) for p in text.split(",")) if item]

    def days(self) -> int:
        """How many days the range covers, at least 1."""
        return self.first.days_until(self.last) + 1

    def contains(self, date: Date) -> bool:
        """True when `date` is one of the range's days."""
        return self.first <= date <= self.last

    @staticmethod
    def find(ranges: "list[DateRange]", date: Date) -> "DateRange | None":
        """The first of `ranges` that contains `date`."""
        return next((r for r in ranges if r.contains(date)), None)

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


def _whole(text: str) -> int | None:
    """Rust's `u32` parse: digits after an optional `+`."""
    digits = text[1:] if text.startswith("+") else text
    if not digits or not all("0" <= c <= "9" for c in digits) or int(digits) > 4294967295:
        return None
    return int(digits)


def _parse_clock(text: str) -> int | None:
    """`H`, `HH:MM` up to 24:00, in minutes; None when it is not that."""
    h, _, m = text.partition(":") if ":" in text else (text, "", "0")
    hours, minutes = _whole(h), _whole(m)
    if hours is None or minutes is None or minutes > 59 or hours > 24 or (hours == 24 and minutes):
        return None
    return hours * 60 + minutes


@dataclass(frozen=True)
class UtcOffset:
    """A fixed offset from UTC, at most 14 hours either way; `str()` is `+01:00`."""

    minutes: int
    """Minutes east of UTC (negative west), as `Timestamp.civil` takes them."""

    @staticmethod
    def parse(text: str) -> "UtcOffset":
        """`+01:00`, `-05:30`, `+1`, `Z` or `UTC` (any case); raises `ParseError`."""
        text = trim(text)
        if ascii_lower(text) in ("z", "utc"):
            return UtcOffset(0)
        bad = ParseError(f"expected an offset such as +01:00 or -05:30, got {debug_str(text)}")
        if not text or text[0] not in "+-":
            raise bad
        minutes = _parse_clock(text[1:])
        if minutes is None or minutes > 14 * 60:
            raise bad
        return UtcOffset(-minutes if text[0] == "-" else minutes)

    def __str__(self) -> str:
        sign = "-" if self.minutes < 0 else "+"
        return f"{sign}{abs(self.minutes) // 60:02}:{abs(self.minutes) % 60:02}"
