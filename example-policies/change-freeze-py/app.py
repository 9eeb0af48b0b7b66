"""change-freeze-py: the Python twin of the Rust `change-freeze` policy.

During a change freeze (date ranges in the `freeze-windows` setting, both ends
included) a release to a frozen environment (`prod*` by default) fails; at any
time, deleting a resource of a protected type needs approval from the `dba`
group. The day comes from the host's evaluation time (`--now`) read at a fixed
UTC offset (UTC unless `utc-offset` says otherwise). Settings, defaults,
reasons, verdicts and error messages are those of `example-policies/change-freeze`,
whose suite passes with this policy; the Python SDK's date, range and offset
getters word their errors exactly as the Rust SDK's.

It targets `gatehouse:policy@0.2.0`: the release stays in the host, and the
policy reads the environment from the release summary and only the deleted
resources (selected by the host).

Build (from the repository root): `bash scripts/build-policies.sh`, or by hand
in this directory:

    componentize-py -d ../../wit/0.2.0 -w policy componentize -p . -p ../../sdk-python app \\
        -o ../../target/policies/change-freeze-py.wasm
"""

from gatehouse_sdk import (
    Date,
    DateRange,
    Decision,
    Policy,
    Reason,
    Settings,
    SettingsError,
    UtcOffset,
    date_of,
    export,
    glob,
    host,
    releases,
)

DEFAULT_FROZEN_ENVIRONMENTS = ["prod*"]
DEFAULT_PROTECTED_TYPES = ["mysql", "postgres", "aws_db_instance"]
DEFAULT_APPROVER_GROUPS = ["dba"]
INSTRUCTIONS = (
    "Confirm a current backup exists for every deleted resource and that the data loss is intended."
)


class Config:
    """Parsed settings, read in the Rust policy's order (so the first error is the same)."""

    def __init__(self, settings: Settings) -> None:
        windows = settings.get_date_ranges("freeze-windows")
        if windows is None:
            raise SettingsError(
                "freeze-windows",
                "is required but was not given; e.g. 2026-12-20..2027-01-03 "
                "(an empty value means no freeze)",
            )
        self.freeze_windows: list[DateRange] = windows
        self.frozen_environments = settings.get_non_empty_list("frozen-environments") or list(
            DEFAULT_FROZEN_ENVIRONMENTS
        )
        self.utc_offset = settings.get_utc_offset("utc-offset") or UtcOffset(0)
        types = settings.get_list("protected-types")
        self.protected_types = list(DEFAULT_PROTECTED_TYPES) if types is None else types
        self.approver_groups = settings.get_non_empty_list("approver-groups") or list(
            DEFAULT_APPROVER_GROUPS
        )


def reopening_day(freezes: list[DateRange], today: Date) -> Date:
    """The first day after `today` that no freeze covers (overlapping and
    back-to-back freezes count as one)."""
    day = today
    while True:
        ends = [r.last for r in freezes if r.contains(day)]
        if not ends:
            return day
        day = max(ends).plus_days(1)


class ChangeFreeze(Policy):
    name = "change-freeze-py"
    version = "0.1.0"
    description = (
        "Fails releases to frozen environments during a change freeze; "
        "deleting a protected resource type needs the DBA group."
    )

    def validate_settings(self, settings: Settings) -> Config:
        return Config(settings)

    def evaluate(self, release, config: Config) -> Decision:
        offset = config.utc_offset
        today = date_of(host.now(), offset.minutes)
        environment = release.environment_name
        freeze = DateRange.find(config.freeze_windows, today)
        pattern = glob.first_match(config.frozen_environments, environment)
        if freeze is not None and pattern is not None:
            return Decision.fail(
                f"{today} (UTC{offset}) is inside the change freeze {freeze}; "
                f'environment {environment} is frozen (matches "{pattern}"); '
                f"releases reopen on {reopening_day(config.freeze_windows, today)}"
            )
        if freeze is not None:
            freeze_reason = (
                f"{today} (UTC{offset}) is inside the change freeze {freeze}, "
                f"but environment {environment} is not frozen"
            )
        else:
            freeze_reason = f"{today} (UTC{offset}) is outside every change freeze"
        deletions = [
            Reason.about(r, f"DELETE of {r.resource_type} {r.resource_path}")
            for r in releases.changes_of_kind(release, "DELETE")
            if glob.matches_any(config.protected_types, r.resource_type)
        ]
        decision = Decision.require_approval_for(deletions)
        if decision is None:
            return Decision.approve(freeze_reason).because("no DELETE of a protected resource type")
        return decision.from_groups(config.approver_groups).instructions(INSTRUCTIONS)


WitWorld = export(ChangeFreeze())
