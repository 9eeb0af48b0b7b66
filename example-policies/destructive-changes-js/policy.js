// destructive-changes-js: the JavaScript twin of the Rust `destructive-changes`
// policy (and of the Python `destructive-changes-py`).
//
// Deleting, replacing or recreating a protected resource needs approval from
// the configured groups, and fails outright in protected environments. Every
// reason names the resource. Settings, defaults, reasons, verdicts and error
// messages are those of `example-policies/destructive-changes` (the tests
// compare the three).
//
// Build (from the repository root; componentize-js generates the bindings from
// `wit/policy.wit` at build time):
//
//     bash scripts/build-policies.sh
//
// How the WIT types look here (componentize-js conventions): records are plain
// objects with camelCase fields (`resourceType`), enums are their WIT names as
// strings (`'update-in-place'`, `'debug'`), variants are `{ tag, val }`
// (`{ tag: 'auto-approve', val: [...] }`), `option<T>` is the value or
// `undefined`, tuples and lists are arrays, `u32` is a number and `s64` a
// BigInt. An export returning `result<T, E>` returns T for `ok`; for `err` it
// returns `{ tag: 'err', val: message }` (or throws a non-Error value such as
// a string). Throwing an `Error` traps the component instead: gatehouse reports
// that as a policy failure (exit 3), never as a verdict.

import { log } from 'gatehouse:policy/host@0.1.0';

import { COMBINING_RANGES, ESCAPED_RANGES } from './unicode-tables.js';

const NAME = 'destructive-changes-js';
const VERSION = '0.1.0';
const DESCRIPTION =
  'Deleting, replacing or recreating a protected resource needs approval; ' +
  'in protected environments it fails the release.';

// Defaults match the reference Rego rule in `shared/reference/rego/`.
const DEFAULT_TYPES = ['mysql', 'postgres', 'aws_db_instance', 's3'];
const DEFAULT_CHANGE_KINDS = ['delete', 'replace', 'recreate'];
const DEFAULT_FAIL_ENVIRONMENTS = ['prod*'];
const INSTRUCTIONS =
  'Confirm a current backup or snapshot exists for every resource listed, ' +
  'and that the data loss is intended.';

// The Facets spelling of each WIT change kind, in the order of the WIT enum.
const CHANGE_KIND_NAMES = new Map([
  ['create', 'CREATE'],
  ['delete', 'DELETE'],
  ['update-in-place', 'UPDATE_IN_PLACE'],
  ['replace', 'REPLACE'],
  ['recreate', 'RECREATE'],
  ['no-operation', 'NO_OPERATION'],
]);

// What Rust's `str::trim` removes (Unicode White_Space). JavaScript's
// `String.prototype.trim` differs (it removes U+FEFF and keeps U+0085), so the
// set is spelt out.
const WHITESPACE = new Set(
  '\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006' +
    '\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000',
);

const U32_MAX = 4294967295n;

function trim(text) {
  const chars = Array.from(text);
  let start = 0;
  let end = chars.length;
  while (start < end && WHITESPACE.has(chars[start])) start++;
  while (end > start && WHITESPACE.has(chars[end - 1])) end--;
  return chars.slice(start, end).join('');
}

// --- settings, as the Rust SDK parses them -----------------------------------

/** A settings value that could not be used, naming the key and the problem. */
class SettingsError {
  constructor(key, message) {
    this.key = key;
    this.message = message;
  }

  toString() {
    return `setting '${this.key}': ${this.message}`;
  }
}

/**
 * Text values by key; every getter records the key as known, so keys the
 * policy never reads (typos) can be rejected afterwards.
 */
class Settings {
  constructor(pairs) {
    this.pairs = pairs;
    this.read = new Set();
  }

  getStr(key) {
    this.read.add(key);
    const pair = this.pairs.find(([k]) => k === key);
    return pair === undefined ? undefined : pair[1];
  }

  /** A comma-separated list; items are trimmed, empty items dropped. */
  getList(key) {
    const raw = this.getStr(key);
    if (raw === undefined) return undefined;
    return raw
      .split(',')
      .map(trim)
      .filter((item) => item !== '');
  }

  /** A comma-separated list that, when given, holds at least one item. */
  getNonEmptyList(key) {
    const items = this.getList(key);
    if (items !== undefined && items.length === 0) {
      throw new SettingsError(
        key,
        'expected a comma-separated list with at least one item, got an empty value',
      );
    }
    return items;
  }

