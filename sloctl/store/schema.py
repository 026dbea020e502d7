"""The store's schema: every table on ONE ``MetaData`` (SQLAlchemy Core, SQLite and PostgreSQL).

This module is the schema of the latest migration (``sloctl/store/migrations``): change it only
together with a new migration and its test. Scalar columns hold what is filtered or charted; JSON
columns hold the rest. Unknown values are NULL with their reason stored next to them.

Timestamps are ``UTCDateTime``: ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, naive UTC text on
SQLite; aware UTC datetimes in and out on both. Evaluations are stored per cycle
(``evaluations`` and its child tables: the raw tier); ``slo_rollups`` and ``signal_rollups`` hold
the coarser tiers, one row per hour then per UTC day and SLO or service, with the last, least and
greatest stored value of each charted column (``sloctl.store.retention`` prunes and rolls up).

Tables: evaluations, slo_results, signal_results, alert_states, alert_transitions,
alert_identities, slo_catalog, service_catalog (evaluations and their alerts); slo_rollups,
signal_rollups (history tiers);
am_notifications, am_alerts (Alertmanager's webhooks); deployments, incident_links (DORA input);
dora_scorecards (DORA output);
trace_checks, trace_exemplars, span_disagreements (trace findings); report_inputs,
report_scorecards, report_sends (the weekly report: measured inputs, built scorecards, emails).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)

from sloctl.core.signals import Signal


class UTCDateTime(TypeDecorator[datetime]):
    """An aware datetime: TIMESTAMP WITH TIME ZONE on PostgreSQL, naive UTC on SQLite; read back
    as aware UTC on every backend. Naive datetimes are refused (they are ambiguous)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} given to the store: "
                "pass timezone-aware UTC datetimes (datetime.now(UTC))"
            )
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# BIGINT keys on PostgreSQL; INTEGER on SQLite, where only "INTEGER PRIMARY KEY" is a rowid alias.
RowId = BigInteger().with_variant(Integer(), "sqlite")
Name = String(255)

# Burn-rate columns: standard alert windows (seconds) -> column name. The SLO window is
# ``burn_rate_period``.
BURN_RATE_COLUMNS: dict[int, str] = {
    3600: "burn_rate_1h",
    21600: "burn_rate_6h",
    86400: "burn_rate_1d",
    259200: "burn_rate_3d",
}
SIGNAL_COLUMNS: tuple[str, ...] = tuple(s.value for s in Signal)
# What slo_history returns besides ``at`` (covered by the history index on SQLite).
SLO_CHART_COLUMNS: tuple[str, ...] = (
    "sli",
    "budget_remaining",
    "budget_remaining_minutes",
    *BURN_RATE_COLUMNS.values(),
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
    Column("at", UTCDateTime, nullable=False, index=True),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("problems", JSON, nullable=False),  # list[str]
    Column("query_count", Integer, nullable=False),
    # The alerts (codec.encode_alert_entries: msgpack, naming alert_identities); NULL: none.
    Column("alert_entries", LargeBinary),
    # The interval slot a ``sloctl serve`` cycle ran in (NULL for ``sloctl eval``): unique, so
    # however many replicas evaluate, one evaluation per slot is ever stored (0008).
    Column("cycle_slot", UTCDateTime),
    Index("ux_evaluations_cycle_slot", "cycle_slot", unique=True),
)


