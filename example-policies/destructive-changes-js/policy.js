// destructive-changes-js: the JavaScript twin of the Rust `destructive-changes`
// policy (and of the Python `destructive-changes-py`).
//
// Deleting, replacing or recreating a protected resource needs approval from
// the configured groups, and fails outright in protected environments. Every
// reason names the resource. Settings, defaults, reasons, verdicts and error
// messages are those of `example-policies/destructive-changes` (the tests
// compare the three, and its suite passes with this policy): the JavaScript
// SDK (`sdk-js/`) words settings errors exactly as the Rust SDK does.
//
// It targets gatehouse:policy@0.2.0: the release stays in the host, and the
// SDK's `Release` reads only what the policy asks for (here: the summary,
// and the resources of the destructive kinds, selected by the host).
//
// Build (from the repository root; componentize-js generates the bindings from
// `wit/0.2.0/policy.wit` at build time, and resolves the SDK's relative import
// because it runs in the repository root):
//
//     bash scripts/build-policies.sh

import {
  Decision,
  Reason,
  SettingsError,
  debugStr,
  exportPolicy,
  glob,
  host,
  releases,
} from '../../sdk-js/index.js';

// Defaults match the reference Rego rule in `shared/reference/rego/`.
const DEFAULT_TYPES = ['mysql', 'postgres', 'aws_db_instance', 's3'];
const DEFAULT_CHANGE_KINDS = ['DELETE', 'REPLACE', 'RECREATE'];
const DEFAULT_FAIL_ENVIRONMENTS = ['prod*'];
const INSTRUCTIONS =
  'Confirm a current backup or snapshot exists for every resource listed, ' +
  'and that the data loss is intended.';

/** Parses settings; throws a SettingsError naming the first bad key. */
function parseConfig(settings) {
  const names = settings.getNonEmptyList('change-types');
  const changeKinds =
    names === undefined
      ? DEFAULT_CHANGE_KINDS
      : names.map((name) => {
          const kind = releases.parseChangeKind(name);
          if (kind === undefined) {
            throw new SettingsError(
              'change-types',
              `unknown change type ${debugStr(name)}; expected some of ` +
                releases.CHANGE_KINDS.join(', '),
            );
          }
          return kind;
        });
  const config = {
    protectedTypes: settings.getList('protected-types') ?? DEFAULT_TYPES,
    protectedPaths: settings.getList('protected-paths') ?? [],
    changeKinds,
    failEnvironments: settings.getList('fail-environments') ?? DEFAULT_FAIL_ENVIRONMENTS,
    approverGroups: settings.getList('approver-groups') ?? [],
    minApprovals: settings.getU32AtLeast('min-approvals', 1, 1),
  };
  if (config.protectedTypes.length === 0 && config.protectedPaths.length === 0) {
    throw new SettingsError(
      'protected-types',
      'protected-types and protected-paths are both empty, so nothing is protected; give at least one',
    );
  }
  return config;
}

const plural = (count) => (count === 1 ? '' : 's');

/** The rule itself. */
function decide(release, config) {
  // Only the resources of the destructive kinds leave the host (it filters
  // them); the globs are checked here.
  const reasons = releases
    .changesOfKinds(release, config.changeKinds)
    .filter(
      (r) =>
        glob.matchesAny(config.protectedTypes, r.resourceType) ||
        glob.matchesAny(config.protectedPaths, r.resourcePath),
    )
    .map((r) => Reason.about(r, `${releases.kindName(r.change)} of ${r.resourceType} ${r.resourcePath}`));
  const count = reasons.length;
  host.debug(
    `${count} destructive change${plural(count)} to protected resources ` +
      `among ${release.resourceCount} resources`,
  );
  const decision = Decision.requireApprovalFor(reasons);
  if (decision === undefined) {
    return Decision.approve('no destructive change to a protected resource');
  }
  const environment = release.environmentName;
  const pattern = glob.firstMatch(config.failEnvironments, environment);
  if (pattern !== undefined) {
    return Decision.fail(
      `${count} destructive change${plural(count)} to protected resources ` +
        `in environment ${environment} (protected by ${debugStr(pattern)}); ` +
        'run them through a maintenance change instead',
    ).withReasons(reasons);
  }
  return decision
    .fromGroups(config.approverGroups)
    .minApprovals(config.minApprovals)
    .instructions(INSTRUCTIONS);
}

export const { describe, validateSettings, evaluate } = exportPolicy({
  name: 'destructive-changes-js',
  version: '0.1.0',
  description:
    'Deleting, replacing or recreating a protected resource needs approval; ' +
    'in protected environments it fails the release.',
  validateSettings: parseConfig,
  evaluate: decide,
});
