"""Evaluation time as a plain UTC timestamp with the calendar questions gate
logic asks (weekday, hour, date), without a time-zone database in the guest:
the Rust SDK's `gatehouse_sdk::time`."""

from dataclasses import dataclass
from enum import IntEnum

WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class Weekday(IntEnum):
    """Day of the week, Monday first (ISO 8601): an int from 0 for Monday up
    to 6 for Sunday, whose `str()` is the three-letter name (`Mon`), as the
    Rust SDK's `Weekday` prints."""

    MON = 0
    TUE = 1
    WED = 2
    THU = 3
    FRI = 4
    SAT = 5
    SUN = 6

    @property
    def short_name(self) -> str:
        """The three-letter English name, e.g. `Mon`."""
        return WEEKDAYS[self]

    @staticmethod
    def parse(text: str) -> "Weekday | None":
        """`mon`, `Monday`, `TUE`, `Thurs` (a prefix of the English name of at
        least three letters, any ASCII case); None for anything else."""
        from .text import ascii_lower, trim

        word = ascii_lower(trim(text))
        if len(word) < 3:
            return None
        for index, full in enumerate(_FULL_WEEKDAYS):
            if full.startswith(word):
                return Weekday(index)
        return None

    def __str__(self) -> str:
        return WEEKDAYS[self]

    def __repr__(self) -> str:
        return f"Weekday.{self.name}"


def parse_weekday(text: str) -> Weekday | None:
    """The day named by `text` (`Weekday.parse`): 0 for Monday up to 6 for Sunday."""
    return Weekday.parse(text)


def is_leap_year(year: int) -> bool:
    """A leap year of the proleptic Gregorian calendar."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def days_in_month(year: int, month: int) -> int:
    """Days in a month (1 to 12) of the proleptic Gregorian calendar."""
    if month == 2:
        return 29 if is_leap_year(year) else 28
    return 30 if month in (4, 6, 9, 11) else 31


def days_from_civil(year: int, month: int, day: int) -> int:
    """Days since 1970-01-01 of a civil date."""
    y = year - 1 if month <= 2 else year
    era, yoe = divmod(y, 400)
    m = month - 3 if month > 2 else month + 9
    doy = (153 * m + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(days: int) -> tuple[int, int, int]:
    """(year, month, day) of a count of days since 1970-01-01."""
    z = days + 719468
    era, doe = divmod(z, 146097)
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


@dataclass(frozen=True)
class CivilTime:
    """A calendar date and time of day at some offset from UTC."""

    year: int
    """Year, e.g. 2026."""
    month: int
    """Month, 1 to 12."""
    day: int
    """Day of the month, 1 to 31."""
    hour: int
    """Hour, 0 to 23."""
    minute: int
    """Minute, 0 to 59."""
    second: int
    """Second, 0 to 59."""
    weekday: Weekday
    """Day of the week, a `Weekday`: an int, 0 for Monday up to 6 for Sunday (`str()` is `Mon`...)."""


@dataclass(frozen=True, order=True)
class Timestamp:
    """Seconds since the Unix epoch, UTC. `str()` is RFC 3339, `2026-11-22T10:00:00Z`."""

    seconds: int

    def civil(self, offset_minutes: int = 0) -> CivilTime:
        """The calendar time at a fixed offset from UTC, in minutes (+60 for CET)."""
        local = self.seconds + offset_minutes * 60
        days, secs = divmod(local, 86400)
        year, month, day = civil_from_days(days)
        # 1970-01-01 was a Thursday (index 3).
        return CivilTime(
            year, month, day, secs // 3600, secs // 60 % 60, secs % 60, Weekday((days + 3) % 7)
        )

    def plus_seconds(self, seconds: int) -> "Timestamp":
        """The timestamp `seconds` later."""
        return Timestamp(self.seconds + seconds)

    @staticmethod
    def parse_rfc3339(text: str) -> "Timestamp | None":
        """Parses RFC 3339 (`2026-11-20T10:00:00Z`, `2026-11-20T11:00:00.5+01:00`);
        fractional seconds are dropped; None when it is not that shape."""
        from .text import trim

        b = trim(text)

        def num(start: int, end: int) -> int | None:
            digits = b[start:end]
            if len(digits) != end - start or not all("0" <= c <= "9" for c in digits):
                return None
            return int(digits)

        if len(b) < 20 or b[4] != "-" or b[7] != "-" or b[10] not in "Tt " or b[13] != ":":
            return None
        if b[16] != ":":
            return None
        fields = [num(0, 4), num(5, 7), num(8, 10), num(11, 13), num(14, 16), num(17, 19)]
        if any(f is None for f in fields):
            return None
        year, month, day, hour, minute, second = fields
        if not 1 <= month <= 12 or day < 1 or day > days_in_month(year, month):
            return None
        if hour > 23 or minute > 59 or second > 60:
            return None
        rest = b[19:]
        if rest.startswith("."):
            count = 0
            while 1 + count < len(rest) and "0" <= rest[1 + count] <= "9":
                count += 1
            if count == 0:
                return None
            rest = rest[1 + count :]
        if rest in ("Z", "z"):
            offset = 0
        elif (
            len(rest) == 6
            and rest[0] in "+-"
            and rest[3] == ":"
            and all("0" <= c <= "9" for c in rest[1:3] + rest[4:6])
        ):
            h, m = int(rest[1:3]), int(rest[4:6])
            if h > 23 or m > 59:
                return None
            offset = (h * 3600 + m * 60) * (-1 if rest[0] == "-" else 1)
        else:
            return None
        days = days_from_civil(year, month, day)
        return Timestamp(days * 86400 + hour * 3600 + minute * 60 + min(second, 59) - offset)

    def __str__(self) -> str:
        c = self.civil(0)
        return (
            f"{c.year:04}-{c.month:02}-{c.day:02}T{c.hour:02}:{c.minute:02}:{c.second:02}Z"
        )
