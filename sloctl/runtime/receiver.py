"""Alertmanager webhook bodies (payload version "4"): validation into store records.

Models follow reference/backends.md §5.1; unknown extra fields are accepted (newer Alertmanagers
add ``notification_reason``, ``routeLabels``). ``endsAt`` is Go's zero time while firing and
becomes None. Go sends up to 9 fractional digits; they are truncated to microseconds.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from sloctl.spec.error_messages import loc_path
from sloctl.store.incidents import Notification, ReceivedAlert

GO_ZERO_YEAR = 1


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


UTCTime = Annotated[AwareDatetime, AfterValidator(_utc)]
Labels = dict[str, str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class WebhookAlert(_Model):
    """One element of ``alerts[]``."""

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = {}
    starts_at: UTCTime = Field(alias="startsAt")
    ends_at: UTCTime | None = Field(default=None, alias="endsAt")
    generator_url: str = Field(default="", alias="generatorURL")
    fingerprint: Annotated[str, Field(min_length=1, max_length=64)]


class WebhookMessage(_Model):
    """A whole webhook body."""

    version: Literal["4"]
    group_key: str = Field(alias="groupKey")
    truncated_alerts: Annotated[int, Field(ge=0)] = Field(default=0, alias="truncatedAlerts")
    status: Literal["firing", "resolved"]
    receiver: str
    group_labels: Labels = Field(default={}, alias="groupLabels")
    common_labels: Labels = Field(default={}, alias="commonLabels")
    common_annotations: Labels = Field(default={}, alias="commonAnnotations")
    external_url: str = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert]


class WebhookError(ValueError):
    """The body is not a valid version-4 webhook body; the message names the field."""


def parse_webhook(body: bytes) -> Notification:
    """A Notification from a raw body; raises WebhookError naming what is wrong."""
    try:
        message = WebhookMessage.model_validate_json(body)
    except ValidationError as exc:
        raise WebhookError(_describe(exc)) from None
    return to_notification(message)


def to_notification(message: WebhookMessage) -> Notification:
    return Notification(
        receiver=message.receiver,
        status=message.status,
        group_key=message.group_key,
        group_labels=message.group_labels,
        external_url=message.external_url,
        truncated_alerts=message.truncated_alerts,
        alerts=[
            ReceivedAlert(
                fingerprint=a.fingerprint,
                status=a.status,
                starts_at=a.starts_at,
                ends_at=None if a.ends_at is None or a.ends_at.year == GO_ZERO_YEAR else a.ends_at,
                labels=a.labels,
                annotations=a.annotations,
                generator_url=a.generator_url,
            )
            for a in message.alerts
        ],
    )


def _describe(exc: ValidationError, limit: int = 5) -> str:
    """The first ``limit`` errors, e.g. ``alerts[0].startsAt: Field required``."""
    errors = exc.errors(include_url=False)
    parts = []
    for error in errors[:limit]:
        if error["type"] == "json_invalid":
            parts.append(f"the body is not valid JSON: {error['msg']}")
            continue
        where = loc_path(tuple(error["loc"])) or "<body>"
        parts.append(f"{where}: {error['msg']}")
    more = f" (and {len(errors) - limit} more)" if len(errors) > limit else ""
    return (
        "invalid Alertmanager webhook body (payload version 4 expected): " + "; ".join(parts) + more
    )
