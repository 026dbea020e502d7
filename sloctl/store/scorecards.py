"""Computed DORA scorecards in the store: a time series of (computed_at, scorecard) per scope.

The scheduler saves every scope of one computation with the same ``computed_at``; ``latest``
returns that set, ``history`` one scope over time (for trends).

    store.scorecards.save(cards, computed_at=now)   # Scorecard values (sloctl.dora.compute)
    store.scorecards.latest()                       # [StoredScorecard(computed_at, card), ...]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Select, func, insert, select

from sloctl.dora.compute import Scorecard
from sloctl.store import scorecard_codec
from sloctl.store.database import Database
from sloctl.store.schema import dora_scorecards

ScopeKind = Literal["service", "team", "organisation"]


@dataclass(frozen=True)
class StoredScorecard:
    """One stored scorecard and when it was computed."""

    computed_at: datetime
    card: Scorecard

    @property
    def scope(self) -> str:
        """"service/environment", "team NAME" or "organisation"."""
        return self.card.scope

    @property
    def kind(self) -> ScopeKind:
        if self.scope == "organisation":
            return "organisation"
        return "team" if self.scope.startswith("team ") else "service"


class ScorecardReads:
    """Reading DORA scorecards (``StoreReader.scorecards``)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def last_computed_at(self) -> datetime | None:
        with self._db.read() as conn:
            at: datetime | None = conn.scalar(select(func.max(dora_scorecards.c.computed_at)))
        return at

    def latest(self) -> list[StoredScorecard]:
        """Every scope of the latest computation, in the order they were saved."""
        latest = select(func.max(dora_scorecards.c.computed_at)).scalar_subquery()
        query = (
            select(dora_scorecards)
            .where(dora_scorecards.c.computed_at == latest)
            .order_by(dora_scorecards.c.id)
        )
        return self._read(query)

    def history(self, scope: str, since: datetime | None = None) -> list[StoredScorecard]:
        """One scope's scorecards over time, oldest first."""
        query = select(dora_scorecards).where(dora_scorecards.c.scope == scope)
        if since is not None:
            query = query.where(dora_scorecards.c.computed_at >= since)
        return self._read(query.order_by(dora_scorecards.c.computed_at, dora_scorecards.c.id))

    def _read(self, query: Select[Any]) -> list[StoredScorecard]:
        with self._db.read() as conn:
            return [
                StoredScorecard(r["computed_at"], scorecard_codec.decode(r["body"]))
                for r in conn.execute(query).mappings()
            ]


class Scorecards(ScorecardReads):
    """DORA scorecards, writable (``Store.scorecards``)."""

    def save(self, cards: Sequence[Scorecard], computed_at: datetime) -> int:
        """Store every scorecard in ONE transaction; returns how many."""
        rows = [
            {
                "computed_at": computed_at,
                "scope": card.scope,
                "since": card.since,
                "until": card.until,
                "body": scorecard_codec.encode(card),
            }
            for card in cards
        ]
        if rows:
            with self._db.write("saving DORA scorecards in") as conn:
                conn.execute(insert(dora_scorecards), rows)
        return len(rows)
