// What the host offers a policy: log lines captured into the report, and the
// evaluation time (fixed for a run, so verdicts are reproducible): the Rust
// SDK's `gatehouse_sdk::host`. These call the `gatehouse:policy/host`
// imports, so this module loads inside a component only.

import { log as hostLog, now as hostNow } from 'gatehouse:policy/host@0.2.0';

import { Timestamp } from './time.js';

/** The log levels, least severe first. */
export const LEVELS = ['debug', 'info', 'warn', 'error'];

/** Records a line in the report at `level` (`debug`, `info`, `warn`, `error`). */
export function log(level, message) {
  hostLog(LEVELS.includes(level) ? level : 'error', message);
}

/** Logs at debug level. */
export const debug = (message) => log('debug', message);
/** Logs at info level. */
export const info = (message) => log('info', message);
/** Logs at warn level. */
export const warn = (message) => log('warn', message);
/** Logs at error level. */
export const error = (message) => log('error', message);

/**
 * The evaluation time: `gatehouse eval --now`, or the host's clock at the
 * start of the run (never `Date.now()`, which is frozen in the component's snapshot).
 */
export function now() {
  return new Timestamp(hostNow());
}
