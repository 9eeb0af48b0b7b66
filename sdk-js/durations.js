// Durations written as `90s`, `15m`, `2h`, `1d` or `1h30m` (the Rust SDK's
// `gatehouse_sdk::durations`), as whole seconds, with parse errors worded
// exactly as the Rust SDK words them. `Settings.getDuration` prefixes them
// with `setting 'KEY': `.

import { ParseError } from './dates.js';
import { debugStr } from './text.js';

/** The longest duration accepted: 36500 days, in seconds (exact in a Number). */
export const MAX_DURATION_SECONDS = 36500 * 86400;

/** Seconds per unit, largest first: the order the parts must come in. */
const UNITS = [
  ['d', 86400n],
  ['h', 3600n],
  ['m', 60n],
  ['s', 1n],
];

/** The user-facing messages, word for word the Rust SDK's `durations::messages`. */
export const messages = {
  /** Text that is not a duration. */
  badDuration: (got) =>
    'expected a duration such as 90s, 15m, 2h, 1d or 1h30m ' +
    `(units d, h, m, s, largest first, each once), got ${debugStr(got)}`,
  /** A duration over `MAX_DURATION_SECONDS`. */
  tooLong: (got) => `the duration ${debugStr(got)} is longer than 36500 days`,
};

/**
 * Whole seconds of one or more `<digits><unit>` parts, units `d`, `h`, `m`,
 * `s`, each at most once and largest first, with no spaces, sign or
 * fraction: `90s` is 90, `1h30m` is 5400, `0s` is 0. At most 36500 days.
 * Throws a `ParseError` (`messages.badDuration` or `messages.tooLong`).
 */
export function parseDuration(text) {
  const parts = [];
  let at = 0;
  let nextUnit = 0;
  while (at < text.length) {
    let end = at;
    while (end < text.length && text[end] >= '0' && text[end] <= '9') end++;
    const unit = UNITS.findIndex(([name]) => name === text[end]);
    if (end === at || unit < nextUnit) throw new ParseError(messages.badDuration(text));
    parts.push([text.slice(at, end), UNITS[unit][1]]);
    nextUnit = unit + 1;
    at = end + 1;
  }
  if (parts.length === 0) throw new ParseError(messages.badDuration(text));
  // BigInt arithmetic: a part of any number of digits is summed exactly, so
  // an enormous value gives the "longer than" message, never a wrong total.
  let total = 0n;
  for (const [digits, seconds] of parts) total += BigInt(digits) * seconds;
  if (total > BigInt(MAX_DURATION_SECONDS)) throw new ParseError(messages.tooLong(text));
  return Number(total);
}
