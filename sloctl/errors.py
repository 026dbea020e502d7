"""One exception tree for sloctl. The CLI maps it to exit codes, HTTP handlers to JSON errors.

Every message says what was wrong and how to fix it, and never shows a credential: ``str()`` of
any of them goes through ``sloctl.redact.redact``.

Exit codes: ``EXIT_CODE_TABLE`` is the one table (``sloctl --help`` prints it, the README
points to it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sloctl.redact import redact

EXIT_OK = 0
EXIT_BREACH = 1  # --fail-on given and an SLO breaches or an alert fires
EXIT_USAGE = 2  # bad command line, settings or spec
EXIT_BACKEND = 3  # a backend failed (unreachable, erroring, above a cap): values are unknown
EXIT_NO_DATA = 4  # --fail-on given and an SLO or a service's signals match no series at all
EXIT_STALE = 5  # a reading command's data (the last evaluation) is older than --max-age
EXIT_INCONCLUSIVE = 6  # sloctl canary: neither shown worse nor within the margin yet

EXIT_CODE_TABLE = (
    (EXIT_OK, "ok"),
    (EXIT_BREACH, "--fail-on matched: an SLO breaches its objective or an alert fires"),
    (EXIT_USAGE, "usage, settings or spec error (the message names the field or option), or "
     "an extra the command needs is not installed (the message names it)"),
    (EXIT_BACKEND, "a backend failed (unreachable, an error answer, garbage, or above a cap), so "
     "some values are unknown: `eval` and `status` exit 3 whenever a query failed"),
    (EXIT_NO_DATA, "with --fail-on: an SLO or a service's signals match no series at all (no "
     "data: sloctl is blind to it and never reports it as 100 %)"),
    (EXIT_STALE, "a reading command's data (the last evaluation) is older than --max-age"),
    (EXIT_INCONCLUSIVE, "`sloctl canary`: inconclusive, the canary is neither shown worse (exit "
     "1) nor within the margin (exit 0) yet; the answer says how many more requests each side "
     "needs"),
)


def exit_code_help() -> str:
    """The exit-code table as text, one ``code  meaning`` paragraph each (``sloctl --help``)."""
    return "\n\n".join(f"{code}  {meaning}" for code, meaning in EXIT_CODE_TABLE)


class SloctlError(Exception):
    """Base class of every error sloctl raises on purpose. ``str()`` is redacted."""

    exit_code = EXIT_USAGE

    def __str__(self) -> str:
        return redact(super().__str__())


class SettingsError(SloctlError):
    """The settings file or a SLOCTL_* variable is invalid."""


@dataclass(frozen=True)
class SpecProblem:
    """One problem in one spec file, located by field path and line."""

    file: str
    path: str  # dotted field path, e.g. "spec.indicator.latency.threshold"
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<document>'}: {self.message}"


class SpecError(SloctlError):
    """One or more SLO spec files are invalid. Nothing from them was loaded."""

    def __init__(self, problems: list[SpecProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class BackendError(SloctlError):
    """A backend answered with an error, garbage, or not at all."""

    exit_code = EXIT_BACKEND

    def __init__(self, backend: str, message: str, *, query: str | None = None):
        self.backend = backend
        self.query = query
        super().__init__(f"{backend}: {message}")


class BackendUnreachable(BackendError):
    """Connection refused, DNS failure or timeout."""


class BackendQueryError(BackendError):
    """The backend rejected the query (4xx/5xx with an error body)."""

    def __init__(
        self, backend: str, message: str, *, status: int, error_type: str | None = None,
        query: str | None = None,
    ):
        self.status = status
        self.error_type = error_type
        super().__init__(backend, message, query=query)


class BackendProtocolError(BackendError):
    """The backend answered something that is not the documented format."""


class BackendLimitError(BackendProtocolError):
    """The answer is above a cap (bytes, series, labels per series); the message names the cap
    and the setting that raises it. Reading stopped there: nothing of it is used."""


class StoreError(SloctlError):
    """The store could not be opened or written."""


class MissingExtraError(SloctlError):
    """A command needs a package of an extra that is not installed (``sloctl/extras.py``)."""

    def __init__(self, feature: str, extra: str, missing: str):
        self.feature = feature
        self.extra = extra
        self.missing = missing
        super().__init__(
            f"{feature} needs the '{extra}' extra ({missing}: not installed): "
            f"pip install 'sloctl[{extra}]' (or 'sloctl[all]' for everything)"
        )
