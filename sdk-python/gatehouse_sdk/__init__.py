"""gatehouse_sdk: release-approval policies in Python, built into WebAssembly
components with componentize-py. The Rust SDK's surface where it makes
sense, with the same settings error messages, glob dialect and decisions:

    from gatehouse_sdk import Decision, Policy, Reason, export, host, releases

    class DeleteGuard(Policy):
        name = "delete-guard"
        description = "Deleting a resource needs a DBA."

        def validate_settings(self, settings):
            return settings.get_non_empty_list("groups") or ["dba"]

        def evaluate(self, release, groups):
            deletes = [Reason.about(r, f"{r.resource_path} is deleted")
                       for r in releases.changes_of_kind(release, "DELETE")]
            decision = Decision.require_approval_for(deletes)
            if decision is None:
                return Decision.approve("nothing is deleted")
            host.info(f"{len(deletes)} deletions")
            return decision.from_groups(groups)

    WitWorld = export(DeleteGuard())

Modules: `settings` (typed getters, unknown-key detection), `glob`,
`decision`, `releases` (`Release`, read from the host as it is used, and
helpers on it), `dates` (`Date`, `DateRange`, `UtcOffset`), `durations`
(`parse_duration`), `windows` (`WeeklyWindow`, `DailyHours`,
`parse_weekdays`), `time` (`Timestamp`, `Weekday`), `host` (log, now; inside
a component only), `text` (`debug_str`, Rust's `{:?}` quoting for messages).
Policies target `gatehouse:policy@0.2.0`. Only `host`, `Decision.to_wit`,
`Release.from_host` and `export` need the bindings componentize-py
generates; the rest is plain Python that runs anywhere.
"""

from . import durations, glob, host, releases, windows
from .dates import Date, DateRange, ParseError, UtcOffset, date_of
from .decision import Decision, Reason
from .durations import parse_duration
from .policy import EvaluationError, Policy, export, validate
from .releases import Release
from .settings import Settings, SettingsError
from .text import debug_str, trim
from .time import Timestamp, Weekday
from .windows import DailyHours, WeeklyWindow, parse_weekdays

__all__ = [
    "DailyHours",
    "Date",
    "DateRange",
    "ParseError",
    "Release",
    "UtcOffset",
    "Weekday",
    "WeeklyWindow",
    "date_of",
    "Decision",
    "EvaluationError",
    "Policy",
    "Reason",
    "Settings",
    "SettingsError",
    "Timestamp",
    "debug_str",
    "durations",
    "export",
    "glob",
    "host",
    "parse_duration",
    "parse_weekdays",
    "releases",
    "trim",
    "validate",
    "windows",
]
