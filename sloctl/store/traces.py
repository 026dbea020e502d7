"""Trace findings per evaluation instant (``store.traces``): exemplars, disagreements, notes.

One ``trace_checks`` row per evaluation instant that the trace step looked at (its problems as
a JSON list), with the exemplars (keyed by SLO id or alert key) and disagreements (per service
and signal) as child rows. Saving the same instant again replaces the earlier findings.
Disagreements live in ``span_disagreements``; the older ``trace_disagreements`` table (Jaeger
spans vs Prometheus) is no longer written or read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, delete, insert, select

from sloctl.core.exemplars import Exemplars
from sloctl.core.signals import Signal
from sloctl.core.trace_compare import Disagreement
from sloctl.store.database import Database
from sloctl.store.schema import span_disagreements, trace_checks, trace_exemplars

Kind = Literal["slo", "alert"]


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


class TraceReads:
    """Reading trace findings (``StoreReader.traces``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def findings(self, at: datetime) -> TraceFindings | None:
        """The findings stored for the evaluation at exactly ``at``."""
        return self._read(trace_checks.c.at == at)

    def latest(self, until: datetime | None = None) -> TraceFindings | None:
        """The findings of the latest instant at or before ``until`` (default: any)."""
        return self._read(None if until is None else trace_checks.c.at <= until)

    def _read(self, where: ColumnElement[bool] | None) -> TraceFindings | None:
        query = select(trace_checks).order_by(trace_checks.c.at.desc()).limit(1)
        if where is not None:
            query = query.where(where)
        with self._db.read() as conn:
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


class Traces(TraceReads):
    """Trace findings, writable (``Store.traces``)."""

    def save(self, findings: TraceFindings, checked_at: datetime) -> int:
        """Store the findings in one transaction, replacing earlier ones of the same instant."""
        with self._db.write("saving trace findings to") as conn:
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


def _disagreement_row(check_id: int, d: Disagreement) -> dict[str, Any]:
    return {
        "check_id": check_id,
        "service": d.service,
        "signal": d.signal.value,
        "http": d.http,
        "spans": d.spans,
        "message": d.message,
    }
