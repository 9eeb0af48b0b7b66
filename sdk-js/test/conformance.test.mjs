// The cases in sdk/conformance/ that the Rust, Python and JavaScript SDKs must
// answer alike, byte for byte. Run with the host's Node.js (tests/tests/sdk_conformance.rs
// does): `node --test sdk-js/test/`.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { UtcOffset } from '../dates.js';
import { matches } from '../glob.js';
import { Settings, SettingsError } from '../settings.js';
import { Timestamp, WEEKDAYS } from '../time.js';
import { DailyHours, WeeklyWindow, parseWeekdays } from '../windows.js';

// A missing file fails its test (ENOENT): every SDK must answer every case.
const load = (name) =>
  JSON.parse(readFileSync(new URL(`../../sdk/conformance/${name}`, import.meta.url), 'utf8'));

function call(settings, [getter, key, ...args]) {
  const methods = {
    str: 'getStr',
    require_str: 'requireStr',
    u32: 'getU32',
    u32_at_least: 'getU32AtLeast',
    u64: 'getU64',
    i64: 'getI64',
    bool: 'getBool',
    list: 'getList',
    non_empty_list: 'getNonEmptyList',
    date: 'getDate',
    date_range: 'getDateRange',
    date_ranges: 'getDateRanges',
    utc_offset: 'getUtcOffset',
    duration: 'getDuration',
    weekdays: 'getWeekdays',
    daily_hours: 'getDailyHours',
  };
  let value;
  try {
    value = settings[methods[getter]](key, ...args);
  } catch (e) {
    if (e instanceof SettingsError) return { error: e.toString() };
    throw e;
  }
  if (getter === 'weekdays' && value !== undefined) value = value.map((d) => WEEKDAYS[d]);
  if (typeof value === 'bigint' || ['date', 'date_range', 'utc_offset', 'daily_hours'].includes(getter)) {
    value = value === undefined ? undefined : value.toString();
  }
  if (getter === 'date_ranges' && value !== undefined) value = value.map(String);
  return { ok: value === undefined ? null : value };
}

/** How many getter calls the cases make. */
const calls = (cases) => cases.reduce((n, c) => n + c.calls.length, 0);

function runCases(cases) {
  cases.forEach((c, index) => {
    const settings = new Settings(c.settings);
    assert.equal(c.calls.length, c.results.length);
    c.calls.forEach((args, i) => {
      assert.deepEqual(call(settings, args), c.results[i], `case ${index}, call ${JSON.stringify(args)}`);
    });
    let unknown = null;
    try {
      settings.rejectUnknown();
    } catch (e) {
      unknown = e.toString();
    }
    assert.equal(unknown, c.unknown, `case ${index}: rejectUnknown`);
  });
}

test('settings getters answer as the shared cases say', () => {
  const cases = load('settings.json');
  assert.ok(cases.length >= 10);
  runCases(cases);
});

test('date, date range and offset getters answer as the shared cases say', () => {
  const cases = load('dates.json');
  assert.ok(cases.length >= 4);
  runCases(cases);
});

test('globs match as the shared cases say', () => {
  const cases = load('globs.json');
  assert.ok(cases.length >= 50);
  for (const [pattern, text, expected] of cases) {
    assert.equal(matches(pattern, text), expected, `${JSON.stringify(pattern)} ${JSON.stringify(text)}`);
  }
});

test('duration getters answer as the shared cases say', () => {
  const cases = load('durations.json');
  assert.ok(calls(cases) >= 15);
  runCases(cases);
});

test(
  'weekday and hours getters and weekly windows answer as the shared cases say',
  () => {
    const { settings, windows } = load('windows.json');
    assert.ok(calls(settings) >= 8);
    runCases(settings);
    assert.ok(windows.length >= 8);
    windows.forEach((c, index) => {
      const window = new WeeklyWindow(
        parseWeekdays(c.window.days),
        DailyHours.parse(c.window.hours),
        UtcOffset.parse(c.window.offset),
      );
      const now = Timestamp.parseRfc3339(c.now);
      assert.notEqual(now, undefined, `case ${index}: now ${c.now}`);
      assert.equal(window.isOpen(now), c.open, `case ${index}: ${window} open at ${c.now}`);
      assert.equal(window.nextOpening(now).toString(), c.next_opening, `case ${index}: ${window} next opening after ${c.now}`);
    });
  },
);
