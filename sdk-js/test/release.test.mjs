// Unit tests of `release.js` and the release helpers over it: a `Release`
// read through a handle answers exactly as one held in memory, reads only
// what a helper needs, and follows the host's pages. The handle here is an
// in-memory implementation of the WIT `release` resource's contract (pages
// capped like the host's, filters by kinds and exact type, sorted approvers),
// which records every call. Run with `node --test sdk-js/test/`.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { exportPolicy } from '../policy.js';
import { Decision } from '../decision.js';
import { Release } from '../release.js';
import * as releases from '../releases.js';

const WIT_KINDS = ['create', 'delete', 'update-in-place', 'replace', 'recreate', 'no-operation'];
const FLAGS = ['create', 'delete', 'updateInPlace', 'replace', 'recreate', 'noOperation'];

/** The WIT `release` resource over plain data; `calls` lists the methods called. */
function handleOver(data, cap = 3) {
  const calls = [];
  const passes = (filter) => (r) =>
    filter.kinds[FLAGS[WIT_KINDS.indexOf(r.change)]] && (filter.resourceType === undefined || r.resourceType === filter.resourceType);
  const page = (select, start, max) => {
    const resources = [];
    for (let i = start; i < data.resources.length; i++) {
      if (!select(data.resources[i])) continue;
      if (resources.length === Math.min(max, cap)) return { resources, next: i };
      resources.push(data.resources[i]);
    }
    return { resources, next: undefined };
  };
  const handle = {
    summary: () => {
      calls.push('summary');
      return {
        environmentName: data.environmentName,
        releaseStream: data.releaseStream,
        resourceCount: data.resources.length,
        countsByKind: Uint32Array.from(WIT_KINDS, (k) => data.resources.filter((r) => r.change === k).length),
        metadataCount: data.metadata.length,
        approvalCount: data.approvals.length,
      };
    },
    metadata: (key) => {
      calls.push('metadata');
      return data.metadata.find(([k]) => k === key)?.[1];
    },
    metadataEntries: () => (calls.push('metadataEntries'), data.metadata),
    approvals: () => (calls.push('approvals'), data.approvals),
    approversFor: (group) => {
      calls.push('approversFor');
      const names = data.approvals.filter((a) => a.groups.includes(group)).map((a) => a.approver);
      return [...new Set(names)].sort();
    },
    resourceAt: (index) => (calls.push('resourceAt'), data.resources[index]),
    resources: (start, max) => (calls.push('resources'), page(() => true, start, max)),
    findResources: (filter, start, max) => (calls.push('findResources'), page(passes(filter), start, max)),
    countMatching: (filter) => (calls.push('countMatching'), data.resources.filter(passes(filter)).length),
  };
  return { handle, calls };
}

const r = (change, resourceType, resourcePath) => ({ change, resourceType, resourcePath, resourceName: 'n', attributes: [] });
const DATA = {
  environmentName: 'prod',
  releaseStream: 'PROD',
  resources: [
    r('delete', 'mysql', 'db/a'),
    r('create', 'svc', 'svc/b'),
    r('update-in-place', 'svc', 'svc/c'),
    r('recreate', 'mysql', 'db/d'),
    r('delete', 's3', 'b/e'),
    r('no-operation', 's3', 'b/f'),
    r('replace', 'mysql', 'db/g'),
    r('delete', 'mysql', 'db/eu/h'),
  ],
  metadata: [['commit', 'abc'], ['team', 'data']],
  approvals: [
    { approver: 'bob', groups: ['dba'], at: '2026-11-20T10:00:00Z' },
    { approver: 'Zed', groups: ['dba'], at: '2026-11-20T10:00:00Z' },
    { approver: 'ann', groups: ['dba', 'sre'], at: '2026-11-20T10:00:00Z' },
  ],
};

const paths = (list) => list.map((x) => x.resourcePath);

