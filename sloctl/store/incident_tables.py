"""Tables of received Alertmanager notifications and alert instances (same MetaData as the store).

``am_notifications`` holds one row per accepted webhook body; ``truncated_alerts > 0`` marks a data
gap (Alertmanager dropped alerts because of ``max_alerts``). ``am_alerts`` holds one row per alert
instance, unique on ``(fingerprint, starts_at)``; a resolved notification sets ``ends_at``.
"""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, Table, Text

from sloctl.store.tables import Name, RowId, UTCDateTime, metadata

am_notifications = Table(
    "am_notifications",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("received_at", UTCDateTime, nullable=False, index=True),
    Column("receiver", Name, nullable=False),
    Column("status", String(16), nullable=False),
    Column("group_key", Text, nullable=False),
    Column("group_labels", JSON, nullable=False),
    Column("external_url", Text, nullable=False),
    Column("alert_count", Integer, nullable=False),
    Column("truncated_alerts", BigInteger, nullable=False),
)

am_alerts = Table(
    "am_alerts",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("fingerprint", String(64), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime),  # NULL while firing
    Column("status", String(16), nullable=False),
    Column("alertname", Name, nullable=False),
    Column("service", Name, nullable=False),
    Column("severity", String(32)),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("generator_url", Text, nullable=False),
    Column("first_received_at", UTCDateTime, nullable=False),
    Column("last_received_at", UTCDateTime, nullable=False),
    Column("notification_id", RowId, nullable=False),  # the notification that changed it last
    Index("ux_am_alerts_instance", "fingerprint", "starts_at", unique=True),
    Index(None, "status", "starts_at"),
    Index(None, "starts_at"),
    Index(None, "ends_at"),
)
