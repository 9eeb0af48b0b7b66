// Unit tests of the SDK's helpers that need no component: time, decisions,
// release helpers. Run with `node --test sdk-js/test/`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Decision, Reason } from '../decision.js';
import * as releases from '../releases.js';
import { Timestamp, parseWeekday } from '../time.js';

test('timestamps format, parse and give civil times', () => {
  assert.equal(new Timestamp(0).toString(), '1970-01-01T00:00:00Z');
  assert.equal(new Timestamp(1795343405).toString(), '2026-11-22T10:30:05Z');
  assert.equal(new Timestamp(951782400).toString(), '2000-02-29T00:00:00Z');
  assert.equal(new Timestamp(-1).toString(), '1969-12-31T23:59:59Z');
  assert.equal(new Timestamp(1795343405).civil(0).weekday, 6, 'a Sunday');
  const monday = new Timestamp(1795390200).civil(60);
  assert.deepEqual([monday.weekday, monday.hour, monday.minute], [0, 0, 30]);
  assert.equal(Timestamp.parseRfc3339('2026-11-22T11:30:05.123+01:00').seconds, 1795343405);
  for (const bad of ['2026-02-30T00:00:00Z', '2026-11-22T10:30:05', '2026-11-22T25:00:00Z', 'x']) {
    assert.equal(Timestamp.parseRfc3339(bad), undefined, bad);
  }
  assert.equal(parseWeekday('Thurs'), 3);
  assert.equal(parseWeekday('mo'), undefined);
  assert.equal(parseWeekday('Moon'), undefined);
});

test('decision builders fill the WIT decision', () => {
  const d = Decision.requireApproval('a').because('b').fromGroups(['dba']).minApprovals(0).instructions('check');
  assert.deepEqual(d.toWit(), {
    tag: 'require-approval',
    val: {
      reasons: [{ message: 'a' }, { message: 'b' }],
      approverGroups: ['dba'],
      minApprovals: 1,
      instructions: 'check',
    },
  });
  assert.deepEqual(Decision.fail('x').fromGroups(['dba']).toWit(), { tag: 'fail', val: [{ message: 'x' }] });
  assert.equal(Decision.requireApprovalFor([]), undefined);
  const about = Reason.about({ resourcePath: 'db/a' }, 'gone');
  assert.deepEqual(Decision.approve(about).toWit().val, [{ message: 'gone', resourcePath: 'db/a' }]);
});

test('release helpers select and count resources', () => {
  const r = (change, resourceType, resourcePath) => ({ change, resourceType, resourcePath, resourceName: 'n', attributes: [['k', 'v']] });
  const release = {
    resources: [r('delete', 'mysql', 'db/a'), r('create', 'svc', 'svc/b'), r('delete', 'mysql', 'db/eu/c'), r('no-operation', 's3', 'b/d')],
    metadata: [['commit', 'abc']],
    approvals: [
      { approver: 'bob', groups: ['dba'] },
      { approver: 'ann', groups: ['dba', 'sre'] },
      { approver: 'bob', groups: ['dba'] },
    ],
  };
  assert.deepEqual(releases.countByKind(release), [['CREATE', 1], ['DELETE', 2], ['NO_OPERATION', 1]]);
  assert.equal(releases.changesOfKind(release, 'DELETE').length, 2);
  assert.equal(releases.changedResources(release).length, 3);
  assert.equal(releases.destructiveChanges(release).length, 2);
  assert.equal(releases.resourcesOfType(release, 'mysql').length, 2);
  assert.equal(releases.resourcesOfTypes(release, ['my*', 's?']).length, 3);
  assert.equal(releases.resourcesMatching(release, 'db/*').length, 1);
  assert.equal(releases.resourcesMatching(release, 'db/**').length, 2);
  assert.equal(releases.metadata(release, 'commit'), 'abc');
  assert.equal(releases.attribute(release.resources[0], 'k'), 'v');
  assert.deepEqual(releases.approversFor(release, 'dba'), ['ann', 'bob']);
  assert.equal(releases.parseChangeKind(' update_in_place '), 'UPDATE_IN_PLACE');
  assert.equal(releases.parseChangeKind('DESTROY'), undefined);
  assert.equal(releases.kindName('update-in-place'), 'UPDATE_IN_PLACE');
});
