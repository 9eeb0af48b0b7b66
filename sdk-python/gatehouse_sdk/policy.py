"""The glue between a policy and the `policy` world: `export(policy)` builds
the `WitWorld` class componentize-py looks for (the Rust SDK's `Policy` trait
and `export_policy!`)."""

from typing import Any

from .settings import Settings, SettingsError


class EvaluationError(Exception):
    """Why a policy could not decide. The host turns it into an error report
    and exit code 3, never into a verdict."""


class Policy:
    """A release-approval policy: subclass it, set `name`, `version` and
    `description`, implement `validate_settings` and `evaluate`, then
    `WitWorld = export(MyPolicy())` at the top level of the app module."""

    name = "unnamed-policy"
    """Lower-case with dashes."""
    version = "0.1.0"
    """The policy's version."""
    description = ""
    """One sentence for reports."""

    def validate_settings(self, settings: Settings) -> Any:
        """Parses and checks settings (raise `SettingsError`); the result is
        handed to `evaluate`. The default reads no settings."""
        return None

    def evaluate(self, release: Any, config: Any) -> Any:
        """Decides on a release: returns a `Decision` (or raise `EvaluationError`)."""
        raise NotImplementedError("a policy implements evaluate")


def validate(policy: Policy, pairs: list[tuple[str, str]]) -> Any:
    """Parses settings with the policy and rejects keys it never read."""
    settings = Settings(pairs)
    config = policy.validate_settings(settings)
    settings.reject_unknown()
    return config


def export(policy: Policy) -> type:
    """The class componentize-py calls for the `policy` world's exports:
    `describe`, then `validate_settings` (a `SettingsError` becomes the
    error the host reports, exit 3), then `evaluate` (settings are validated
    again, as the host may call it alone; a `SettingsError` is reported as
    `invalid settings: ...`, an `EvaluationError` as its message)."""
    import wit_world
    from componentize_py_types import Err
    from wit_world.imports.types import PolicyInfo

    class WitWorld(wit_world.WitWorld):
        def describe(self) -> Any:
            return PolicyInfo(policy.name, policy.version, policy.description)

        def validate_settings(self, settings: list[tuple[str, str]]) -> None:
            try:
                validate(policy, settings)
            except SettingsError as e:
                raise Err(str(e))

        def evaluate(self, release: Any, settings: list[tuple[str, str]]) -> Any:
            try:
                config = validate(policy, settings)
            except SettingsError as e:
                raise Err(f"invalid settings: {e}")
            try:
                return policy.evaluate(release, config).to_wit()
            except (EvaluationError, SettingsError) as e:
                raise Err(str(e))

    return WitWorld