def _evaluation_fk() -> Column[int]:
    return Column(
        "evaluation_id",
        RowId,
        ForeignKey("evaluations.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    )


def _history_index(table: str, key: str, values: tuple[str, ...]) -> tuple[Index, Index]:
    """``ix_<table>_history``, what history reads and roll-ups find a key's rows by. SQLite:
    (key, at) plus ``epoch`` and the charted values, so a read never touches the wide table rows
    (an entry carries the rowid, the read's tie-break). PostgreSQL: (key, at) only; it reads the
    rows anyway (the tie-break ``id`` is not in the index), and the covered columns would make
    the index 3 to 4 times larger (0010)."""
    name = f"ix_{table}_history"
    return (Index(name, key, "at", "epoch", *values).ddl_if(dialect="sqlite"),
            Index(name, key, "at").ddl_if(dialect="postgresql"))


slo_results = Table(
    "slo_results",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _evaluation_fk(),
    Column("position", Integer, nullable=False),  # order inside the evaluation
    Column("at", UTCDateTime, nullable=False),
    Column("epoch", BigInteger, nullable=False),  # floor(at) in Unix seconds, for time buckets
    Column("slo_id", Name, nullable=False),
    Column("service", Name, nullable=False),
    Column("objective", Double, nullable=False),
    Column("sli", Double),
    Column("budget_remaining", Double),
    Column("budget_remaining_minutes", Double),
    *(Column(name, Double) for name in BURN_RATE_COLUMNS.values()),
    Column("burn_rate_period", Double),
    # Everything else of the SLOStatus (name, period, budget, windows, decisions, exhaustion,
    # reason): codec.encode_detail, msgpack, exact (0009).
    Column("detail", LargeBinary, nullable=False),
    *_history_index("slo_results", "slo_id", SLO_CHART_COLUMNS),
)

signal_results = Table(
    "signal_results",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    _evaluation_fk(),
    Column("position", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("epoch", BigInteger, nullable=False),
    Column("service", Name, nullable=False),
    *(Column(name, Double) for name in SIGNAL_COLUMNS),
    # The signals present, in their order (codec.encode_signal_order); NULL: all, in Signal order.
    Column("signal_order", String(16)),
    Column("reasons", JSON, nullable=False),  # signal name -> why its value is unknown
    *_history_index("signal_results", "service", SIGNAL_COLUMNS),
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
        Column("active_since", UTCDateTime),
        Column("fired_at", UTCDateTime),
        Column("resolved_at", UTCDateTime),
        Column("updated_at", UTCDateTime, nullable=False),
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
# Never pruned: the evaluation that wrote it may be (``evaluation_id`` then becomes NULL).
alert_transitions = Table(
    "alert_transitions",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column(
        "evaluation_id", RowId, ForeignKey("evaluations.id", ondelete="SET NULL"), index=True
    ),
    Column("key", String(512), nullable=False),
    Column("from_state", String(16)),
    *_alert_columns(),
    Index(None, "updated_at"),
    Index(None, "key", "updated_at"),
)

# The static part of the alerts stored with evaluations (key, rule, service, SLO, severity,
# threshold, labels), one row per distinct one, named by ``evaluations.alert_entries``; never
# pruned (it grows only when a rule, threshold or label changes) (0009).
alert_identities = Table(
    "alert_identities",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("digest", String(32), nullable=False),  # blake2b-128 of the static part, hex
    Column("key", String(512), nullable=False),
    Column("rule", Name, nullable=False),
    Column("service", Name, nullable=False),
    Column("slo_id", Name),
    Column("severity", String(32), nullable=False),
    Column("threshold", Double, nullable=False),
    Column("labels", JSON, nullable=False),
    Index("ux_alert_identities_digest", "digest", unique=True),
)

# Catalogs: every SLO and service ever stored, so listing them needs no scan of the history.
slo_catalog = Table(
    "slo_catalog",
    metadata,
    Column("slo_id", Name, primary_key=True),
    Column("service", Name, nullable=False),
    Column("name", Name, nullable=False),
    Column("last_at", UTCDateTime, nullable=False),
)

service_catalog = Table(
    "service_catalog",
    metadata,
    Column("service", Name, primary_key=True),
    Column("last_at", UTCDateTime, nullable=False),
)

# -- History tiers: hourly, then daily roll-ups of the evaluations (sloctl.store.retention) --

HOUR = 3600
DAY = 86400


def rollup_columns(names: tuple[str, ...]) -> tuple[str, ...]:
    """``name`` (the last value), ``name_min`` and ``name_max`` of each charted column."""
    return tuple(f"{name}{suffix}" for name in names for suffix in ("", "_min", "_max"))


def _rollup_table(name: str, key: str, *extra: Column[Any], values: tuple[str, ...]) -> Table:
    return Table(
        name,
        metadata,
        Column(key, Name, primary_key=True),
        Column("resolution", Integer, primary_key=True),  # HOUR or DAY, in seconds
        Column("bucket", BigInteger, primary_key=True),  # the hour's or day's start, Unix seconds
        Column("first_at", UTCDateTime, nullable=False),  # the first evaluation it summarises
        Column("at", UTCDateTime, nullable=False),  # the last one: when the last values were
        Column("epoch", BigInteger, nullable=False),  # floor(at) in Unix seconds
        *extra,
        *(Column(column, Double) for column in rollup_columns(values)),
        Index(None, "resolution", "bucket"),
    )


slo_rollups = _rollup_table(
    "slo_rollups",
    "slo_id",
    Column("service", Name, nullable=False),
    Column("objective", Double, nullable=False),
    values=SLO_CHART_COLUMNS,
)
signal_rollups = _rollup_table("signal_rollups", "service", values=SIGNAL_COLUMNS)

# -- Alertmanager notifications and alert instances (unique on fingerprint + startsAt) --

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

# -- DORA input: deployment events and manual incident links --

deployments = Table(
    "deployments",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("service", Name, nullable=False),
    Column("environment", Name, nullable=False),
    Column("version", Name, nullable=False),
    Column("finished", UTCDateTime, nullable=False),
    Column("sha", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("commit_time", UTCDateTime),
    Column("started", UTCDateTime),
    Column("ref", Name, nullable=False),
    Column("commits", JSON, nullable=False),  # [[sha, iso time], ...]
    Column("source", String(32), nullable=False),  # cli, http, github, loki, prometheus
    Column("recorded_at", UTCDateTime, nullable=False),
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
    Column("finished", UTCDateTime),
    Column("note", Text, nullable=False),
    Column("at", UTCDateTime, nullable=False),
)

# -- DORA output: one row per scope and computation (body: see scorecard_codec) --

dora_scorecards = Table(
    "dora_scorecards",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("computed_at", UTCDateTime, nullable=False),
    Column("scope", Name, nullable=False),  # "service/environment", "team NAME", "organisation"
    Column("since", UTCDateTime, nullable=False),
    Column("until", UTCDateTime, nullable=False),
    Column("body", JSON, nullable=False),
    Index(None, "computed_at"),
    Index(None, "scope", "computed_at"),
)

# -- Trace findings per evaluation instant --

trace_checks = Table(
    "trace_checks",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False, unique=True),  # the evaluation instant
    Column("checked_at", UTCDateTime, nullable=False),
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


# -- The weekly report: a period's measured inputs, its scorecards per scope, its emails --

report_inputs = Table(
    "report_inputs",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("period", String(64), nullable=False, unique=True),  # "2026-W49" or a range key
    Column("start", UTCDateTime, nullable=False),
    Column("end", UTCDateTime, nullable=False),
    Column("measured_at", UTCDateTime, nullable=False),
    Column("body", JSON, nullable=False),  # sloctl.report.inputs.ReportInputs (report.codec)
)

report_scorecards = Table(
    "report_scorecards",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("period", String(64), nullable=False),
    Column("scope", Name, nullable=False),  # "organisation", "team/NAME", "service/NAME"
    Column("built_at", UTCDateTime, nullable=False),
    Column("body", JSON, nullable=False),  # sloctl.report.scorecard.PeriodScorecard
    Index(None, "period", "scope", unique=True),
)

report_sends = Table(
    "report_sends",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("key", String(64), nullable=False, unique=True),  # hash of (period, scope, recipients)
    Column("period", String(64), nullable=False),
    Column("scope", Name, nullable=False),
    Column("recipients", JSON, nullable=False),  # list[str], sorted
    Column("message_id", String(255), nullable=False),
    Column("state", String(16), nullable=False),  # see sloctl.store.reports.SendState
    Column("attempts", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),  # also the message's Date header
    Column("updated_at", UTCDateTime, nullable=False),
    Column("lease_until", UTCDateTime, nullable=True),  # a sender holds the row until then
    Column("next_attempt_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=True),  # never holds a secret (see report.send)
    Index(None, "period"),
    Index(None, "state"),
)


# -- Maintenance windows made with `sloctl maintenance` (spec-defined ones live in the specs) --

maintenance_windows = Table(
    "maintenance_windows",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("service", Name),  # both NULL: every SLO
    Column("slo_id", Name),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("author", Name, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("removed_at", UTCDateTime),  # removed (reversible): no longer excluded
    Index(None, "starts_at", "ends_at"),
)


# -- Canary judgements (sloctl canary, GET /api/v1/canary; see sloctl.store.canary) --

canary_judgements = Table(
    "canary_judgements",
    metadata,
    Column("id", RowId, primary_key=True, autoincrement=True),
    Column("at", UTCDateTime, nullable=False),  # the end of the judged interval
    Column("service", Name, nullable=False),
    Column("environment", Name),  # NULL: any environment
    Column("version", Name),  # the judged deployment's version or SHA; NULL: not named
    Column("verdict", String(16), nullable=False),  # pass, fail, inconclusive
    Column("canary", Text, nullable=False),  # service{matchers} of each side
    Column("baseline", Text, nullable=False),
    Column("since_seconds", Integer, nullable=False),
    Column("source", String(32), nullable=False),  # cli, http, flagger
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("body", JSON, nullable=False),  # the JSON answer
    Index(None, "service", "at"),
    Index(None, "service", "version"),
)
