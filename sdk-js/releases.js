// The release under decision, with the questions gate logic asks all the
// time (the Rust SDK's `Release` and `ResourceChange` helpers), as functions
// on the release record componentize-js passes (`release.resources`, each
// with `resourceType`, `resourceName`, `resourcePath`, `change`, `attributes`).
//
// Change kinds are named by their Facets spelling: `CREATE`, `DELETE`,
// `UPDATE_IN_PLACE`, `REPLACE`, `RECREATE`, `NO_OPERATION` (the bindings
// spell them `'create'`, `'update-in-place'`, ...; `kindName` converts).

import { matches, matchesAny } from './glob.js';
import { asciiLower, trim } from './text.js';

/** Every change kind, in the order of the WIT enum. */
export const CHANGE_KINDS = ['CREATE', 'DELETE', 'UPDATE_IN_PLACE', 'REPLACE', 'RECREATE', 'NO_OPERATION'];

/** Kinds that destroy an existing object. */
export const DESTRUCTIVE_KINDS = ['DELETE', 'REPLACE', 'RECREATE'];

/** The Facets spelling of a WIT change kind: `'update-in-place'` is `UPDATE_IN_PLACE`. */
export function kindName(change) {
  return change.toUpperCase().replace(/-/g, '_');
}

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

/** Resources changed in exactly this way (`DELETE`). */
export function changesOfKind(release, kind) {
  return release.resources.filter((r) => kindName(r.change) === kind);
}

/** Resources that really change (everything but NO_OPERATION). */
export function changedResources(release) {
  return release.resources.filter((r) => r.change !== 'no-operation');
}

/** Resources deleted, replaced or recreated. */
export function destructiveChanges(release) {
  return release.resources.filter((r) => DESTRUCTIVE_KINDS.includes(kindName(r.change)));
}

/**
 * How many resources change in each way, in `CHANGE_KINDS` order, leaving out
 * kinds with no resource: `[['CREATE', 1], ['DELETE', 2]]`.
 */
export function countByKind(release) {
  const counts = new Map(CHANGE_KINDS.map((kind) => [kind, 0]));
  for (const r of release.resources) {
    const kind = kindName(r.change);
    counts.set(kind, counts.get(kind) + 1);
  }
  return [...counts].filter(([, count]) => count > 0);
}

/** Resources of one type, compared exactly (`mysql`). */
export function resourcesOfType(release, resourceType) {
  return release.resources.filter((r) => r.resourceType === resourceType);
}

/** Resources whose type matches any of the globs (`aws_db_*`). */
export function resourcesOfTypes(release, patterns) {
  return release.resources.filter((r) => matchesAny(patterns, r.resourceType));
}

/** Resources whose path matches a glob (`datastores/**`). */
export function resourcesMatching(release, pattern) {
  return release.resources.filter((r) => matches(pattern, r.resourcePath));
}

/** A metadata value of the release, e.g. `commit`. */
export function metadata(release, key) {
  const pair = release.metadata.find(([k]) => k === key);
  return pair === undefined ? undefined : pair[1];
}

/** Approvals given for a group, each approver once, sorted. */
export function approversFor(release, group) {
  const names = release.approvals.filter((a) => a.groups.includes(group)).map((a) => a.approver);
  return [...new Set(names)].sort();
}
