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
`decision`, `releases` (helpers on the release record), `dates` (`Date`,
`DateRange`, `UtcOffset`), `time`
(`Timestamp`), `host` (log, now; inside a component only), `text`
(`debug_str`, Rust's `{:?}` quoting for messages). Only `host`,
`Decision.to_wit` and `export` need the bindings componentize-py generates;
the rest is plain Python that runs anywhere.
"""

from . import glob, host, releases
from .dates import Date, DateRange, ParseError, UtcOffset, date_of
from .decision import Decision, Reason
from .policy import EvaluationError, Policy, export, validate
from .settings import Settings, SettingsError
from .text import debug_str, trim
from .time import Timestamp

__all__ = [
    "Date",
    "DateRange",
    "ParseError",
    "UtcOffset",
    "date_of",
    "Decision",
    "EvaluationError",
    "Policy",
    "Reason",
    "Settings",
    "SettingsError",
    "Timestamp",
    "debug_str",
    "export",
    "glob",
    "host",
    "releases",
    "trim",
    "validate",
]
