"""Canary judgements in the store (``store.canary``): one row per judgement, with the version
and environment of the deployment it concerns, its verdict and the whole JSON answer.

    store.canary.save(record)                    # sloctl canary, GET /api/v1/canary
    reader.canary.judgements(service="order")    # newest first (the deployment timeline)
    reader.canary.verdicts(until)                # DORA: a failed one then a rollback fails

The deployment is named by (service, version, environment), not by a row of ``deployments``:
a rollout's deployment event may be recorded after its canary was judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from sloctl.dora.model import CanaryJudgement
from sloctl.store.database import Database
from sloctl.store.schema import canary_judgements


@dataclass(frozen=True)
class JudgementRecord:
    """One stored judgement; ``body`` is the JSON answer (``sloctl.canary.judge.report_json``)."""

    at: datetime  # the end of the judged interval
    service: str
    verdict: str  # pass, fail, inconclusive
    canary: str  # the canary side as written: service{matchers}
    baseline: str
    since_seconds: int
    source: str  # cli, http, flagger
    recorded_at: datetime
    version: str | None = None
    environment: str | None = None
    body: Mapping[str, Any] = field(default_factory=dict)
    id: int | None = None


class CanaryReads:
    """Reading canary judgements (``StoreReader.canary``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def judgements(
        self,
        service: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int | None = None,
    ) -> list[JudgementRecord]:
        """Judgements with ``since <= at < until``, newest first."""
        t = canary_judgements
        query = select(t).order_by(t.c.at.desc(), t.c.id.desc())
        if service is not None:
            query = query.where(t.c.service == service)
        if since is not None:
            query = query.where(t.c.at >= since)
        if until is not None:
            query = query.where(t.c.at < until)
        if limit is not None:
            query = query.limit(limit)
        with self._db.read() as conn:
            return [_record(r) for r in conn.execute(query).mappings()]

    def verdicts(self, until: datetime | None = None) -> list[CanaryJudgement]:
        """Every judgement that names a version, as DORA reads them, oldest first."""
        t = canary_judgements
        query = select(t.c.service, t.c.version, t.c.at, t.c.verdict, t.c.environment).where(
            t.c.version.is_not(None)).order_by(t.c.at, t.c.id)
        if until is not None:
            query = query.where(t.c.at < until)
        with self._db.read() as conn:
            return [CanaryJudgement(r["service"], r["version"], r["at"], r["verdict"],
                                    r["environment"]) for r in conn.execute(query).mappings()]


class CanaryJudgements(CanaryReads):
    """Canary judgements, writable (``Store.canary``)."""

    def save(self, record: JudgementRecord) -> int:
        """Store one judgement; returns its id."""
        row = {
            "at": record.at, "service": record.service, "environment": record.environment,
            "version": record.version, "verdict": record.verdict, "canary": record.canary,
            "baseline": record.baseline, "since_seconds": record.since_seconds,
            "source": record.source, "recorded_at": record.recorded_at,
            "body": dict(record.body),
        }
        with self._db.write("storing a canary judgement in") as conn:
            key = conn.execute(insert(canary_judgements), row).inserted_primary_key
        assert key is not None
        return int(key[0])


def _record(r: Any) -> JudgementRecord:
    return JudgementRecord(
        at=r["at"], service=r["service"], verdict=r["verdict"], canary=r["canary"],
        baseline=r["baseline"], since_seconds=r["since_seconds"], source=r["source"],
        recorded_at=r["recorded_at"], version=r["version"], environment=r["environment"],
        body=r["body"], id=r["id"],
    )