test('a release read through the handle answers as one held in memory', () => {
  const memory = new Release(DATA);
  const { handle } = handleOver(DATA);
  const hosted = Release.fromHost(handle);
  for (const release of [memory, hosted, DATA]) {
    assert.deepEqual(releases.countByKind(release), [['CREATE', 1], ['DELETE', 3], ['UPDATE_IN_PLACE', 1], ['REPLACE', 1], ['RECREATE', 1], ['NO_OPERATION', 1]]);
    assert.deepEqual(paths(releases.changesOfKind(release, 'DELETE')), ['db/a', 'b/e', 'db/eu/h']);
    assert.deepEqual(paths(releases.changesOfKinds(release, ['CREATE', 'REPLACE'])), ['svc/b', 'db/g']);
    assert.deepEqual(paths(releases.destructiveChanges(release)), ['db/a', 'db/d', 'b/e', 'db/g', 'db/eu/h']);
    assert.equal(releases.changedResources(release).length, 7);
    assert.deepEqual(paths(releases.resourcesOfType(release, 'mysql')), ['db/a', 'db/d', 'db/g', 'db/eu/h']);
    assert.equal(releases.changesOfKind(release, 'DESTROY').length, 0);
    assert.equal(releases.metadata(release, 'team'), 'data');
    assert.equal(releases.metadata(release, 'nope'), undefined);
    assert.deepEqual(releases.approversFor(release, 'dba'), ['Zed', 'ann', 'bob']);
    assert.deepEqual(releases.approversFor(release, 'on-call'), []);
    assert.deepEqual(paths(releases.resourcesMatching(release, 'db/**')), ['db/a', 'db/d', 'db/g', 'db/eu/h']);
  }
  for (const release of [memory, hosted]) {
    assert.equal(release.environmentName, 'prod');
    assert.equal(release.releaseStream, 'PROD');
    assert.equal(release.resourceCount, 8);
    assert.equal(release.countMatching(['DELETE'], 'mysql'), 2);
    assert.equal(release.resourceAt(3).resourcePath, 'db/d');
    assert.equal(release.resourceAt(8), undefined);
    assert.deepEqual(paths(release.resources), paths(DATA.resources));
    assert.deepEqual(release.metadata, DATA.metadata);
    assert.equal(release.approvals.length, 3);
  }
});

test('helpers read only what they need from the host, page by page', () => {
  const { handle, calls } = handleOver(DATA, 2);
  const release = Release.fromHost(handle);
  assert.deepEqual(calls, ['summary']);
  releases.countByKind(release);
  assert.equal(release.resourceCount, 8);
  assert.deepEqual(calls, ['summary'], 'counts come with the summary');
  // Five destructive resources in pages of at most 2: three host calls, and
  // no other resource leaves the host.
  assert.equal(releases.destructiveChanges(release).length, 5);
  assert.deepEqual(calls.slice(1), ['findResources', 'findResources', 'findResources']);
  calls.length = 0;
  releases.metadata(release, 'commit');
  releases.approversFor(release, 'dba');
  assert.deepEqual(calls, ['metadata', 'approversFor'], 'lookups, not the lists');
  calls.length = 0;
  assert.equal(release.resources.length, 8);
  assert.equal(release.resources.length, 8);
  assert.deepEqual(calls, ['resources', 'resources', 'resources', 'resources'], 'read once, in pages');
  calls.length = 0;
  assert.equal(releases.changesOfKind(release, 'DELETE').length, 3);
  assert.equal(release.countMatching(['DELETE']), 3);
  assert.deepEqual(calls, [], 'once read, resources are filtered in the policy');
});

test('a page that does not advance stops the policy instead of looping', () => {
  const { handle } = handleOver(DATA);
  handle.findResources = () => ({ resources: [DATA.resources[0]], next: 0 });
  assert.throws(() => releases.destructiveChanges(Release.fromHost(handle)), /did not advance/);
});

test('exportPolicy hands evaluate a Release over the host handle', () => {
  const seen = [];
  const exports = exportPolicy({
    name: 'p',
    validateSettings: (settings) => settings.getList('groups') ?? [],
    evaluate(release, groups) {
      seen.push(release instanceof Release, release.environmentName);
      return Decision.approve(`${releases.destructiveChanges(release).length} destructive for ${groups}`);
    },
  });
  const { handle, calls } = handleOver(DATA);
  assert.deepEqual(exports.evaluate(handle, [['groups', 'dba']]).val, [{ message: '5 destructive for dba' }]);
  assert.deepEqual(seen, [true, 'prod']);
  assert.ok(!calls.includes('resources'), 'never read every resource');
  assert.deepEqual(exports.evaluate(DATA, []).val, [{ message: '5 destructive for ' }], 'a plain record too');
  assert.deepEqual(exports.evaluate(handle, [['group', 'x']]), {
    tag: 'err',
    val: "invalid settings: setting 'group': unknown setting (known settings: groups)",
  });
  assert.equal(exports.validateSettings([['groups', 'dba']]), undefined);
  assert.deepEqual(exports.describe(), { name: 'p', version: '0.1.0', description: '' });
});
