// Calendar dates, inclusive date ranges and fixed UTC offsets (the Rust SDK's
// `gatehouse_sdk::dates` and `UtcOffset`), with parse errors worded exactly as
// the Rust SDK words them. Settings getters (`getDate`, `getDateRange`,
// `getDateRanges`, `getUtcOffset`) prefix them with `setting 'KEY': `.
//
// Time-zone rule: a policy turns the evaluation time into a day at a fixed
// offset from UTC (`dateOf(host.now(), offsetMinutes)`; UTC unless a setting
// such as `utc-offset = "+01:00"` says otherwise). There is no time-zone
// database in the guest, so daylight saving time is the setting's business.

import { asciiLower, debugStr, trim } from './text.js';
import { Timestamp, civilFromDays, daysFromCivil, daysInMonth } from './time.js';

const MONTH_NAMES = [
  'January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September',
  'October', 'November', 'December',
];

/** Text that could not be parsed as a date, range or offset; `message` says why. */
export class ParseError {
  /** An error with this exact message. */
  constructor(message) {
    this.message = message;
  }

  toString() {
    return this.message;
  }
}

const badDate = (got) => `expected a date YYYY-MM-DD such as 2026-12-24, got ${debugStr(got)}`;
const badRange = (got) =>
  `expected a date range START..END such as 2026-12-20..2027-01-03, got ${debugStr(got)}`;
const pad = (n, width) => String(n).padStart(width, '0');

/** A day of the proleptic Gregorian calendar; `toString()` is `YYYY-MM-DD`. */
export class Date {
  /** Prefer `Date.parse` or `Date.of`, which check the calendar. */
  constructor(year, month, day) {
    this.year = year;
    this.month = month;
    this.day = day;
  }

  /** The date, or `undefined` when it is not in the calendar (`2026-02-29`). */
  static of(year, month, day) {
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
    return new Date(year, month, day);
  }

  /** Exactly `YYYY-MM-DD`, ignoring surrounding white space; throws a `ParseError`. */
  static parse(text) {
    const t = trim(text);
    if (!/^[0-9]{4}-[0-9]{2}-[0-9]{2}$/.test(t)) throw new ParseError(badDate(t));
    const [year, month, day] = [t.slice(0, 4), t.slice(5, 7), t.slice(8, 10)].map(Number);
    if (month < 1 || month > 12) throw new ParseError(`${badDate(t)} (there is no month ${month})`);
    const date = Date.of(year, month, day);
    if (date === undefined) {
      const why =
        day === 0
          ? 'there is no day 0'
          : `${MONTH_NAMES[month - 1]} ${pad(year, 4)} has ${daysInMonth(year, month)} days`;
      throw new ParseError(`${badDate(t)} (${why})`);
    }
    return date;
  }

  /** The day `timestamp` falls on at `offsetMinutes` from UTC. */
  static ofTimestamp(timestamp, offsetMinutes = 0) {
    const c = timestamp.civil(offsetMinutes);
    return new Date(c.year, c.month, c.day);
  }

  /** The date `days` days after 1970-01-01. */
  static fromDaysSinceEpoch(days) {
    return new Date(...civilFromDays(days));
  }

  /** Days since 1970-01-01 (negative before it). */
  daysSinceEpoch() {
    return daysFromCivil(this.year, this.month, this.day);
  }

  /** 0 for Monday up to 6 for Sunday. */
  weekday() {
    return (((this.daysSinceEpoch() + 3) % 7) + 7) % 7;
  }

  /** The date `days` days later (earlier when negative). */
  plusDays(days) {
    return Date.fromDaysSinceEpoch(this.daysSinceEpoch() + days);
  }

  /** Days from this date to `other`: 1 from a day to the next. */
  daysUntil(other) {
    return other.daysSinceEpoch() - this.daysSinceEpoch();
  }

  /** Negative, zero or positive as this date is before, on or after `other`. */
  compare(other) {
    return this.daysSinceEpoch() - other.daysSinceEpoch();
  }

  /** The first instant of this day at `offsetMinutes` from UTC. */
  start(offsetMinutes = 0) {
    return new Timestamp(this.daysSinceEpoch() * 86400 - offsetMinutes * 60);
  }

  toString() {
    return `${pad(this.year, 4)}-${pad(this.month, 2)}-${pad(this.day, 2)}`;
  }
}

/** The day `timestamp` falls on at `offsetMinutes` from UTC. */
export const dateOf = (timestamp, offsetMinutes = 0) => Date.ofTimestamp(timestamp, offsetMinutes);

