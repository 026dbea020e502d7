"""Alertmanager webhook bodies (payload version "4"): validation into store records.

Models follow reference/backends.md §5.1; unknown extra fields are accepted (newer Alertmanagers
add ``notification_reason``, ``routeLabels``). ``endsAt`` is Go's zero time while firing and
becomes None. Go sends up to 9 fractional digits; they are truncated to microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
)

from sloctl.spec.error_messages import loc_path
from sloctl.store.incidents import Notification, ReceivedAlert

GO_ZERO_YEAR = 1
MAX_TRUNCATED = 2**31 - 1  # fits every store's integer column
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # default plausible range: 2000-01-01 ..
LATEST_AHEAD = timedelta(days=1)  # .. now + 1 day (settings receiver.*)


@dataclass(frozen=True)
class TimeBounds:
    """The plausible range of a received timestamp: ``earliest`` .. now + ``ahead``."""

    earliest: datetime = EARLIEST
    ahead: timedelta = LATEST_AHEAD

    def check(self, value: datetime, now: datetime) -> datetime:
        """``value`` in UTC, or ValueError saying the range (never OverflowError)."""
        try:
            utc = value.astimezone(UTC)
        except (OverflowError, ValueError):
            utc = None
        latest = now + self.ahead
        if utc is None or not self.earliest <= utc <= latest:
            raise ValueError(
                f"{value.isoformat()} is outside the plausible range "
                f"{self.earliest.date().isoformat()} .. {latest.isoformat(timespec='seconds')} "
                "(now + receiver.max_future_seconds); send the real time"
            )
        return utc


def _plausible(value: datetime, info: ValidationInfo) -> datetime:
    context = info.context or {}
    bounds = context.get("bounds") or TimeBounds()
    now = context.get("now") or datetime.now(UTC)
    return bounds.check(value, now)


def _plausible_or_unset(value: datetime, info: ValidationInfo) -> datetime:
    if value.year == GO_ZERO_YEAR and value.utcoffset() == timedelta(0):
        return value  # Go's zero time: endsAt of a firing alert, "not set"
    return _plausible(value, info)


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("contains a NUL character; send text without it")
    return value


UTCTime = Annotated[AwareDatetime, AfterValidator(_plausible)]
EndTime = Annotated[AwareDatetime, AfterValidator(_plausible_or_unset)]
Text = Annotated[str, AfterValidator(_no_nul)]
Labels = dict[Annotated[str, AfterValidator(_no_nul)], Text]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)


class WebhookAlert(_Model):
    """One element of ``alerts[]``."""

    status: Literal["firing", "resolved"]
    labels: Labels
    annotations: Labels = {}
    starts_at: UTCTime = Field(alias="startsAt")
    ends_at: EndTime | None = Field(default=None, alias="endsAt")
    generator_url: Text = Field(default="", alias="generatorURL")
    fingerprint: Annotated[Text, Field(min_length=1, max_length=64)]


class WebhookMessage(_Model):
    """A whole webhook body."""

    version: Literal["4"]
    group_key: Text = Field(alias="groupKey")
    truncated_alerts: Annotated[int, Field(ge=0, le=MAX_TRUNCATED, strict=True)] = Field(
        default=0, alias="truncatedAlerts"
    )
    status: Literal["firing", "resolved"]
    receiver: Text
    group_labels: Labels = Field(default={}, alias="groupLabels")
    common_labels: Labels = Field(default={}, alias="commonLabels")
    common_annotations: Labels = Field(default={}, alias="commonAnnotations")
    external_url: Text = Field(default="", alias="externalURL")
    alerts: list[WebhookAlert]


class WebhookError(ValueError):
    """The body is not a valid version-4 webhook body; the message names the field."""


def parse_webhook(
    body: bytes, now: datetime | None = None, bounds: TimeBounds | None = None
) -> Notification:
    """A Notification from a raw body; raises WebhookError naming what is wrong (timestamps
    outside ``bounds`` around ``now`` included)."""
    context = {"now": now or datetime.now(UTC), "bounds": bounds or TimeBounds()}
    try:
        message = WebhookMessage.model_validate_json(body, context=context)
    except ValidationError as exc:
        raise WebhookError(_describe(exc)) from None
    except (RecursionError, OverflowError, ValueError) as exc:  # never a 500
        raise WebhookError(
            f"invalid Alertmanager webhook body (payload version 4 expected): {exc}"
        ) from None
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
