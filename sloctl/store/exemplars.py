"""Trace findings per evaluation instant: exemplar traces, HTTP/span-metrics disagreements, notes.

One ``trace_checks`` row per evaluation instant that the trace step looked at (its problems as
a JSON list), with the exemplars (keyed by SLO id or alert key) and disagreements (per service
and signal) as child rows. Saving the same instant again replaces the earlier findings.
Disagreements live in ``span_disagreements``; the older ``trace_disagreements`` table (Jaeger
spans vs Prometheus) is no longer written or read.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Double,
    Engine,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)
from sqlalchemy.exc import SQLAlchemyError

from sloctl.core.exemplars import Exemplars
from sloctl.core.signals import Signal
from sloctl.core.trace_compare import Disagreement
from sloctl.errors import StoreError
from sloctl.store.database import URL_HELP, shown
from sloctl.store.tables import Name, RowId, UTCDateTime, metadata

Kind = Literal["slo", "alert"]

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

TABLES = [trace_checks, trace_exemplars, span_disagreements]


@dataclass(frozen=True)
class ExemplarRecord:
    """The exemplar traces found for one breaching SLO (``kind="slo"``) or firing alert."""

    key: str  # SLO id or alert key
    kind: Kind
    exemplars: Exemplars


@dataclass(frozen=True)
class TraceFindings:
    """What the trace step found for the evaluation at ``at``."""

    at: datetime
    exemplars: tuple[ExemplarRecord, ...] = ()
    disagreements: tuple[Disagreement, ...] = ()
    problems: tuple[str, ...] = ()  # Jaeger down, time budget spent, comparisons skipped

    def exemplars_of(self, key: str) -> ExemplarRecord | None:
        """The record of one SLO id or alert key, if any."""
        return next((r for r in self.exemplars if r.key == key), None)


class ExemplarStore:
    """Trace findings on the engine of a ``Store`` (creates its tables when missing)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        try:
            metadata.create_all(engine, tables=TABLES)
        except SQLAlchemyError as err:
            raise _store_error("creating the trace tables in", engine, err) from err

    def save(self, findings: TraceFindings, checked_at: datetime) -> int:
        """Store the findings in one transaction, replacing earlier ones of the same instant."""
        with self._transaction("saving trace findings to") as conn:
            conn.execute(delete(trace_checks).where(trace_checks.c.at == findings.at))
            check_id = conn.scalar(
                insert(trace_checks).returning(trace_checks.c.id),
                {"at": findings.at, "checked_at": checked_at, "problems": list(findings.problems)},
            )
            assert check_id is not None
            if findings.exemplars:
                conn.execute(
                    insert(trace_exemplars),
                    [
                        {
                            "check_id": check_id,
                            "key": r.key,
                            "kind": r.kind,
                            "service": r.exemplars.service,
                            "exemplars": r.exemplars.to_dict(),
                        }
                        for r in findings.exemplars
                    ],
                )
            if findings.disagreements:
                conn.execute(
                    insert(span_disagreements),
                    [_disagreement_row(check_id, d) for d in findings.disagreements],
                )
            return int(check_id)

    def findings(self, at: datetime) -> TraceFindings | None:
        """The findings stored for the evaluation at exactly ``at``."""
        return self._read(trace_checks.c.at == at)

    def latest(self, until: datetime | None = None) -> TraceFindings | None:
        """The findings of the latest instant at or before ``until`` (default: any)."""
        return self._read(None if until is None else trace_checks.c.at <= until)

    def _read(self, where: Any) -> TraceFindings | None:
        query = select(trace_checks).order_by(trace_checks.c.at.desc()).limit(1)
        if where is not None:
            query = query.where(where)
        with self._transaction("reading") as conn:
            check = conn.execute(query).mappings().first()
            if check is None:
                return None
            exemplar_rows = conn.execute(
                select(trace_exemplars)
                .where(trace_exemplars.c.check_id == check["id"])
                .order_by(trace_exemplars.c.id)
            ).mappings()
            records = tuple(
                ExemplarRecord(r["key"], r["kind"], Exemplars.from_dict(r["exemplars"]))
                for r in exemplar_rows
            )
            disagreement_rows = conn.execute(
                select(span_disagreements)
                .where(span_disagreements.c.check_id == check["id"])
                .order_by(span_disagreements.c.id)
            ).mappings()
            disagreements = tuple(
                Disagreement(
                    service=r["service"],
                    signal=Signal(r["signal"]),
                    http=r["http"],
                    spans=r["spans"],
                    message=r["message"],
                )
                for r in disagreement_rows
            )
            return TraceFindings(check["at"], records, disagreements, tuple(check["problems"]))

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise _store_error(action, self._engine, err) from err


def _disagreement_row(check_id: int, d: Disagreement) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "service": d.service,
        "signal": d.signal.value,
        "http": d.http,
        "spans": d.spans,
        "message": d.message,
    }


def _store_error(action: str, engine: Engine, err: SQLAlchemyError) -> StoreError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return StoreError(
        f"{action} the store {shown(engine.url)} failed: {first}. Check that the database is "
        f"reachable and writable (SQLite: disk space and file permissions), or {URL_HELP}"
    )
