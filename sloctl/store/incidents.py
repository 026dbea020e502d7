"""What the Alertmanager webhook brings and the store keeps: notifications and alert instances.

An alert instance is keyed by ``(fingerprint, starts_at)``; ``store.alerts.record`` stores one
notification (see ``sloctl.store.alerts``), and the runtime merges instances into incidents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Status = Literal["firing", "resolved"]


@dataclass(frozen=True)
class ReceivedAlert:
    """One alert of a webhook body (``ends_at`` None while firing)."""

    fingerprint: str
    status: Status
    starts_at: datetime
    ends_at: datetime | None
    labels: Mapping[str, str]
    annotations: Mapping[str, str] = field(default_factory=dict)
    generator_url: str = ""


@dataclass(frozen=True)
class Notification:
    """One accepted webhook body."""

    receiver: str
    status: Status
    group_key: str
    alerts: Sequence[ReceivedAlert]
    group_labels: Mapping[str, str] = field(default_factory=dict)
    external_url: str = ""
    truncated_alerts: int = 0


@dataclass(frozen=True)
class RecordResult:
    """What one ``record`` call changed."""

    notification_id: int
    new: int  # alert instances seen for the first time
    resolved: int  # instances that became resolved
    repeated: int  # instances already known, status unchanged


@dataclass(frozen=True)
class StoredAlert:
    """An alert instance as stored."""

    fingerprint: str
    alertname: str
    service: str
    severity: str | None
    status: str
    starts_at: datetime
    ends_at: datetime | None
    labels: dict[str, str]
    annotations: dict[str, str]
    generator_url: str
    first_received_at: datetime
    last_received_at: datetime


@dataclass(frozen=True)
class DataGap:
    """A notification in which Alertmanager dropped alerts (``truncatedAlerts`` > 0)."""

    received_at: datetime
    receiver: str
    group_key: str
    alert_count: int
    truncated_alerts: int
