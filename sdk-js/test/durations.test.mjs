// Unit tests of `durations.js` (`parseDuration`, `Settings.getDuration`): the
// shared spec's forms and messages. Run with `node --test sdk-js/test/`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ParseError } from '../dates.js';
import { MAX_DURATION_SECONDS, messages, parseDuration } from '../durations.js';
import { Settings } from '../settings.js';

const message = (text) => {
  try {
    parseDuration(text);
  } catch (e) {
    assert.ok(e instanceof ParseError, `${JSON.stringify(text)} throws a ParseError`);
    return e.message;
  }
  return assert.fail(`${JSON.stringify(text)} parsed`);
};

test('durations parse every form of the spec into whole seconds', () => {
  for (const [text, seconds] of [
    ['90s', 90],
    ['15m', 900],
    ['2h', 7200],
    ['1d', 86400],
    ['1h30m', 5400],
    ['1d12h', 129600],
    ['0s', 0],
    ['05m', 300],
    ['1d2h3m4s', 93784],
    ['36500d', MAX_DURATION_SECONDS],
    ['36499d23h59m60s', MAX_DURATION_SECONDS],
  ]) {
    assert.equal(parseDuration(text), seconds, text);
  }
  assert.equal(MAX_DURATION_SECONDS, 3153600000);
});

test('durations of the wrong shape or too long are refused with the shared messages', () => {
  for (const bad of ['', 'h', '1x', '1.5h', '-1h', '+1h', '1m1h', '1h1h', ' 1h', '1h ', '1 h', '90', 'd1', '1H', '1h30', '１h']) {
    assert.equal(message(bad), messages.badDuration(bad), JSON.stringify(bad));
  }
  assert.equal(
    message('1.5h'),
    'expected a duration such as 90s, 15m, 2h, 1d or 1h30m (units d, h, m, s, largest first, each once), got "1.5h"',
  );
  const huge = `1${'0'.repeat(29)}s`;
  assert.equal(message(huge), `the duration "${huge}" is longer than 36500 days`);
  assert.equal(message('36500d1s'), messages.tooLong('36500d1s'));
  assert.equal(message('3153600001s'), messages.tooLong('3153600001s'));
});

test('getDuration names the key, and unset is undefined', () => {
  const settings = new Settings([
    ['cooldown', '1h30m'],
    ['grace', 'soon'],
  ]);
  assert.equal(settings.getDuration('cooldown'), 5400);
  assert.equal(settings.getDuration('missing'), undefined);
  assert.throws(() => settings.getDuration('grace'), {
    message:
      'expected a duration such as 90s, 15m, 2h, 1d or 1h30m (units d, h, m, s, largest first, each once), got "soon"',
    key: 'grace',
  });
  settings.rejectUnknown();
});
