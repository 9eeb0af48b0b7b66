"""Weekly windows: days of the week, hours of the day and a fixed UTC offset,
with "is it open now?" and "when does it open next?" (the Rust SDK's
`gatehouse_sdk::windows`), with parse errors worded exactly as the Rust SDK
words them. `Settings.get_weekdays` and `get_daily_hours` prefix them with
`setting 'KEY': `.

    >>> window = WeeklyWindow(parse_weekdays("mon-fri"), DailyHours.parse("09:00-17:00"),
    ...                       UtcOffset.parse("+01:00"))
    >>> saturday = Timestamp.parse_rfc3339("2026-11-21T12:00:00Z")
    >>> window.is_open(saturday), str(window.next_opening(saturday))
    (False, '2026-11-23T08:00:00Z')
    >>> str(window)
    'Mon, Tue, Wed, Thu, Fri 09:00-17:00 (UTC+01:00)'
"""

from collections.abc import Iterable
from dataclasses import dataclass

from .dates import ParseError, UtcOffset, _parse_clock
from .text import debug_str, trim
from .time import CivilTime, Timestamp, Weekday

__all__ = [
    "DailyHours",
    "UtcOffset",
    "Weekday",
    "WeeklyWindow",
    "parse_weekdays",
]


def unknown_day(got: str) -> str:
    """The message for a day name that is not a weekday."""
    return f"unknown day {debug_str(got)}; use mon, tue, wed, thu, fri, sat, sun"


def no_days() -> str:
    """The message for a day list with no days."""
    return "no days given; e.g. mon-fri"


def bad_hours(got: str) -> str:
    """The message for hours of the wrong shape."""
    return f"expected START-END such as 09:00-17:00, got {debug_str(got)}"


def bad_clock(got: str) -> str:
    """The message for a clock time of the wrong shape."""
    return f"expected a time such as 09:00, got {debug_str(got)}"


def start_too_late(start: str) -> str:
    """The message for hours that start at 24:00."""
    return f"the start {debug_str(start)} must be before 24:00"


def empty_hours(got: str) -> str:
    """The message for hours that start and end at the same time."""
    return f"the window {debug_str(got)} is empty; start and end are equal"


def parse_weekdays(text: str) -> list[Weekday]:
    """A list of days: `mon-fri`, `mon,wed,fri`, `sat-sun,wed`, full names
    too; a range wraps around the week (`fri-mon`). Sorted Monday first,
    without repeats. Raises `ParseError`."""

    def day(name: str) -> Weekday:
        found = Weekday.parse(name)
        if found is None:
            raise ParseError(unknown_day(name))
        return found

    days: set[Weekday] = set()
    for part in (trim(p) for p in text.split(",")):
        if not part:
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = day(trim(first)), day(trim(last))
            i = start
            while True:
                days.add(Weekday(i))
                if i == end:
                    break
                i = (i + 1) % 7
        else:
            days.add(day(part))
    if not days:
        raise ParseError(no_days())
    return sorted(days)


def _clock(text: str) -> int:
    """`09:00` or `9` to minutes after midnight, `24:00` allowed; raises `ParseError`."""
    minutes = _parse_clock(text)
    if minutes is None:
        raise ParseError(bad_clock(text))
    return minutes


def _show(minutes: int) -> str:
    return f"{minutes // 60:02}:{minutes % 60:02}"


@dataclass(frozen=True)
class DailyHours:
    """Hours of the day, in minutes after midnight; an end at or before the
    start is on the next day (an overnight window such as `22:00-02:00`).
    `str()` is `09:00-17:00`."""

    start_minute: int
    """Opening time, minutes after midnight (0 to 1439)."""
    end_minute: int
    """Closing time, minutes after midnight (1 to 1440); at or before the
    start it is on the next day."""

    @staticmethod
    def parse(text: str) -> "DailyHours":
        """`09:00-17:30` or `9-17`; `24:00` is allowed as an end, start and
        end must differ. Raises `ParseError`."""
        text = trim(text)
        if "-" not in text:
            raise ParseError(bad_hours(text))
        first, _, last = text.partition("-")
        start, end = _clock(trim(first)), _clock(trim(last))
        if start >= 24 * 60:
            raise ParseError(start_too_late(trim(first)))
        if start == end:
            raise ParseError(empty_hours(text))
        return DailyHours(start, end)

    def overnight(self) -> bool:
        """True when the window closes the day after it opens."""
        return self.end_minute <= self.start_minute

    def __str__(self) -> str:
        return f"{_show(self.start_minute)}-{_show(self.end_minute)}"


class WeeklyWindow:
    """A window that opens on some days of the week, for some hours, at a
    fixed UTC offset. An overnight window opens on its days and closes the
    next morning. `str()` is `Mon, Tue 09:00-17:00 (UTC+01:00)`."""

    def __init__(
        self, days: Iterable[int], hours: DailyHours, offset: UtcOffset = UtcOffset(0)
    ) -> None:
        self.days: list[Weekday] = sorted({Weekday(d) for d in days})
        """The days on which the window opens, Monday first."""
        self.hours = hours
        """The hours."""
        self.offset = offset
        """The offset the days and hours are read at."""

    def local(self, t: Timestamp) -> CivilTime:
        """The civil time of `t` at the window's offset."""
        return t.civil(self.offset.minutes)

    def is_open(self, now: Timestamp) -> bool:
        """True when `now` falls inside the window."""
        local = self.local(now)
        minute = local.hour * 60 + local.minute
        today = local.weekday in self.days
        start, end = self.hours.start_minute, self.hours.end_minute
        if not self.hours.overnight():
            return today and start <= minute < end
        yesterday = (local.weekday + 6) % 7
        return (today and minute >= start) or (yesterday in self.days and minute < end)

    def next_opening(self, now: Timestamp) -> Timestamp:
        """When the window next opens after `now` (strictly later)."""
        local = self.local(now)
        midnight = now.plus_seconds(-(local.hour * 3600 + local.minute * 60 + local.second))
        start = self.hours.start_minute * 60
        for day_offset in range(8):
            opening = midnight.plus_seconds(day_offset * 86400 + start)
            if (local.weekday + day_offset) % 7 in self.days and opening > now:
                return opening
        return midnight.plus_seconds(7 * 86400 + start)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, WeeklyWindow) and (self.days, self.hours, self.offset) == (
            other.days,
            other.hours,
            other.offset,
        )

    def __repr__(self) -> str:
        return f"WeeklyWindow({self!s})"

    def __str__(self) -> str:
        days = ", ".join(str(d) for d in self.days)
        return f"{days} {self.hours} (UTC{self.offset})"
