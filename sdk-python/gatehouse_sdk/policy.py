"""The glue between a policy and the `policy` world: `export(policy)` builds
the `WitWorld` class componentize-py looks for (the Rust SDK's `Policy` trait
and `export_policy!`)."""

from typing import Any

from . import releases
from .releases import Release
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

    def evaluate(self, release: Release, config: Any) -> Any:
        """Decides on a release (a `releases.Release`, read from the host as
        it is used): returns a `Decision` (or raise `EvaluationError`)."""
        raise NotImplementedError("a policy implements evaluate")


def validate(policy: Policy, pairs: list[tuple[str, str]]) -> Any:
    """Parses settings with the policy and rejects keys it never read."""
    settings = Settings(pairs)
    config = policy.validate_settings(settings)
    settings.reject_unknown()
    return config


def export(policy: Policy) -> type:
    """The class componentize-py calls for the exports of the
    `gatehouse:policy@0.2.0` world. The host calls `describe` once per loaded
    policy and `validate_settings` once per loaded policy and distinct
    settings (a `SettingsError` becomes the error it reports, exit 3), each
    maybe in an instance of its own; `evaluate` runs in a fresh instance
    that may have run neither, so it makes the config from the settings
    again (a `SettingsError` is reported as `invalid settings: ...`, an
    `EvaluationError` as its message) and hands the policy a `Release` read
    through the host's borrowed handle."""
    import wit_world
    from componentize_py_types import Err
    from wit_world.imports import types

    releases.prepare(types)

    class WitWorld(wit_world.WitWorld):
        def describe(self) -> Any:
            return types.PolicyInfo(policy.name, policy.version, policy.description)

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
                return policy.evaluate(Release.from_host(release, types), config).to_wit()
            except (EvaluationError, SettingsError) as e:
                raise Err(str(e))

    return WitWorld
