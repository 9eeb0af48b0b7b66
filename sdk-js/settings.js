// Typed access to a policy's settings, with errors that name the key and say
// what was expected, and detection of keys the policy never reads (typos).
//
// Every message is byte-identical to the Rust SDK's (`gatehouse_sdk::Settings`),
// so one test suite can check a policy and its twins in other languages; the
// cases in `sdk/conformance/settings.json` pin them.

import { Date, DateRange, ParseError, UtcOffset } from './dates.js';
import { parseDuration } from './durations.js';
import { asciiLower, compareCodePoints, debugStr, trim } from './text.js';
import { DailyHours, parseWeekdays } from './windows.js';

const U32_MAX = 4294967295n;
const U64_MAX = 18446744073709551615n;
const I64_MIN = -9223372036854775808n;
const I64_MAX = 9223372036854775807n;

/** A settings value that could not be used, naming the key and the problem. */
export class SettingsError {
  /** An error about `key`, e.g. `new SettingsError('groups', 'must not be empty')`. */
  constructor(key, message) {
    this.key = key;
    this.message = message;
  }

  /** `setting 'KEY': MESSAGE`, as the host reports it. */
  toString() {
    return `setting '${this.key}': ${this.message}`;
  }
}

/** Rust's integer `FromStr`: digits after an optional `+` (or `-` when signed), as a BigInt. */
function parseWhole(text, signed) {
  let digits = text;
  let negative = false;
  if (digits.startsWith('+')) digits = digits.slice(1);
  else if (signed && digits.startsWith('-')) {
    negative = true;
    digits = digits.slice(1);
  }
  if (!/^[0-9]+$/.test(digits)) return undefined;
  const value = BigInt(digits);
  return negative ? -value : value;
}

/**
 * The settings handed to a policy: text values by key, parsed on demand.
 * Every getter records the key as known; after `validateSettings` the SDK
 * rejects any key the policy never asked for, so a typo such as `max-change`
 * is an error instead of a silently ignored setting. A getter returns
 * `undefined` when the key is not given and throws a `SettingsError` when
 * the value is unusable.
 */
export class Settings {
  /** Settings from `[key, value]` pairs, as the host passes them. */
  constructor(pairs) {
    this.pairs = pairs.map(([k, v]) => [k, v]);
    this.read = new Set();
  }

  /** The raw text of a setting, if given. */
  getStr(key) {
    this.read.add(key);
    const pair = this.pairs.find(([k]) => k === key);
    return pair === undefined ? undefined : pair[1];
  }

  /** A setting that must be given, as text. */
  requireStr(key) {
    const value = this.getStr(key);
    if (value === undefined) throw new SettingsError(key, 'is required but was not given');
    return value;
  }

  whole(key, expected, low, high, signed) {
    const raw = this.getStr(key);
    if (raw === undefined) return undefined;
    const value = parseWhole(trim(raw), signed);
    if (value === undefined || value < low || value > high) {
      throw new SettingsError(key, `expected ${expected}, got ${debugStr(raw)}`);
    }
    return value;
  }

  /** A whole number from 0 to 4294967295, as a number. */
  getU32(key) {
    const value = this.whole(key, 'a whole number from 0 to 4294967295', 0n, U32_MAX, false);
    return value === undefined ? undefined : Number(value);
  }

  /**
   * A whole number of at least `min`, or `fallback` when not given (returned
   * as is: pass one that satisfies `min`). A smaller value fails with
   * `setting 'KEY': must be at least MIN`.
   */
  getU32AtLeast(key, min, fallback) {
    const value = this.getU32(key);
    if (value === undefined) return fallback;
    if (value < min) throw new SettingsError(key, `must be at least ${min}`);
    return value;
  }

  /** A whole number from 0 to 18446744073709551615, as a BigInt. */
  getU64(key) {
    return this.whole(key, 'a whole number from 0 to 18446744073709551615', 0n, U64_MAX, false);
  }

  /** A signed whole number (64 bits), as a BigInt. */
  getI64(key) {
    return this.whole(key, 'a whole number', I64_MIN, I64_MAX, true);
  }

  /** `true` / `false` (also `yes` / `no`, `on` / `off`, `1` / `0`), ignoring case. */
  getBool(key) {
    const raw = this.getStr(key);
    if (raw === undefined) return undefined;
    const word = asciiLower(trim(raw));
    if (['true', 'yes', 'on', '1'].includes(word)) return true;
    if (['false', 'no', 'off', '0'].includes(word)) return false;
    throw new SettingsError(key, `expected true or false, got ${debugStr(raw)}`);
  }

  /** A comma-separated list; items are trimmed, empty items are dropped. */
  getList(key) {
    const raw = this.getStr(key);
    if (raw === undefined) return undefined;
    return raw
      .split(',')
      .map(trim)
      .filter((item) => item !== '');
  }

  /** A comma-separated list that, when given, must hold at least one item. */
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

  /**
   * A value parsed by `parse`, whose `ParseError` message becomes the
   * setting's error (`setting 'KEY': MESSAGE`).
   */
  getWith(key, parse) {
    const raw = this.getStr(key);
    if (raw === undefined) return undefined;
    try {
      return parse(raw);
    } catch (e) {
      if (e instanceof ParseError) throw new SettingsError(key, e.message);
      throw e;
    }
  }

  /** A date `YYYY-MM-DD`, e.g. `2026-12-24`. */
  getDate(key) {
    return this.getWith(key, (raw) => Date.parse(raw));
  }

  /** A date range `START..END`, both ends included, e.g. `2026-12-20..2027-01-03`. */
  getDateRange(key) {
    return this.getWith(key, (raw) => DateRange.parse(raw));
  }

  /** A comma-separated list of date ranges; an empty value is an empty list. */
  getDateRanges(key) {
    return this.getWith(key, (raw) => DateRange.parseList(raw));
  }

  /** A fixed offset from UTC: `+01:00`, `-05:30`, `+1`, `Z` or `UTC`. */
  getUtcOffset(key) {
    return this.getWith(key, (raw) => UtcOffset.parse(raw));
  }

  /**
   * A duration such as `90s`, `15m`, `2h`, `1d` or `1h30m` (units `d`, `h`,
   * `m`, `s`, largest first, each once; at most 36500 days), as whole
   * seconds (a number).
   */
  getDuration(key) {
    return this.getWith(key, parseDuration);
  }

  /**
   * Days of the week such as `mon-fri`, `sat,sun` or `fri-mon` (a range wraps
   * around the week), as day numbers (0 = Monday), sorted, without repeats.
   */
  getWeekdays(key) {
    return this.getWith(key, parseWeekdays);
  }

  /** Hours of the day such as `09:00-17:00`, `9-17` or `22:00-02:00` (overnight), as `DailyHours`. */
  getDailyHours(key) {
    return this.getWith(key, (raw) => DailyHours.parse(raw));
  }

  /** Every key given, in order. */
  keys() {
    return this.pairs.map(([k]) => k);
  }

  /**
   * Fails on the first given key that no getter asked for, listing the keys
   * the policy does read. The SDK calls this after `validateSettings`.
   */
  rejectUnknown() {
    for (const [key] of this.pairs) {
      if (!this.read.has(key)) {
        const known =
          this.read.size > 0
            ? `known settings: ${[...this.read].sort(compareCodePoints).join(', ')}`
            : 'this policy takes no settings';
        throw new SettingsError(key, `unknown setting (${known})`);
      }
    }
  }
}
