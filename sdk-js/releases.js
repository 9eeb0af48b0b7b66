// The questions gate logic asks all the time (the Rust SDK's `Release` and
// `ResourceChange` helpers), as functions of the release `evaluate` receives.
//
// Under `gatehouse:policy@0.2.0` that is a `Release` (release.js) over the
// host's handle, and these helpers read only what they need: `countByKind`
// reads no resource, `changesOfKind`, `changedResources`,
// `destructiveChanges` and `resourcesOfType` let the host select the
// resources, `metadata` and `approversFor` are host lookups. They work the
// same on a `new Release({...})` or on a plain object with `resources`,
// `metadata` and `approvals` arrays (unit tests).
//
// Change kinds are named by their Facets spelling: `CREATE`, `DELETE`,
// `UPDATE_IN_PLACE`, `REPLACE`, `RECREATE`, `NO_OPERATION` (the bindings
// spell them `'create'`, `'update-in-place'`, ...; `kindName` converts).

import { matches, matchesAny } from './glob.js';
import { CHANGE_KINDS, Release, kindName } from './release.js';
import { asciiLower, compareCodePoints, trim } from './text.js';

export { CHANGE_KINDS, kindName };

/** Kinds that destroy an existing object. */
export const DESTRUCTIVE_KINDS = ['DELETE', 'REPLACE', 'RECREATE'];

/** Kinds that really change something (all but `NO_OPERATION`). */
export const CHANGING_KINDS = CHANGE_KINDS.filter((kind) => kind !== 'NO_OPERATION');

/** The Facets spelling (`DELETE`, `update_in_place`, ...), ignoring ASCII case; or `undefined`. */
export function parseChangeKind(text) {
  const wanted = asciiLower(trim(text));
  return CHANGE_KINDS.find((kind) => asciiLower(kind) === wanted);
}

/** A short human label, `type 'name' (path)`, for reasons and logs. */
export function label(resource) {
  return `${resource.resourceType} '${resource.resourceName}' (${resource.resourcePath})`;
}

/** The value of a source attribute of a resource, e.g. `terraform.actions`. */
export function attribute(resource, key) {
  const pair = resource.attributes.find(([k]) => k === key);
  return pair === undefined ? undefined : pair[1];
}

/** Resources whose change is one of `kinds` (and of `resourceType` when given), selected by the host when it can. */
function select(release, kinds, resourceType = undefined) {
  if (release instanceof Release) return release.select(kinds, resourceType);
  return release.resources.filter(
    (r) => kinds.includes(kindName(r.change)) && (resourceType === undefined || r.resourceType === resourceType),
  );
}

/** Resources changed in exactly this way (`DELETE`). */
export function changesOfKind(release, kind) {
  return select(release, [kind]);
}

/** Resources changed in any of these ways (`['DELETE', 'REPLACE']`). */
export function changesOfKinds(release, kinds) {
  return select(release, kinds);
}

/** Resources that really change (everything but NO_OPERATION). */
export function changedResources(release) {
  return select(release, CHANGING_KINDS);
}

/** Resources deleted, replaced or recreated. */
export function destructiveChanges(release) {
  return select(release, DESTRUCTIVE_KINDS);
}

/**
 * How many resources change in each way, in `CHANGE_KINDS` order, leaving out
 * kinds with no resource: `[['CREATE', 1], ['DELETE', 2]]`. Counted by the
 * host: no resource is read.
 */
export function countByKind(release) {
  let counts;
  if (release instanceof Release) {
    counts = release.countsByKind();
  } else {
    counts = CHANGE_KINDS.map(() => 0);
    for (const r of release.resources) counts[CHANGE_KINDS.indexOf(kindName(r.change))] += 1;
  }
  return CHANGE_KINDS.map((kind, i) => [kind, counts[i]]).filter(([, count]) => count > 0);
}

/** Resources of one type, compared exactly (`mysql`). */
export function resourcesOfType(release, resourceType) {
  return select(release, CHANGE_KINDS, resourceType);
}

/** Resources whose type matches any of the globs (`aws_db_*`). Reads every resource. */
export function resourcesOfTypes(release, patterns) {
  return release.resources.filter((r) => matchesAny(patterns, r.resourceType));
}

/** Resources whose path matches a glob (`datastores/**`). Reads every resource. */
export function resourcesMatching(release, pattern) {
  return release.resources.filter((r) => matches(pattern, r.resourcePath));
}

/** A metadata value of the release, e.g. `commit`. */
export function metadata(release, key) {
  if (release instanceof Release) return release.metadataValue(key);
  const pair = release.metadata.find(([k]) => k === key);
  return pair === undefined ? undefined : pair[1];
}

/** Approvals given for a group, each approver once, sorted (by code point, as the Rust SDK sorts). */
export function approversFor(release, group) {
  if (release instanceof Release) return release.approversFor(group);
  const names = release.approvals.filter((a) => a.groups.includes(group)).map((a) => a.approver);
  return [...new Set(names)].sort(compareCodePoints);
}
