// Evaluation time as a plain UTC timestamp with the calendar questions gate
// logic asks (weekday, hour, date), without a time-zone database in the
// guest: the Rust SDK's `gatehouse_sdk::time`.

import { asciiLower, trim } from './text.js';

/** The three-letter English weekday names, Monday first (index 0). */
export const WEEKDAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const FULL_WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

/**
 * 0 for Monday up to 6 for Sunday, from `mon`, `Monday`, `TUE`, `Thurs` (a
 * prefix of the English name of at least three letters, any ASCII case);
 * `undefined` otherwise.
 */
export function parseWeekday(text) {
  const word = asciiLower(trim(text));
  if (word.length < 3) return undefined;
  const index = FULL_WEEKDAYS.findIndex((full) => full.startsWith(word));
  return index < 0 ? undefined : index;
}

/** A leap year of the proleptic Gregorian calendar. */
export function isLeapYear(year) {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

/** Days in a month (1 to 12) of the proleptic Gregorian calendar. */
export function daysInMonth(year, month) {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

const floorDiv = (a, b) => Math.floor(a / b);
const mod = (a, b) => ((a % b) + b) % b;

/** Days since 1970-01-01 of a civil date. */
export function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = floorDiv(y, 400);
  const yoe = mod(y, 400);
  const m = month > 2 ? month - 3 : month + 9;
  const doy = floorDiv(153 * m + 2, 5) + day - 1;
  const doe = yoe * 365 + floorDiv(yoe, 4) - floorDiv(yoe, 100) + doy;
  return era * 146097 + doe - 719468;
}

/** `[year, month, day]` of a count of days since 1970-01-01. */
export function civilFromDays(days) {
  const z = days + 719468;
  const era = floorDiv(z, 146097);
  const doe = mod(z, 146097);
  const yoe = floorDiv(doe - floorDiv(doe, 1460) + floorDiv(doe, 36524) - floorDiv(doe, 146096), 365);
  const doy = doe - (365 * yoe + floorDiv(yoe, 4) - floorDiv(yoe, 100));
  const mp = floorDiv(5 * doy + 2, 153);
  const day = doy - floorDiv(153 * mp + 2, 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n, width) => String(n).padStart(width, '0');

/** Seconds since the Unix epoch, UTC. `toString()` is RFC 3339, `2026-11-22T10:00:00Z`. */
export class Timestamp {
  /** A timestamp of `seconds` (a number or BigInt) since the epoch. */
  constructor(seconds) {
    this.seconds = Number(seconds);
  }

  /**
   * The calendar time at a fixed offset from UTC, in minutes (+60 for CET):
   * `{ year, month (1-12), day, hour, minute, second, weekday (0 = Monday) }`.
   */
  civil(offsetMinutes = 0) {
    const local = this.seconds + offsetMinutes * 60;
    const days = floorDiv(local, 86400);
    const secs = mod(local, 86400);
    const [year, month, day] = civilFromDays(days);
    return {
      year,
      month,
      day,
      hour: floorDiv(secs, 3600),
      minute: floorDiv(secs, 60) % 60,
      second: secs % 60,
      // 1970-01-01 was a Thursday (index 3).
      weekday: mod(days + 3, 7),
    };
  }

  /** The timestamp `seconds` later. */
  plusSeconds(seconds) {
    return new Timestamp(this.seconds + seconds);
  }

  /**
   * Parses RFC 3339 (`2026-11-20T10:00:00Z`, `2026-11-20T11:00:00.5+01:00`);
   * fractional seconds are dropped; `undefined` when it is not that shape.
   */
  static parseRfc3339(text) {
    const m = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(
      trim(text),
    );
    if (m === null) return undefined;
    const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
    if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
    if (hour > 23 || minute > 59 || second > 60) return undefined;
    let offset = 0;
    if (m[7] === undefined) {
      const h = Number(m[9]);
      const mins = Number(m[10]);
      if (h > 23 || mins > 59) return undefined;
      offset = (h * 3600 + mins * 60) * (m[8] === '-' ? -1 : 1);
    }
    const days = daysFromCivil(year, month, day);
    return new Timestamp(days * 86400 + hour * 3600 + minute * 60 + Math.min(second, 59) - offset);
  }

  toString() {
    const c = this.civil(0);
    return (
      `${pad(c.year, 4)}-${pad(c.month, 2)}-${pad(c.day, 2)}T` +
      `${pad(c.hour, 2)}:${pad(c.minute, 2)}:${pad(c.second, 2)}Z`
    );
  }
}
