// Text helpers that make messages byte-identical to the Rust SDK's: Rust's
// `str::trim` and Rust's `{:?}` quoting of a string.

import { ESCAPED_RANGES, GRAPHEME_EXTEND_RANGES } from './unicode-tables.js';

// What Rust's `str::trim` removes (Unicode White_Space). JavaScript's
// `String.prototype.trim` differs (it removes U+FEFF and keeps U+0085), so the
// set is spelt out.
const WHITESPACE = new Set(
  '\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006' +
    '\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000',
);

/** `text` without leading and trailing Unicode white space, as Rust's `str::trim`. */
export function trim(text) {
  let start = 0;
  let end = text.length;
  while (start < end && WHITESPACE.has(text[start])) start++;
  while (end > start && WHITESPACE.has(text[end - 1])) end--;
  return text.slice(start, end);
}

/** Lower-cases ASCII letters only, as Rust's `to_ascii_lowercase`. */
export function asciiLower(text) {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Whether code point `cp` lies in one of the flattened [first, last] ranges. */
function inRanges(ranges, cp) {
  let lo = 0;
  let hi = ranges.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cp < ranges[2 * mid]) hi = mid;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

const SIMPLE_ESCAPES = new Map([
  ['"', '\\"'],
  ['\\', '\\\\'],
  ['\n', '\\n'],
  ['\r', '\\r'],
  ['\t', '\\t'],
  ['\0', '\\0'],
]);

/**
 * Quotes `text` the way Rust's `{:?}` does (`"prod\u{200b}*"`), so that
 * messages quoting a user's value match the Rust SDK's byte for byte:
 * `\u{..}` for controls, format characters, separators other than the space,
 * unassigned and private-use code points and grapheme extenders (the tables
 * in unicode-tables.js: the engine inside a component has no `\p{..}`).
 */
export function debugStr(text) {
  let out = '"';
  for (const c of text) {
    const simple = SIMPLE_ESCAPES.get(c);
    const cp = c.codePointAt(0);
    if (simple !== undefined) {
      out += simple;
    } else if (c !== ' ' && (inRanges(ESCAPED_RANGES, cp) || inRanges(GRAPHEME_EXTEND_RANGES, cp))) {
      out += `\\u{${cp.toString(16)}}`;
    } else {
      out += c;
    }
  }
  return out + '"';
}

/** Compares strings by code point (Rust's and Python's string order), not UTF-16 unit. */
export function compareCodePoints(a, b) {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0) - y[i].codePointAt(0);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
