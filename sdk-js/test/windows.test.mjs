// Unit tests of `windows.js` (the Rust SDK's `windows` tests, ported): day
// lists, daily hours incl. overnight, offsets, is-open and next-opening. Run
// with `node --test sdk-js/test/`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { UtcOffset } from '../dates.js';
import { Settings } from '../settings.js';
import { Timestamp } from '../time.js';
import { DailyHours, WeeklyWindow, messages, parseWeekdays } from '../windows.js';

const at = (text) => Timestamp.parseRfc3339(text);
const window = (days, hours, offset) =>
  new WeeklyWindow(parseWeekdays(days), DailyHours.parse(hours), UtcOffset.parse(offset));
const errorOf = (f) => {
  try {
    f();
  } catch (e) {
    return e.message;
  }
  return assert.fail('no error');
};

test('offsets parse, print and refuse what is out of range', () => {
  assert.equal(UtcOffset.parse('+01:00').minutes, 60);
  assert.equal(UtcOffset.parse('-05:30').minutes, -330);
  assert.equal(UtcOffset.parse('utc').minutes, 0);
  assert.equal(UtcOffset.parse('+14:00').toString(), '+14:00');
  assert.equal(UtcOffset.UTC.toString(), '+00:00');
  assert.equal(UtcOffset.fromMinutes(-840).toString(), '-14:00');
  assert.equal(UtcOffset.fromMinutes(841), undefined);
  for (const bad of ['CET', '+15:00', '01:00', '+1:60', '']) {
    assert.equal(
      errorOf(() => UtcOffset.parse(bad)),
      `expected an offset such as +01:00 or -05:30, got ${JSON.stringify(bad)}`,
    );
  }
});

test('day lists wrap around the week and explain errors', () => {
  assert.deepEqual(parseWeekdays('fri-mon'), [0, 4, 5, 6]);
  assert.deepEqual(parseWeekdays('wed, Monday,wed'), [0, 2]);
  assert.deepEqual(parseWeekdays('mon-fri'), [0, 1, 2, 3, 4]);
  assert.deepEqual(parseWeekdays('sun-sun'), [6]);
  assert.deepEqual(parseWeekdays(' sat , sun '), [5, 6]);
  assert.equal(errorOf(() => parseWeekdays('funday')), 'unknown day "funday"; use mon, tue, wed, thu, fri, sat, sun');
  assert.equal(errorOf(() => parseWeekdays('mon-tue-wed')), messages.unknownDay('tue-wed'));
  assert.equal(errorOf(() => parseWeekdays('mon- ')), messages.unknownDay(''));
  assert.equal(errorOf(() => parseWeekdays(' , ')), 'no days given; e.g. mon-fri');
});

test('hours parse, print and explain errors', () => {
  const h = DailyHours.parse('9-17:30');
  assert.deepEqual([h.startMinute, h.endMinute, h.overnight()], [540, 1050, false]);
  assert.equal(h.toString(), '09:00-17:30');
  assert.ok(DailyHours.parse('22:00-02:00').overnight());
  assert.equal(DailyHours.parse('00:00-24:00').endMinute, 1440);
  assert.equal(DailyHours.parse('00:00-24:00').toString(), '00:00-24:00');
  for (const [bad, expected] of [
    ['9', 'expected START-END such as 09:00-17:00, got "9"'],
    ['9:00-9:00', 'the window "9:00-9:00" is empty; start and end are equal'],
    ['25:00-26:00', 'expected a time such as 09:00, got "25:00"'],
    ['24:00-02:00', 'the start "24:00" must be before 24:00'],
    ['9:60-10', 'expected a time such as 09:00, got "9:60"'],
    ['9-', messages.badClock('')],
  ]) {
    assert.equal(errorOf(() => DailyHours.parse(bad)), expected, bad);
  }
});

test('windows open, close and wrap overnight', () => {
  const office = window('mon-thu', '09:00-17:00', 'Z');
  assert.ok(office.isOpen(at('2026-11-23T09:00:00Z')), 'Monday 09:00');
  assert.ok(!office.isOpen(at('2026-11-23T17:00:00Z')), 'Monday 17:00');
  assert.ok(!office.isOpen(at('2026-11-27T10:00:00Z')), 'Friday');
  assert.equal(office.nextOpening(at('2026-11-27T10:00:00Z')).toString(), '2026-11-30T09:00:00Z');
  assert.equal(office.nextOpening(at('2026-11-23T06:00:00Z')).toString(), '2026-11-23T09:00:00Z');
  assert.equal(office.nextOpening(at('2026-11-23T09:00:00Z')).toString(), '2026-11-24T09:00:00Z');

  const night = window('fri-mon', '22:00-02:00', '+01:00');
  assert.equal(night.toString(), 'Mon, Fri, Sat, Sun 22:00-02:00 (UTC+01:00)');
  assert.ok(night.isOpen(at('2026-11-22T23:30:00Z')), 'Monday 00:30 local');
  assert.ok(night.isOpen(at('2026-11-24T00:00:00Z')), 'Tuesday 01:00 local');
  assert.ok(!night.isOpen(at('2026-11-25T00:00:00Z')), 'Wednesday 01:00 local');
  assert.equal(night.nextOpening(at('2026-11-25T00:00:00Z')).toString(), '2026-11-27T21:00:00Z');

  const weekly = window('wed', '10:00-11:00', '-05:30');
  assert.equal(weekly.nextOpening(at('2026-11-25T15:30:00Z')).toString(), '2026-12-02T15:30:00Z');
  assert.ok(weekly.isOpen(at('2026-11-25T15:30:00Z')));
});

test('weekday and hours getters name the key', () => {
  const settings = new Settings([
    ['days', 'sat-sun'],
    ['hours', '22-2'],
    ['bad-days', 'weekend'],
    ['bad-hours', '9 to 5'],
  ]);
  assert.deepEqual(settings.getWeekdays('days'), [5, 6]);
  assert.ok(settings.getDailyHours('hours').overnight());
  assert.equal(settings.getWeekdays('none'), undefined);
  assert.equal(settings.getDailyHours('none'), undefined);
  assert.throws(() => settings.getWeekdays('bad-days'), (e) =>
    e.toString() === `setting 'bad-days': unknown day "weekend"; use mon, tue, wed, thu, fri, sat, sun`);
  assert.throws(() => settings.getDailyHours('bad-hours'), (e) =>
    e.toString() === `setting 'bad-hours': expected START-END such as 09:00-17:00, got "9 to 5"`);
  settings.rejectUnknown();
});
