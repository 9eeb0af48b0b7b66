// The release under decision as `evaluate` receives it (the Rust SDK's
// `Release`). Under `gatehouse:policy@0.2.0` the release stays in the host
// and the policy reads it through a borrowed handle; `Release.fromHost` wraps
// that handle so that a policy pays only for what it reads:
//
// - `environmentName`, `releaseStream`, `resourceCount` and `countsByKind()`
//   come from one `summary()` call;
// - `resources`, `metadata` and `approvals` are plain arrays, read from the
//   host (in pages) the first time the policy touches them, then kept;
// - `select(kinds, resourceType)` and `countMatching(...)` filter in the host,
//   so unselected resources are never copied into the policy (until
//   `resources` has been read: then they filter the array);
// - `metadataValue(key)` and `approversFor(group)` are host lookups.
//
// `new Release({...})` builds one from plain data, for unit tests of gate
// logic; every method answers the same for both.

import { compareCodePoints } from './text.js';

/** Every change kind by its Facets spelling, in the order of the WIT enum. */
export const CHANGE_KINDS = ['CREATE', 'DELETE', 'UPDATE_IN_PLACE', 'REPLACE', 'RECREATE', 'NO_OPERATION'];

/** The WIT `change-kinds` flags' field names, in `CHANGE_KINDS` order. */
const FLAG_FIELDS = ['create', 'delete', 'updateInPlace', 'replace', 'recreate', 'noOperation'];

/** The most resources one host call returns (the host caps a page at 1,024). */
const PAGE = 1024;

/** The Facets spelling of a WIT change kind: `'update-in-place'` is `UPDATE_IN_PLACE`. */
export function kindName(change) {
  return change.toUpperCase().replace(/-/g, '_');
}

/** The WIT `resource-filter` selecting `kinds` (Facets names) and, if given, one exact type. */
function witFilter(kinds, resourceType) {
  const flags = {};
  CHANGE_KINDS.forEach((kind, i) => {
    flags[FLAG_FIELDS[i]] = kinds.includes(kind);
  });
  return resourceType === undefined ? { kinds: flags } : { kinds: flags, resourceType };
}

/** Every resource of a paged query, `page(start)` giving one `resource-page`. */
function allPages(page) {
  const out = [];
  let start = 0;
  for (;;) {
    const { resources, next } = page(start);
    for (const r of resources) out.push(r);
    if (next === undefined || next === null) return out;
    // The host promises progress; a page that does not advance would loop
    // until the fuel runs out, so stop loudly instead (a trap: exit 3).
    if (next <= start) throw new Error(`the host's resource page did not advance (${start} to ${next})`);
    start = next;
  }
}

const selects = (kinds, resourceType) => (r) =>
  kinds.includes(kindName(r.change)) && (resourceType === undefined || r.resourceType === resourceType);

/** The release change under decision. */
export class Release {
  /**
   * A release held in memory: `{ environmentName, releaseStream, resources,
   * metadata, approvals }` as the WIT records look in JavaScript (resources
   * with `resourceType`, `resourceName`, `resourcePath`, `change` such as
   * `'delete'`, `attributes`; metadata as `[key, value]` pairs; approvals with
   * `approver`, `groups`, `at`). Missing lists are empty.
   */
  constructor({ environmentName = '', releaseStream = '', resources = [], metadata = [], approvals = [] } = {}) {
    /** The target environment, e.g. `prod-eu`. */
    this.environmentName = environmentName;
    /** The release stream, e.g. `PROD`. */
    this.releaseStream = releaseStream;
    this.handle = undefined;
    this.hostSummary = undefined;
    this.lists = { resources, metadata, approvals };
  }

  /**
   * The release behind the host's borrowed handle (valid during `evaluate`
   * only): the summary now, everything else when first asked for.
   * `exportPolicy` does this for you.
   */
  static fromHost(handle) {
    const summary = handle.summary();
    const release = new Release({
      environmentName: summary.environmentName,
      releaseStream: summary.releaseStream,
    });
    release.handle = handle;
    release.hostSummary = summary;
    release.lists = {};
    return release;
  }

  /** A list, read from the host on first use. */
  list(name, read) {
    if (this.lists[name] === undefined) this.lists[name] = read(this.handle);
    return this.lists[name];
  }

  /** Every resource the release touches, in input order (an array). */
  get resources() {
    return this.list('resources', (h) => allPages((start) => h.resources(start, PAGE)));
  }

  /** The release's metadata as `[key, value]` pairs, sorted by key. */
  get metadata() {
    return this.list('metadata', (h) => h.metadataEntries());
  }

  /** Approvals already recorded, in input order: `{ approver, groups, at }`. */
  get approvals() {
    return this.list('approvals', (h) => h.approvals());
  }

  /** True when the resources are in the policy already (no host call needed to filter them). */
  resourcesRead() {
    return this.lists.resources !== undefined;
  }

  /** How many resources the release touches. */
  get resourceCount() {
    return this.resourcesRead() ? this.lists.resources.length : this.hostSummary.resourceCount;
  }

  /** How many resources change in each way, six numbers in `CHANGE_KINDS` order. */
  countsByKind() {
    if (!this.resourcesRead()) return Array.from(this.hostSummary.countsByKind, Number);
    const counts = CHANGE_KINDS.map(() => 0);
    for (const r of this.lists.resources) counts[CHANGE_KINDS.indexOf(kindName(r.change))] += 1;
    return counts;
  }

  /**
   * Resources whose change is one of `kinds` (Facets names, `['DELETE']`)
   * and, when given, of exactly `resourceType`, in input order; filtered in
   * the host, so the others are never read.
   */
  select(kinds, resourceType = undefined) {
    if (this.resourcesRead()) return this.lists.resources.filter(selects(kinds, resourceType));
    const filter = witFilter(kinds, resourceType);
    return allPages((start) => this.handle.findResources(filter, start, PAGE));
  }

  /** How many resources `select(kinds, resourceType)` would return, counted in the host. */
  countMatching(kinds, resourceType = undefined) {
    if (this.resourcesRead()) return this.lists.resources.filter(selects(kinds, resourceType)).length;
    return this.handle.countMatching(witFilter(kinds, resourceType));
  }

  /** The resource at `index` (input order), or `undefined`. */
  resourceAt(index) {
    if (this.resourcesRead()) return this.lists.resources[index];
    return Number.isInteger(index) && index >= 0 && index < this.hostSummary.resourceCount
      ? (this.handle.resourceAt(index) ?? undefined)
      : undefined;
  }

  /** A metadata value of the release (`commit`), or `undefined`. */
  metadataValue(key) {
    if (this.lists.metadata === undefined) return this.handle.metadata(key) ?? undefined;
    const pair = this.lists.metadata.find(([k]) => k === key);
    return pair === undefined ? undefined : pair[1];
  }

  /** The approvers who signed for `group`, each once, sorted by code point (as the host sorts). */
  approversFor(group) {
    if (this.lists.approvals === undefined) return this.handle.approversFor(group);
    const names = this.lists.approvals.filter((a) => a.groups.includes(group)).map((a) => a.approver);
    return [...new Set(names)].sort(compareCodePoints);
  }
}