/**
 * Consecutive days, both ends included (`2026-12-20..2027-01-03` is 15 days);
 * never empty. `toString()` is `START..END`.
 */
export class DateRange {
  /** Prefer `DateRange.parse`, which checks that `last` is not before `first`. */
  constructor(first, last) {
    this.first = first;
    this.last = last;
  }

  /**
   * `START..END`, both `YYYY-MM-DD`, white space around either allowed; one
   * day is `2026-12-25..2026-12-25`. Throws a `ParseError`.
   */
  static parse(text) {
    const t = trim(text);
    const at = t.indexOf('..');
    if (at < 0) throw new ParseError(badRange(t));
    const first = trim(t.slice(0, at));
    const last = trim(t.slice(at + 2));
    if (first === '' || last === '') throw new ParseError(badRange(t));
    const date = (side) => {
      try {
        return Date.parse(side);
      } catch (e) {
        if (e instanceof ParseError) throw new ParseError(`in the range ${debugStr(t)}: ${e.message}`);
        throw e;
      }
    };
    const start = date(first);
    const end = date(last);
    if (end.compare(start) < 0) {
      throw new ParseError(`the range ${debugStr(t)} ends before it starts; write the earlier date first`);
    }
    return new DateRange(start, end);
  }

  /** A comma-separated list of ranges; empty items are skipped. */
  static parseList(text) {
    return text
      .split(',')
      .map(trim)
      .filter((item) => item !== '')
      .map((item) => DateRange.parse(item));
  }

  /** The first of `ranges` that contains `date`, or `undefined`. */
  static find(ranges, date) {
    return ranges.find((r) => r.contains(date));
  }

  /** How many days the range covers, at least 1. */
  days() {
    return this.first.daysUntil(this.last) + 1;
  }

  /** True when `date` is one of the range's days. */
  contains(date) {
    return this.first.compare(date) <= 0 && date.compare(this.last) <= 0;
  }

  toString() {
    return `${this.first}..${this.last}`;
  }
}

/** Rust's `u32` parse: digits after an optional `+`. */
function whole(text) {
  const digits = text.startsWith('+') ? text.slice(1) : text;
  if (!/^[0-9]+$/.test(digits) || BigInt(digits) > 4294967295n) return undefined;
  return Number(digits);
}

/**
 * `H` or `HH:MM` up to 24:00 (Rust's `u32` parse of each side), in minutes
 * after midnight; `undefined` when it is not that.
 */
export function parseClock(text) {
  const at = text.indexOf(':');
  const hours = whole(at < 0 ? text : text.slice(0, at));
  const minutes = whole(at < 0 ? '0' : text.slice(at + 1));
  if (hours === undefined || minutes === undefined) return undefined;
  if (minutes > 59 || hours > 24 || (hours === 24 && minutes > 0)) return undefined;
  return hours * 60 + minutes;
}

/** A fixed offset from UTC, at most 14 hours either way; `toString()` is `+01:00`. */
export class UtcOffset {
  /** Minutes east of UTC (negative west); prefer `UtcOffset.fromMinutes`, which checks the range. */
  constructor(minutes) {
    this.minutes = minutes;
  }

  /** The offset of `minutes` east of UTC, or `undefined` beyond ±14 hours. */
  static fromMinutes(minutes) {
    return Number.isInteger(minutes) && Math.abs(minutes) <= 14 * 60 ? new UtcOffset(minutes) : undefined;
  }

  /** `+01:00`, `-05:30`, `+1`, `Z` or `UTC` (any case); throws a `ParseError`. */
  static parse(text) {
    const t = trim(text);
    if (['z', 'utc'].includes(asciiLower(t))) return new UtcOffset(0);
    const bad = new ParseError(`expected an offset such as +01:00 or -05:30, got ${debugStr(t)}`);
    if (t === '' || !'+-'.includes(t[0])) throw bad;
    const minutes = parseClock(t.slice(1));
    if (minutes === undefined || minutes > 14 * 60) throw bad;
    return new UtcOffset(t[0] === '-' ? -minutes : minutes);
  }

  toString() {
    const abs = Math.abs(this.minutes);
    return `${this.minutes < 0 ? '-' : '+'}${pad(Math.floor(abs / 60), 2)}:${pad(abs % 60, 2)}`;
  }
}

/** UTC itself, `+00:00`. */
UtcOffset.UTC = new UtcOffset(0);
