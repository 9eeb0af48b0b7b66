// The glue between a policy and the `policy` world of gatehouse:policy@0.2.0
// (the Rust SDK's `Policy` trait and `export_policy!`).

import { Release } from './release.js';
import { Settings, SettingsError } from './settings.js';

/**
 * Why a policy could not decide. The host turns it into an error report and
 * exit code 3, never into a verdict.
 */
export class EvaluationError {
  /** An error with a message for the report. */
  constructor(message) {
    this.message = message;
  }

  toString() {
    return this.message;
  }
}

/** Parses settings with the policy and rejects keys it never read. */
export function validate(policy, pairs) {
  const settings = new Settings(pairs);
  const config = policy.validateSettings === undefined ? undefined : policy.validateSettings(settings);
  settings.rejectUnknown();
  return config;
}

/**
 * The release `evaluate` decides on: the host's borrowed handle wrapped in a
 * `Release` (read in place, see release.js), or, for a plain object (a test
 * calling the export directly), a `Release` holding it.
 */
function releaseOf(release) {
  if (release instanceof Release) return release;
  return typeof release.summary === 'function' ? Release.fromHost(release) : new Release(release);
}

/**
 * The `policy` world's exports for a policy object with `name`, `version`,
 * `description`, `validateSettings(settings)` (returns the config; throws a
 * `SettingsError`) and `evaluate(release, config)` (returns a `Decision`;
 * throws an `EvaluationError` when it cannot decide). Use it as
 *
 *     export const { describe, validateSettings, evaluate } = exportPolicy(myPolicy);
 *
 * The 0.2.0 contract: the host calls `describe` once per loaded policy and
 * `validateSettings` once per distinct settings, maybe in other instances,
 * and keeps the answers; so `evaluate` parses the settings again with
 * `validateSettings` (a `SettingsError` there is reported as
 * `invalid settings: ...`) and `validateSettings` must depend on the settings
 * alone. `evaluate` receives a `Release` (release.js) that reads the host's
 * release in place. Errors are returned as WIT `err` values; anything else
 * thrown traps the component, which the host reports as an error (exit 3),
 * never as a verdict.
 */
export function exportPolicy(policy) {
  const failure = (e, prefix) => {
    if (e instanceof SettingsError) return { tag: 'err', val: prefix + e.toString() };
    if (e instanceof EvaluationError) return { tag: 'err', val: e.message };
    throw e;
  };
  return {
    describe() {
      return {
        name: policy.name,
        version: policy.version ?? '0.1.0',
        description: policy.description ?? '',
      };
    },
    validateSettings(pairs) {
      try {
        validate(policy, pairs);
        return undefined;
      } catch (e) {
        return failure(e, '');
      }
    },
    evaluate(release, pairs) {
      let config;
      try {
        config = validate(policy, pairs);
      } catch (e) {
        return failure(e, 'invalid settings: ');
      }
      try {
        return policy.evaluate(releaseOf(release), config).toWit();
      } catch (e) {
        return failure(e, '');
      }
    },
  };
}
