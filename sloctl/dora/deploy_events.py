"""Deployment events: the native JSON event and GitHub ``deployment_status`` webhook bodies.

Both validate into one ``DeploymentEvent`` (``sloctl.dora.model.Deployment``). Bad events
(missing fields, unparsable, naive or future timestamps, unknown status) raise
``DeployEventError`` naming each bad field; nothing is half-parsed. The idempotency key is
``(service, environment, version, finished)`` (``Deployment.key``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from sloctl.dora.model import Commit, Deployment, DeployStatus
from sloctl.errors import SloctlError
from sloctl.spec.error_messages import describe_error, loc_path

DeploymentEvent = Deployment
FUTURE_TOLERANCE = timedelta(minutes=5)  # clock skew allowed between CI runners and sloctl
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # default of receiver.earliest_timestamp
TIMESTAMP_HELP = "use an ISO 8601 timestamp with a time zone, e.g. 2026-11-27T09:30:00Z"
_SHA_RE = re.compile(r"[0-9a-fA-F]{7,64}")
_MESSAGES = {
    "timezone_aware": f"has no time zone; {TIMESTAMP_HELP}",
    "datetime_parsing": f"is not a timestamp; {TIMESTAMP_HELP}",
    "datetime_from_date_parsing": f"is not a timestamp; {TIMESTAMP_HELP}",
    "datetime_type": f"is not a timestamp; {TIMESTAMP_HELP}",
    "string_too_short": "must not be empty",
}
STATUSES = ", ".join(s.value for s in DeployStatus)
GITHUB_STATES = {
    "success": DeployStatus.SUCCESS,
    "failure": DeployStatus.FAILURE,
    "error": DeployStatus.FAILURE,
}
GITHUB_PENDING_STATES = ("pending", "queued", "in_progress", "inactive")


class DeployEventError(SloctlError):
    """A deployment event is invalid; ``problems`` lists (field, message) pairs."""

    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        self.field = problems[0][0]
        super().__init__("invalid deployment event: " + "; ".join(f"{f}: {m}" for f, m in problems))


class DeployEventNotFinal(DeployEventError):
    """A GitHub status that is not final (pending, queued, ...): nothing to record yet."""


def _sha(value: str) -> str:
    if not _SHA_RE.fullmatch(value):
        raise ValueError(f"must be a git commit SHA (7 to 64 hex digits); got {value!r}")
    return value.lower()


def _status(value: str) -> DeployStatus:
    try:
        return DeployStatus(value.strip().lower())
    except ValueError:
        raise ValueError(f"unknown status {value!r}; use one of {STATUSES}") from None


def _plain_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character; send text without it")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("is not valid Unicode text (a lone surrogate)") from None
    return value


Text = Annotated[str, Field(min_length=1, max_length=255), AfterValidator(_plain_text)]
Sha = Annotated[str, AfterValidator(_sha)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _in_utc(value: datetime, earliest: datetime) -> datetime:
    """``value`` in UTC when at or after ``earliest``; ValueError (never OverflowError)."""
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        utc = None
    if utc is None or utc < earliest:
        raise ValueError(
            f"{value.isoformat()} is outside the plausible range: before "
            f"{earliest.date().isoformat()} (receiver.earliest_timestamp); send the real time"
        )
    return utc


def _not_future(value: datetime | None, info: ValidationInfo) -> datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"has no time zone; {TIMESTAMP_HELP}")
    value = _in_utc(value, (info.context or {}).get("earliest") or EARLIEST)
    now = (info.context or {}).get("now")
    if isinstance(now, datetime) and value > now + FUTURE_TOLERANCE:
        raise ValueError(
            f"{value.isoformat()} is in the future (now {now.isoformat()}); "
            "send the real completion time"
        )
    return value


class CommitIn(_Model):
    sha: Sha
    time: datetime

    _time = field_validator("time")(_not_future)


class NativeDeploymentEvent(_Model):
    """The native event (HTTP ``POST /api/v1/deployments``, ``sloctl deploy record``)."""

    service: Text
    environment: Text
    version: Text
    commit_sha: Sha
    commit_time: datetime
    started_at: datetime | None = None
    finished_at: datetime
    status: Annotated[str, AfterValidator(_status)]
    commits: list[CommitIn] = []
    ref: Annotated[str, Field(max_length=255), AfterValidator(_plain_text)] = ""

    _times = field_validator("commit_time", "started_at", "finished_at")(_not_future)

    def to_event(self) -> Deployment:
        if self.started_at is not None and self.started_at > self.finished_at:
            raise DeployEventError(
                [("started_at", "is after finished_at; a deployment finishes after it starts")]
            )
        return Deployment(
            service=self.service,
            environment=self.environment,
            version=self.version,
            sha=self.commit_sha,
            finished=self.finished_at,
            status=DeployStatus(self.status),
            commit_time=self.commit_time,
            started=self.started_at,
            commits=tuple(Commit(c.sha, c.time) for c in self.commits),
            ref=self.ref,
        )


class _GitHubModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _GitHubDeployment(_GitHubModel):
    sha: Sha
    ref: Annotated[str, Field(max_length=255), AfterValidator(_plain_text)] = ""
    environment: Text
    created_at: datetime
    payload: dict[str, Any] | str | None = None

    _created = field_validator("created_at")(_not_future)


class _GitHubStatus(_GitHubModel):
    state: Text
    environment: Text | None = None
    created_at: datetime

    _created = field_validator("created_at")(_not_future)


class _GitHubRepository(_GitHubModel):
    name: Text


class GitHubDeploymentStatus(_GitHubModel):
    """GitHub's ``deployment_status`` webhook body (the fields sloctl reads)."""

    deployment_status: _GitHubStatus
    deployment: _GitHubDeployment
    repository: _GitHubRepository

    def to_event(self) -> Deployment:
        state = self.deployment_status.state.lower()
        if state in GITHUB_PENDING_STATES:
            raise DeployEventNotFinal(
                [
                    (
                        "deployment_status.state",
                        f"{state!r} is not final; sloctl records success, failure and error",
                    )
                ]
            )
        if state not in GITHUB_STATES:
            raise DeployEventError(
                [
                    (
                        "deployment_status.state",
                        f"unknown state {state!r}; GitHub sends "
                        f"{', '.join([*GITHUB_STATES, *GITHUB_PENDING_STATES])}",
                    )
                ]
            )
        payload = self.deployment.payload if isinstance(self.deployment.payload, dict) else {}
        d = self.deployment
        ref = d.ref if d.ref and d.ref.lower() != d.sha else ""
        version = _payload_text(payload, "version") or ref or d.sha[:12]
        commit_time = payload.get("commit_time")
        return Deployment(
            service=_payload_text(payload, "service") or self.repository.name,
            environment=self.deployment_status.environment or d.environment,
            version=version,
            sha=d.sha,
            finished=self.deployment_status.created_at,
            status=GITHUB_STATES[state],
            commit_time=_payload_time(commit_time),
            started=d.created_at,
            ref=ref,
        )


