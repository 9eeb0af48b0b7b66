"""Globs: Gatehouse's one glob dialect, the Rust SDK's `gatehouse_sdk::glob`
(the `gatehouse-glob` crate) and a policy set's `environments`.

`*` and `?` match within one `/`-separated segment (`?` is one character, a
Unicode code point), `**` as a whole segment matches any number of segments,
matching is case-sensitive, and there are no character classes or escapes.
The cases in `sdk/conformance/globs.json` pin the dialect for the Rust,
Python and JavaScript SDKs alike.

    >>> matches("datastores/*", "datastores/orders")
    True
    >>> matches("datastores/*", "datastores/eu/orders")
    False
    >>> matches("datastores/**", "datastores/eu/orders")
    True
"""

from collections.abc import Iterable


def matches(pattern: str, text: str) -> bool:
    """True when `text` matches the glob `pattern`."""
    return _match_segments(pattern.split("/"), text.split("/"))


def matches_any(patterns: Iterable[str], text: str) -> bool:
    """True when any of `patterns` matches `text`."""
    return any(matches(p, text) for p in patterns)


def first_match(patterns: Iterable[str], text: str) -> str | None:
    """The first of `patterns` that matches `text`, or None."""
    return next((p for p in patterns if matches(p, text)), None)


def _match_segments(pattern: list[str], text: list[str]) -> bool:
    """Segments with single backtracking to the last `**`: O(pattern x text)."""
    p = t = 0
    star = None
    while True:
        if p < len(pattern) and pattern[p] == "**":
            p += 1
            star = (p, t)
            continue
        if p < len(pattern):
            if t < len(text) and _match_segment(pattern[p], text[t]):
                p += 1
                t += 1
                continue
        elif t == len(text):
            return True
        if star is None or star[1] >= len(text):
            return False
        star = (star[0], star[1] + 1)
        p, t = star


def _match_segment(pattern: str, text: str) -> bool:
    """`*` and `?` on characters, with single backtracking (O(pattern x text))."""
    p = t = 0
    star = None
    while t < len(text):
        if p < len(pattern) and pattern[p] == "*":
            p += 1
            star = (p, t)
        elif p < len(pattern) and (pattern[p] == "?" or pattern[p] == text[t]):
            p += 1
            t += 1
        elif star is not None:
            star = (star[0], star[1] + 1)
            p, t = star
        else:
            return False
    return all(c == "*" for c in pattern[p:])