  /** A whole number from 0 to 4294967295 (decimal digits, an optional `+`). */
  getU32(key) {
    const raw = this.getStr(key);
    if (raw === undefined) return undefined;
    const text = trim(raw);
    const digits = text.startsWith('+') ? text.slice(1) : text;
    if (/^[0-9]+$/.test(digits) && BigInt(digits) <= U32_MAX) {
      return Number(digits);
    }
    throw new SettingsError(
      key,
      `expected a whole number from 0 to 4294967295, got ${debugStr(raw)}`,
    );
  }

  /** Fails on the first given key that no getter asked for. */
  rejectUnknown() {
    for (const [key] of this.pairs) {
      if (!this.read.has(key)) {
        const known =
          this.read.size > 0
            ? `known settings: ${[...this.read].sort().join(', ')}`
            : 'this policy takes no settings';
        throw new SettingsError(key, `unknown setting (${known})`);
      }
    }
  }
}

// Characters Rust's `{:?}` escapes as `\u{..}`: controls, format characters,
// surrogates, private use, unassigned code points, and separators other than
// the space; a combining mark only at the start. The engine has no `\p{..}`
// regular expressions, so the ranges come from a generated table.

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

/** Quotes text the way Rust's `{:?}` does, so messages match the Rust policy. */
function debugStr(text) {
  let out = '"';
  let first = true;
  for (const c of text) {
    const simple = SIMPLE_ESCAPES.get(c);
    if (simple !== undefined) {
      out += simple;
    } else if (c !== ' ' && (inRanges(ESCAPED_RANGES, c.codePointAt(0)) ||
        (first && inRanges(COMBINING_RANGES, c.codePointAt(0))))) {
      out += `\\u{${c.codePointAt(0).toString(16)}}`;
    } else {
      out += c;
    }
    first = false;
  }
  return out + '"';
}