def _payload_text(payload: Mapping[str, Any], name: str) -> str | None:
    """A string field of the GitHub deployment's payload, validated as the native fields are."""
    value = payload.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 255:
        raise DeployEventError(
            [(f"deployment.payload.{name}", "must be a string of 1 to 255 characters")]
        )
    try:
        return _plain_text(value)
    except ValueError as exc:
        raise DeployEventError([(f"deployment.payload.{name}", str(exc))]) from None


def _payload_time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise DeployEventError(
            [("deployment.payload.commit_time", f"is not a timestamp; {TIMESTAMP_HELP}")]
        ) from None
    if parsed.tzinfo is None:
        raise DeployEventError(
            [("deployment.payload.commit_time", f"has no time zone; {TIMESTAMP_HELP}")]
        )
    try:
        return _in_utc(parsed, EARLIEST)
    except ValueError as exc:
        raise DeployEventError([("deployment.payload.commit_time", str(exc))]) from None


def is_github_body(data: object) -> bool:
    return isinstance(data, Mapping) and "deployment_status" in data


def parse_deployment_event(
    data: object, now: datetime, earliest: datetime = EARLIEST
) -> DeploymentEvent:
    """A native event or a GitHub ``deployment_status`` body -> DeploymentEvent.

    ``now`` (aware UTC) rejects timestamps more than 5 minutes in the future, ``earliest``
    those before it. Raises DeployEventError naming every bad field.
    """
    model: type[NativeDeploymentEvent] | type[GitHubDeploymentStatus] = (
        GitHubDeploymentStatus if is_github_body(data) else NativeDeploymentEvent
    )
    if not isinstance(data, Mapping):
        raise DeployEventError([("<body>", "must be a JSON object with the event's fields")])
    try:
        parsed = model.model_validate(data, context={"now": now, "earliest": earliest})
    except ValidationError as exc:
        raise DeployEventError(
            [(loc_path(e["loc"]) or "<body>", _message(e, model)) for e in exc.errors()]
        ) from None
    return parsed.to_event()


def _message(error: Any, model: type[BaseModel]) -> str:
    return _MESSAGES.get(error["type"]) or describe_error(error, model)
