// gatehouse-sdk for JavaScript: release-approval policies built into
// WebAssembly components with componentize-js. The Rust SDK's surface where
// it makes sense, with the same settings error messages, glob dialect and
// decisions. See README.md.

export { Date, DateRange, ParseError, UtcOffset, dateOf } from './dates.js';
export { Decision, Reason } from './decision.js';
export { MAX_DURATION_SECONDS, parseDuration } from './durations.js';
export { EvaluationError, exportPolicy, validate } from './policy.js';
export { CHANGE_KINDS, Release, kindName } from './release.js';
export { Settings, SettingsError } from './settings.js';
export { Timestamp, WEEKDAYS, parseWeekday } from './time.js';
export { debugStr, trim } from './text.js';
export { DailyHours, WeeklyWindow, parseWeekdays } from './windows.js';
export * as glob from './glob.js';
export * as host from './host.js';
export * as releases from './releases.js';
