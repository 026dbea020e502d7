"""The schema of revision 0001 (sloctl before migrations, commit 91af14d), frozen: never edit.

Revision 0001 creates these tables where they are missing. The store of that time created its
tables on first use, so a store it wrote may lack some of them; ``timestamp without time zone``
holding naive UTC, as it was then (revision 0002 changes that on PostgreSQL).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

Timestamp = DateTime(timezone=False)
# BIGINT keys on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is a rowid alias.
RowId = BigInteger().with_variant(Integer(), "sqlite")
Name = String(255)

# Burn-rate columns: standard alert windows (seconds) -> column name. The SLO window is
# ``burn_rate_period``.
BURN_RATE_COLUMNS = ("burn_rate_1h", "burn_rate_6h", "burn_rate_1d", "burn_rate_3d")
SIGNAL_COLUMNS = (
    "traffic", "error_ratio", "latency_p50", "latency_p95", "latency_p99", "saturation"
)
# What slo_history returns besides ``at`` (covered by the history index).
SLO_CHART_COLUMNS: tuple[str, ...] = (
    "sli",
    "budget_remaining",
    "budget_remaining_minutes",
    *BURN_RATE_COLUMNS,
    "burn_rate_period",
)

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

evaluations = Table(
    "evaluations",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False, index=True),
    Column("started_at", Timestamp, nullable=False),
    Column("finished_at", Timestamp, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("problems", JSON, nullable=False),  # list[str]
    Column("query_count", Integer, nullable=False),
    Column("alerts", JSON, nullable=False),  # list of encoded AlertStatus (see codec)
)


def _evaluation_fk() -> Column[int]:
    return Column(
        "evaluation_id",
        RowId,
        ForeignKey("evaluations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


slo_results = Table(
    "slo_results",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _evaluation_fk(),
    Column("position", Integer, nullable=False),  # order inside the evaluation
    Column("at", Timestamp, nullable=False),
    Column("epoch", BigInteger, nullable=False),  # floor(at) in Unix seconds, for time buckets
    Column("slo_id", Name, nullable=False),
    Column("service", Name, nullable=False),
    Column("name", Name, nullable=False),
    Column("objective", Double, nullable=False),
    Column("period", Integer, nullable=False),
    Column("period_elapsed", Integer, nullable=False),
    Column("sli", Double),
    Column("error_budget", Double, nullable=False),
    Column("budget_remaining", Double),
    Column("budget_total_minutes", Double, nullable=False),
    Column("budget_remaining_minutes", Double),
    Column("budget_remaining_events", Double),
    *(Column(name, Double) for name in BURN_RATE_COLUMNS),
    Column("burn_rate_period", Double),
    Column("exhaustion_at", Timestamp),
    Column("breaching", Boolean),
    Column("reason", Text),
    Column("windows", JSON, nullable=False),  # list of encoded WindowResult
    Column("decisions", JSON, nullable=False),  # list of encoded BurnRateDecision
    # (slo_id, at) plus the charted values: history reads never touch the wide table rows.
    Index("ix_slo_results_history", "slo_id", "at", "epoch", *SLO_CHART_COLUMNS),
)

signal_results = Table(
    "signal_results",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _evaluation_fk(),
    Column("position", Integer, nullable=False),
    Column("at", Timestamp, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("service", Name, nullable=False),
    *(Column(name, Double) for name in SIGNAL_COLUMNS),
    Column("signals", JSON, nullable=False),  # names of the signals present, in their order
    Column("reasons", JSON, nullable=False),  # signal name -> why its value is unknown
    Index("ix_signal_results_history", "service", "at", "epoch", *SIGNAL_COLUMNS),
)


def _alert_columns() -> list[Column[Any]]:
    """The columns of one AlertStatus snapshot, shared by current states and transitions."""
    return [
        Column("rule", Name, nullable=False),
        Column("service", Name, nullable=False),
        Column("slo_id", Name),
        Column("severity", String(32), nullable=False),
        Column("state", String(16), nullable=False),
        Column("value", Double),
        Column("threshold", Double, nullable=False),
        Column("active_since", Timestamp),
        Column("fired_at", Timestamp),
        Column("resolved_at", Timestamp),
        Column("updated_at", Timestamp, nullable=False),
        Column("reason", Text),
        Column("labels", JSON, nullable=False),
    ]


# Current state per alert key: the scheduler's state machine resumes from it after a restart.
alert_states = Table(
    "alert_states",
    metadata,
    Column("key", String(512), primary_key=True),
    *_alert_columns(),
    Column("evaluation_id", RowId),  # the evaluation that wrote this state last
)

# One row each time an alert changes state (first appearance counts unless it is inactive).
alert_transitions = Table(
    "alert_transitions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _evaluation_fk(),
    Column("key", String(512), nullable=False),
    Column("from_state", String(16)),
    *_alert_columns(),
    Index(None, "updated_at"),
    Index(None, "key", "updated_at"),
)

# Catalogs: every SLO and service ever stored, so listing them needs no scan of the history.
slo_catalog = Table(
    "slo_catalog",
    metadata,
    Column("slo_id", Name, primary_key=True),
    Column("service", Name, nullable=False),
    Column("name", Name, nullable=False),
    Column("last_at", Timestamp, nullable=False),
)

service_catalog = Table(
    "service_catalog",
    metadata,
    Column("service", Name, primary_key=True),
    Column("last_at", Timestamp, nullable=False),
)

# -- Alertmanager notifications and alert instances (unique on fingerprint + startsAt) --

am_notifications = Table(
    "am_notifications",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("received_at", Timestamp, nullable=False, index=True),
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
    Column("starts_at", Timestamp, nullable=False),
    Column("ends_at", Timestamp),  # NULL while firing
    Column("status", String(16), nullable=False),
    Column("alertname", Name, nullable=False),
    Column("service", Name, nullable=False),
    Column("severity", String(32)),
    Column("labels", JSON, nullable=False),
    Column("annotations", JSON, nullable=False),
    Column("generator_url", Text, nullable=False),
    Column("first_received_at", Timestamp, nullable=False),
    Column("last_received_at", Timestamp, nullable=False),
    Column("notification_id", RowId, nullable=False),  # the notification that changed it last
    Index("ux_am_alerts_instance", "fingerprint", "starts_at", unique=True),
    Index(None, "status", "starts_at"),
    Index(None, "starts_at"),
    Index(None, "ends_at"),
)

# -- DORA input: deployment events and manual incident links --

deployments = Table(
    "deployments",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("service", Name, nullable=False),
    Column("environment", Name, nullable=False),
    Column("version", Name, nullable=False),
    Column("finished", Timestamp, nullable=False),
    Column("sha", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("commit_time", Timestamp),
    Column("started", Timestamp),
    Column("ref", Name, nullable=False),
    Column("commits", JSON, nullable=False),  # [[sha, iso time], ...]
    Column("source", String(32), nullable=False),  # cli, http, github, loki, prometheus
    Column("recorded_at", Timestamp, nullable=False),
    Index("ux_deployments_key", "service", "environment", "version", "finished", unique=True),
    Index(None, "finished"),
)

incident_links = Table(
    "incident_links",
    metadata,
    Column("incident_id", Name, primary_key=True),
    # The linked deployment's key; all NULL: the incident is unlinked from any deployment.
    Column("service", Name),
    Column("environment", Name),
    Column("version", Name),
    Column("finished", Timestamp),
    Column("note", Text, nullable=False),
    Column("at", Timestamp, nullable=False),
)

# -- DORA output: one row per scope and computation (body: see scorecard_codec) --

dora_scorecards = Table(
    "dora_scorecards",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("computed_at", Timestamp, nullable=False),
    Column("scope", Name, nullable=False),  # "service/environment", "team NAME", "organisation"
    Column("since", Timestamp, nullable=False),
    Column("until", Timestamp, nullable=False),
    Column("body", JSON, nullable=False),
    Index(None, "computed_at"),
    Index(None, "scope", "computed_at"),
)

# -- Trace findings per evaluation instant --

trace_checks = Table(
    "trace_checks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", Timestamp, nullable=False, unique=True),  # the evaluation instant
    Column("checked_at", Timestamp, nullable=False),
    Column("problems", JSON, nullable=False),  # list[str]
)


def _check_fk() -> Column[int]:
    return Column(
        "check_id",
        RowId,
        ForeignKey("trace_checks.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


trace_exemplars = Table(
    "trace_exemplars",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _check_fk(),
    Column("key", String(512), nullable=False),  # SLO id or alert key
    Column("kind", String(8), nullable=False),  # "slo" or "alert"
    Column("service", Name, nullable=False),
    Column("exemplars", JSON, nullable=False),  # Exemplars.to_dict()
    Index(None, "key"),
)

span_disagreements = Table(
    "span_disagreements",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _check_fk(),
    Column("service", Name, nullable=False),
    Column("signal", String(32), nullable=False),
    Column("http", Double, nullable=False),  # from the HTTP metrics
    Column("spans", Double, nullable=False),  # from the span metrics
    Column("message", Text, nullable=False),
)
