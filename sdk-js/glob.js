// Globs: Gatehouse's one glob dialect, the Rust SDK's `gatehouse_sdk::glob`
// (the `gatehouse-glob` crate) and a policy set's `environments`.
//
// `*` and `?` match within one `/`-separated segment (`?` is one character, a
// Unicode code point, not a UTF-16 unit), `**` as a whole segment matches any
// number of segments, matching is case-sensitive, and there are no character
// classes or escapes. The cases in `sdk/conformance/globs.json` pin the
// dialect for the Rust, Python and JavaScript SDKs alike. Matching uses
// single backtracking: O(pattern x text), never exponential.

const ASCII = /^[\x00-\x7f]*$/;

/** `*` and `?` on arrays of code points (or an ASCII string), single backtracking. */
function segmentMatches(pattern, text) {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = ++p;
      starT = t;
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      p = starP;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** One segment of a pattern against one of a text, code point by code point. */
function segmentMatchesText(pattern, text) {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === text;
  if (ASCII.test(pattern) && ASCII.test(text)) return segmentMatches(pattern, text);
  return segmentMatches(Array.from(pattern), Array.from(text));
}

/** `/`-separated segments, with single backtracking to the last `**`. */
function segmentsMatch(pattern, text) {
  let p = 0;
  let t = 0;
  let star;
  for (;;) {
    if (p < pattern.length && pattern[p] === '**') {
      p++;
      star = [p, t];
      continue;
    }
    if (p < pattern.length) {
      if (t < text.length && segmentMatchesText(pattern[p], text[t])) {
        p++;
        t++;
        continue;
      }
    } else if (t === text.length) {
      return true;
    }
    if (star === undefined || star[1] >= text.length) return false;
    star = [star[0], star[1] + 1];
    [p, t] = star;
  }
}

/** True when `text` matches the glob `pattern`. */
export function matches(pattern, text) {
  return segmentsMatch(pattern.split('/'), text.split('/'));
}

/** True when any of `patterns` matches `text`. */
export function matchesAny(patterns, text) {
  return patterns.some((p) => matches(p, text));
}

/** The first of `patterns` that matches `text`, or `undefined`. */
export function firstMatch(patterns, text) {
  return patterns.find((p) => matches(p, text));
}