function asciiLower(text) {
  return text.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** The Facets spelling (`DELETE`, `update_in_place`, ...), ignoring ASCII case. */
function parseChangeKind(text) {
  const wanted = asciiLower(trim(text));
  for (const [kind, name] of CHANGE_KIND_NAMES) {
    if (asciiLower(name) === wanted) return kind;
  }
  return undefined;
}

// --- globs: `*` and `?` within one `/` segment, `**` across segments ----------
// Gatehouse's one glob dialect (gatehouse-glob, which the Rust SDK and policy
// sets use; docs/policy-sets.md, "Globs"): `?` is one character (a Unicode
// code point, not a UTF-16 unit). Globs are compiled once per evaluation, and
// ASCII text (the usual case) is matched on the string directly, where code
// units and characters are the same thing: the JavaScript engine is
// interpreted, so every step of a match costs fuel.

const ASCII = /^[\x00-\x7f]*$/;
const ANY_SEGMENTS = Symbol('**');

/** One `/` segment of a glob: `**`, a literal, or a pattern with `*` / `?`. */
function compileSegment(segment) {
  if (segment === '**') return ANY_SEGMENTS;
  if (!/[*?]/.test(segment)) return { literal: segment };
  return { wild: segment, ascii: ASCII.test(segment), chars: undefined };
}

/** A glob compiled once, matched against many names. */
class Glob {
  constructor(pattern) {
    this.pattern = pattern;
    this.segments = pattern.split('/').map(compileSegment);
    // Most globs are one segment (`mysql`, `prod*`): matched without splitting.
    const [first] = this.segments;
    this.single = this.segments.length === 1 && first !== ANY_SEGMENTS ? first : undefined;
  }

  matches(text) {
    const single = this.single;
    if (single !== undefined) {
      if (single.literal !== undefined) return single.literal === text;
      return !text.includes('/') && segmentMatches(single, text);
    }
    return matchSegments(this.segments, 0, text.split('/'), 0);
  }
}

function matchSegments(pattern, p, text, t) {
  if (p === pattern.length) return t === text.length;
  const segment = pattern[p];
  if (segment === ANY_SEGMENTS) {
    for (let skip = t; skip <= text.length; skip++) {
      if (matchSegments(pattern, p + 1, text, skip)) return true;
    }
    return false;
  }
  return (
    t < text.length &&
    segmentMatches(segment, text[t]) &&
    matchSegments(pattern, p + 1, text, t + 1)
  );
}

function segmentMatches(segment, text) {
  if (segment.literal !== undefined) return segment.literal === text;
  if (segment.ascii && ASCII.test(text)) return wildcardMatches(segment.wild, text);
  segment.chars ??= Array.from(segment.wild);
  return wildcardMatches(segment.chars, Array.from(text));
}

/**
 * `*` and `?` with single backtracking (O(pattern x text)), on a string of
 * ASCII characters or on arrays of code points (`Array.from`).
 */
function wildcardMatches(pattern, text) {
  let p = 0;
  let t = 0;
  let starP = -1;
  let starT = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] === '*') {
      starP = p;
      starT = t;
      p++;
    } else if (p < pattern.length && (pattern[p] === '?' || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (starP >= 0) {
      starT++;
      p = starP + 1;
      t = starT;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

// --- the policy ----------------------------------------------------------------

/** Parses settings; throws a SettingsError naming the first bad key. */
function parseConfig(settings) {
  const config = {};
  const names = settings.getNonEmptyList('change-types');
  if (names === undefined) {
    config.changeKinds = DEFAULT_CHANGE_KINDS;
  } else {
    config.changeKinds = names.map((name) => {
      const kind = parseChangeKind(name);
      if (kind === undefined) {
        throw new SettingsError(
          'change-types',
          `unknown change type ${debugStr(name)}; expected some of ` +
            'CREATE, DELETE, UPDATE_IN_PLACE, REPLACE, RECREATE, NO_OPERATION',
        );
      }
      return kind;
    });
  }
  config.protectedTypes = (settings.getList('protected-types') ?? DEFAULT_TYPES).map(
    (t) => new Glob(t),
  );
  config.protectedPaths = (settings.getList('protected-paths') ?? []).map((p) => new Glob(p));
  config.failEnvironments = (
    settings.getList('fail-environments') ?? DEFAULT_FAIL_ENVIRONMENTS
  ).map((e) => new Glob(e));
  config.approverGroups = settings.getList('approver-groups') ?? [];
  config.minApprovals = settings.getU32('min-approvals') ?? 1;
  if (config.minApprovals === 0) {
    throw new SettingsError('min-approvals', 'must be at least 1');
  }
  if (config.protectedTypes.length === 0 && config.protectedPaths.length === 0) {
    throw new SettingsError(
      'protected-types',
      'protected-types and protected-paths are both empty, so nothing is ' +
        'protected; give at least one',
    );
  }
  settings.rejectUnknown();
  return config;
}

function isProtected(resource, config) {
  return (
    config.protectedTypes.some((glob) => glob.matches(resource.resourceType)) ||
    config.protectedPaths.some((glob) => glob.matches(resource.resourcePath))
  );
}

function plural(count) {
  return count === 1 ? '' : 's';
}

/** The rule itself. */
function decide(release, config) {
  const reasons = release.resources
    .filter((r) => config.changeKinds.includes(r.change) && isProtected(r, config))
    .map((r) => ({
      message: `${CHANGE_KIND_NAMES.get(r.change)} of ${r.resourceType} ${r.resourcePath}`,
      resourcePath: r.resourcePath,
    }));
  const count = reasons.length;
  log(
    'debug',
    `${count} destructive change${plural(count)} to protected resources ` +
      `among ${release.resources.length} resources`,
  );
  if (count === 0) {
    return {
      tag: 'auto-approve',
      val: [{ message: 'no destructive change to a protected resource' }],
    };
  }
  const environment = release.environmentName;
  const glob = config.failEnvironments.find((g) => g.matches(environment));
  if (glob !== undefined) {
    const summary =
      `${count} destructive change${plural(count)} to protected resources ` +
      `in environment ${environment} (protected by ${debugStr(glob.pattern)}); ` +
      'run them through a maintenance change instead';
    return { tag: 'fail', val: [{ message: summary }, ...reasons] };
  }
  return {
    tag: 'require-approval',
    val: {
      reasons,
      approverGroups: [...config.approverGroups],
      minApprovals: config.minApprovals,
      instructions: INSTRUCTIONS,
    },
  };
}

/** Runs `body`, turning a SettingsError into the `err` of a WIT result. */
function settingsResult(body, prefix) {
  try {
    return body();
  } catch (e) {
    if (e instanceof SettingsError) return { tag: 'err', val: prefix + e.toString() };
    throw e;
  }
}

// --- the exports of the `policy` world ------------------------------------------

export function describe() {
  return { name: NAME, version: VERSION, description: DESCRIPTION };
}

export function validateSettings(settings) {
  return settingsResult(() => {
    parseConfig(new Settings(settings));
  }, '');
}

export function evaluate(release, settings) {
  // The host may call evaluate alone: validate again, as the Rust SDK does.
  return settingsResult(
    () => decide(release, parseConfig(new Settings(settings))),
    'invalid settings: ',
  );
}
