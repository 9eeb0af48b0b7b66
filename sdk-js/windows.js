// Weekly windows: days of the week, hours of the day and a fixed UTC offset,
// with "is it open now?" and "when does it open next?" (the Rust SDK's
// `gatehouse_sdk::windows`), with parse errors worded exactly as the Rust SDK
// words them. `Settings.getWeekdays` and `getDailyHours` prefix them with
// `setting 'KEY': `; `Settings.getUtcOffset` reads the offset.
//
//     const window = new WeeklyWindow(parseWeekdays('mon-fri'), DailyHours.parse('09:00-17:00'),
//       UtcOffset.parse('+01:00'));
//     window.isOpen(host.now());      // false on a Saturday
//     window.nextOpening(host.now()); // a Timestamp: Monday 08:00 UTC
//
// Days are numbers, 0 for Monday up to 6 for Sunday (as `Timestamp.civil`
// gives them); `WEEKDAYS[day]` is the name (`Mon`).

import { ParseError, UtcOffset, parseClock } from './dates.js';
import { debugStr, trim } from './text.js';
import { WEEKDAYS, parseWeekday } from './time.js';

export { UtcOffset };

/** The user-facing messages, word for word the Rust SDK's (`dates::messages`). */
export const messages = {
  /** A day name that is not a weekday. */
  unknownDay: (got) => `unknown day ${debugStr(got)}; use mon, tue, wed, thu, fri, sat, sun`,
  /** A day list with no days. */
  noDays: () => 'no days given; e.g. mon-fri',
  /** Hours of the wrong shape. */
  badHours: (got) => `expected START-END such as 09:00-17:00, got ${debugStr(got)}`,
  /** A clock time of the wrong shape. */
  badClock: (got) => `expected a time such as 09:00, got ${debugStr(got)}`,
  /** Hours that start at 24:00. */
  startTooLate: (start) => `the start ${debugStr(start)} must be before 24:00`,
  /** Hours that start and end at the same time. */
  emptyHours: (got) => `the window ${debugStr(got)} is empty; start and end are equal`,
};

/** Sorted, without repeats. */
const sortedDays = (days) => [...new Set(days)].sort((a, b) => a - b);

/**
 * Parses a list of days: `mon-fri`, `mon,wed,fri`, `sat-sun,wed`, full names
 * too (`Monday`, `thurs`); a range wraps around the week (`fri-mon`). Returns
 * day numbers (0 = Monday), sorted, without repeats; throws a `ParseError`.
 */
export function parseWeekdays(text) {
  const days = [];
  const day = (name) => {
    const index = parseWeekday(name);
    if (index === undefined) throw new ParseError(messages.unknownDay(name));
    return index;
  };
  for (const part of text.split(',').map(trim).filter((p) => p !== '')) {
    const dash = part.indexOf('-');
    if (dash < 0) {
      days.push(day(part));
      continue;
    }
    const from = day(trim(part.slice(0, dash)));
    const to = day(trim(part.slice(dash + 1)));
    for (let i = from; ; i = (i + 1) % 7) {
      days.push(i);
      if (i === to) break;
    }
  }
  if (days.length === 0) throw new ParseError(messages.noDays());
  return sortedDays(days);
}

/** `H` or `HH:MM` to minutes after midnight; throws `messages.badClock`. */
function clockMinutes(text) {
  const minutes = parseClock(text);
  if (minutes === undefined) throw new ParseError(messages.badClock(text));
  return minutes;
}

const clock = (minutes) =>
  `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;

/**
 * Hours of the day, in minutes after midnight; an end at or before the start
 * is on the next day (an overnight window such as `22:00-02:00`).
 * `toString()` is `09:00-17:00`.
 */
export class DailyHours {
  /** Prefer `DailyHours.parse`, which checks the times. */
  constructor(startMinute, endMinute) {
    /** Opening time, minutes after midnight (0 to 1439). */
    this.startMinute = startMinute;
    /** Closing time, minutes after midnight (1 to 1440); at or before the start it is on the next day. */
    this.endMinute = endMinute;
  }

  /**
   * Parses `09:00-17:30` or `9-17`; `24:00` is allowed as an end, start and
   * end must differ. Throws a `ParseError`.
   */
  static parse(text) {
    const t = trim(text);
    const dash = t.indexOf('-');
    if (dash < 0) throw new ParseError(messages.badHours(t));
    const from = trim(t.slice(0, dash));
    const start = clockMinutes(from);
    const end = clockMinutes(trim(t.slice(dash + 1)));
    if (start >= 24 * 60) throw new ParseError(messages.startTooLate(from));
    if (start === end) throw new ParseError(messages.emptyHours(t));
    return new DailyHours(start, end);
  }

  /** True when the window closes the day after it opens. */
  overnight() {
    return this.endMinute <= this.startMinute;
  }

  toString() {
    return `${clock(this.startMinute)}-${clock(this.endMinute)}`;
  }
}

/**
 * A window that opens on some days of the week, for some hours, at a UTC
 * offset. `toString()` is `Mon, Tue 09:00-17:00 (UTC+01:00)`.
 */
export class WeeklyWindow {
  /**
   * The window opening on `days` (day numbers, 0 = Monday; an overnight
   * window opens on them and closes the next morning) for `hours` (a
   * `DailyHours`) at `offset` (a `UtcOffset`, UTC when not given).
   */
  constructor(days, hours, offset = UtcOffset.UTC) {
    /** The days on which the window opens, Monday first. */
    this.days = sortedDays(days);
    /** The hours. */
    this.hours = hours;
    /** The offset the days and hours are read at. */
    this.offset = offset;
  }

  /** The civil time of the `Timestamp` `t` at the window's offset. */
  local(t) {
    return t.civil(this.offset.minutes);
  }

  /** True when the `Timestamp` `now` falls inside the window. */
  isOpen(now) {
    const local = this.local(now);
    const minute = local.hour * 60 + local.minute;
    const today = this.days.includes(local.weekday);
    const { startMinute: start, endMinute: end } = this.hours;
    if (!this.hours.overnight()) return today && minute >= start && minute < end;
    const yesterday = (local.weekday + 6) % 7;
    return (today && minute >= start) || (this.days.includes(yesterday) && minute < end);
  }

  /** When the window next opens after the `Timestamp` `now` (strictly later), a `Timestamp`. */
  nextOpening(now) {
    const local = this.local(now);
    const midnight = now.plusSeconds(-(local.hour * 3600 + local.minute * 60 + local.second));
    const start = this.hours.startMinute * 60;
    for (let dayOffset = 0; dayOffset <= 7; dayOffset++) {
      const opening = midnight.plusSeconds(dayOffset * 86400 + start);
      if (this.days.includes((local.weekday + dayOffset) % 7) && opening.seconds > now.seconds) {
        return opening;
      }
    }
    return midnight.plusSeconds(7 * 86400 + start);
  }

  toString() {
    const days = this.days.map((d) => WEEKDAYS[d]).join(', ');
    return `${days} ${this.hours} (UTC${this.offset})`;
  }
}
