"""Computed DORA scorecards in the store: a time series of (computed_at, scope, scorecard JSON).

The scheduler saves every scope of one computation with the same ``computed_at``; ``latest``
returns that set, ``history`` one scope over time (for trends). The JSON is
``sloctl.dora.job.card_json`` of a ``Scorecard``.

    results = DoraResults(store.engine)
    results.save(cards_as_json, computed_at=now)
    results.latest()  # [StoredScorecard(scope="organisation", ...), ...]
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Connection, Engine, Index, Table, func, insert, select
from sqlalchemy.exc import SQLAlchemyError

from sloctl.errors import StoreError
from sloctl.store.database import URL_HELP, shown
from sloctl.store.tables import Name, RowId, UTCDateTime, metadata

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


@dataclass(frozen=True)
class StoredScorecard:
    """One stored scorecard; ``body`` is its JSON (``metrics`` keyed by metric name)."""

    computed_at: datetime
    scope: str
    since: datetime
    until: datetime
    body: Mapping[str, Any]

    def metric(self, name: str) -> Mapping[str, Any]:
        """The figure of one metric (e.g. ``"lead_time"``); empty if it is not there."""
        metrics = self.body.get("metrics", {})
        figure = metrics.get(name, {}) if isinstance(metrics, Mapping) else {}
        return figure if isinstance(figure, Mapping) else {}

    @property
    def kind(self) -> str:
        """``service``, ``team`` or ``organisation``."""
        if self.scope == "organisation":
            return "organisation"
        return "team" if self.scope.startswith("team ") else "service"


class DoraResults:
    """DORA scorecards on the engine of a ``Store`` (the table is created on first use)."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        try:
            metadata.create_all(engine, tables=[dora_scorecards])
        except SQLAlchemyError as err:
            raise _store_error("creating the DORA table in", engine, err) from err

    def save(self, cards: Sequence[Mapping[str, Any]], computed_at: datetime) -> int:
        """Store every scorecard JSON (keys scope, since, until) in ONE transaction."""
        rows = [
            {
                "computed_at": computed_at,
                "scope": card["scope"],
                "since": datetime.fromisoformat(card["since"]),
                "until": datetime.fromisoformat(card["until"]),
                "body": dict(card),
            }
            for card in cards
        ]
        if rows:
            with self._transaction("saving DORA scorecards in") as conn:
                conn.execute(insert(dora_scorecards), rows)
        return len(rows)

    def last_computed_at(self) -> datetime | None:
        with self._transaction("reading") as conn:
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

    def _read(self, query: Any) -> list[StoredScorecard]:
        with self._transaction("reading") as conn:
            return [
                StoredScorecard(r["computed_at"], r["scope"], r["since"], r["until"], r["body"])
                for r in conn.execute(query).mappings()
            ]

    @contextmanager
    def _transaction(self, action: str) -> Iterator[Connection]:
        try:
            with self._engine.begin() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise _store_error(action, self._engine, err) from err


def _store_error(action: str, engine: Engine, err: SQLAlchemyError) -> StoreError:
    first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return StoreError(
        f"{action} the store {shown(engine.url)} failed: {first}. Check that the database is "
        f"reachable and writable, or {URL_HELP}"
    )
