"""Text helpers that make messages byte-identical to the Rust SDK's: Rust's
`str::trim` and Rust's `{:?}` quoting of a string."""

import unicodedata

# What Rust's `str::trim` removes (Unicode White_Space). Python's `str.strip()`
# would also remove a few control characters, so the set is spelt out.
WHITESPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)

_SIMPLE_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
_ESCAPED_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs")
# Grapheme_Extend is Mn, Me and these (Other_Grapheme_Extend outside Cf, as
# Unicode 15.1 to 17 define it); Python's unicodedata has no such property.
_OTHER_GRAPHEME_EXTEND = frozenset(
    chr(cp)
    for cp in (
        0x9BE, 0x9D7, 0xB3E, 0xB57, 0xBBE, 0xBD7, 0xCC0, 0xCC2, 0xCC7, 0xCC8, 0xCCA, 0xCCB,
        0xCD5, 0xCD6, 0xD3E, 0xD57, 0xDCF, 0xDDF, 0x1715, 0x1734, 0x1B35, 0x1B3B, 0x1B3D,
        0x1B43, 0x1B44, 0x1BAA, 0x1BF2, 0x1BF3, 0x302E, 0x302F, 0xA953, 0xA9C0, 0xFF9E,
        0xFF9F, 0x111C0, 0x11235, 0x1133E, 0x1134D, 0x11357, 0x113B8, 0x113C2, 0x113C5,
        0x113C7, 0x113C8, 0x113C9, 0x113CF, 0x114B0, 0x114BD, 0x115AF, 0x116B6, 0x11930,
        0x1193D, 0x11F41, 0x16FF0, 0x16FF1, 0x1D165, 0x1D166, 0x1D16D, 0x1D16E, 0x1D16F,
        0x1D170, 0x1D171, 0x1D172,
    )
)


def trim(text: str) -> str:
    """`text` without leading and trailing Unicode white space, as Rust's `str::trim`."""
    return text.strip(WHITESPACE)


def ascii_lower(text: str) -> str:
    """Lower-cases ASCII letters only, as Rust's `to_ascii_lowercase`."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def debug_str(text: str) -> str:
    """Quotes `text` the way Rust's `{:?}` does (`"prod\\u{200b}*"`), so that
    messages quoting a user's value match the Rust SDK's byte for byte:
    `\\u{..}` for controls, format characters, separators other than the
    space, unassigned and private-use code points, and grapheme extenders
    (combining marks), wherever they are. The categories come from the
    interpreter's Unicode tables, which may be a version apart from Rust's
    for code points assigned in between."""
    out = ['"']
    for c in text:
        simple = _SIMPLE_ESCAPES.get(c)
        if simple is not None:
            out.append(simple)
        elif c != " " and (
            unicodedata.category(c) in _ESCAPED_CATEGORIES
            or unicodedata.category(c) in ("Mn", "Me")
            or c in _OTHER_GRAPHEME_EXTEND
        ):
            out.append("\\u{" + format(ord(c), "x") + "}")
        else:
            out.append(c)
    out.append('"')
    return "".join(out)
