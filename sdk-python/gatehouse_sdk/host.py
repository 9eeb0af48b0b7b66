"""What the host offers a policy: log lines captured into the report, and the
evaluation time (fixed for a run, so verdicts are reproducible): the Rust
SDK's `gatehouse_sdk::host`. These call the `gatehouse:policy/host` imports,
so they work inside a component only."""

from .time import Timestamp

LEVELS = ("debug", "info", "warn", "error")
"""The log levels, least severe first."""


def log(level: str, message: str) -> None:
    """Records a line in the report at `level` (`debug`, `info`, `warn`, `error`)."""
    from wit_world.imports import host

    if level not in LEVELS:
        raise ValueError(f"unknown log level {level!r}; expected one of {', '.join(LEVELS)}")
    host.log(getattr(host.Level, level.upper()), message)


def debug(message: str) -> None:
    """Logs at debug level."""
    log("debug", message)


def info(message: str) -> None:
    """Logs at info level."""
    log("info", message)


def warn(message: str) -> None:
    """Logs at warn level."""
    log("warn", message)


def error(message: str) -> None:
    """Logs at error level."""
    log("error", message)


def now() -> Timestamp:
    """The evaluation time: `gatehouse eval --now`, or the host's clock at the
    start of the run (never the guest's own clock)."""
    from wit_world.imports import host

    return Timestamp(host.now())
