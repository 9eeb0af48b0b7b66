"""Durations such as `90s`, `15m`, `2h`, `1d` or `1h30m` (the Rust SDK's
`gatehouse_sdk::durations`), with parse errors worded exactly as the Rust SDK
words them. `Settings.get_duration` prefixes them with `setting 'KEY': `.

The text is one or more `<digits><unit>` parts, units `d` (86,400 s), `h`,
`m` and `s`, each unit at most once and the largest first; no spaces, signs
or fractions (`05m` is fine, `1.5h`, `-1h`, `1m1h` and ` 1h` are not). The
total is at most 36500 days.

    >>> parse_duration("1h30m")
    datetime.timedelta(seconds=5400)
"""

from datetime import timedelta

from .dates import ParseError
from .text import debug_str

UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
"""Every unit with its length in seconds, largest first."""

MAX_DAYS = 36500
"""The longest duration accepted, in days."""

MAX_SECONDS = MAX_DAYS * 86400
"""The longest duration accepted, in seconds (3,153,600,000)."""


def bad_duration(got: str) -> str:
    """The message for text that is not a duration."""
    return (
        "expected a duration such as 90s, 15m, 2h, 1d or 1h30m "
        f"(units d, h, m, s, largest first, each once), got {debug_str(got)}"
    )


def too_long(got: str) -> str:
    """The message for a duration beyond `MAX_DAYS`."""
    return f"the duration {debug_str(got)} is longer than {MAX_DAYS} days"


def parse_seconds(text: str) -> int:
    """The duration in whole seconds; raises `ParseError`."""
    total = 0
    rank = 0  # index into UNITS of the smallest unit still allowed
    i = 0
    if not text:
        raise ParseError(bad_duration(text))
    while i < len(text):
        start = i
        while i < len(text) and "0" <= text[i] <= "9":
            i += 1
        if i == start or i == len(text):
            raise ParseError(bad_duration(text))
        digits = text[start:i].lstrip("0")
        unit = text[i]
        i += 1
        found = next((n for n, (u, _) in enumerate(UNITS) if u == unit), None)
        if found is None or found < rank:
            raise ParseError(bad_duration(text))
        rank = found + 1
        # Twelve digits are past the limit in any unit; longer parts are not
        # converted at all (Python refuses int() of very long digit strings).
        total += MAX_SECONDS + 1 if len(digits) > 12 else int(digits or "0") * UNITS[found][1]
    if total > MAX_SECONDS:
        raise ParseError(too_long(text))
    return total


def parse_duration(text: str) -> timedelta:
    """The duration `text` stands for; raises `ParseError`."""
    return timedelta(seconds=parse_seconds(text))


def format_duration(duration: timedelta) -> str:
    """The shortest text for a whole number of seconds (`5400 s` is `1h30m`,
    zero is `0s`); what `parse_duration` reads back."""
    seconds = int(duration.total_seconds())
    parts = []
    for unit, length in UNITS:
        count, seconds = divmod(seconds, length)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts) or "0s"
