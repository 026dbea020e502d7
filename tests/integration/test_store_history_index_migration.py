"""Revision 0010 (PostgreSQL's history indexes keyed by (SLO or service, at) only) on SQLite and
PostgreSQL: a store at revision 0009 holding evaluations upgrades with every row as before and
every history read as at the head; PostgreSQL's indexes then hold the key and ``at`` only,
SQLite's still cover the charted columns; a downgrade restores 0009's indexes, and an upgrade
follows again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect

from sloctl.store import Store, StoreReader, migrate
from sloctl.store.database import Database
from sloctl.store.schema import SIGNAL_COLUMNS, SLO_CHART_COLUMNS
from tests.integration.test_store_compact_migration import downgrade
from tests.integration.test_store_migrations import load_dump
from tests.integration.test_store_retention_migration import snapshot
from tests.support import store_baseline as known
from tests.support.store_backends import BACKENDS, new_database, postgres  # noqa: F401

REVISION, PREVIOUS = "0010", "0009"
COVERING = {
    "ix_slo_results_history": ["slo_id", "at", "epoch", *SLO_CHART_COLUMNS],
    "ix_signal_results_history": ["service", "at", "epoch", *SIGNAL_COLUMNS],
}
KEYED = {
    "ix_slo_results_history": ["slo_id", "at"],
    "ix_signal_results_history": ["service", "at"],
}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database(request, request.param, tmp_path)


def history_indexes(url: str) -> dict[str, list[str]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = inspect(conn)
        indexes = {i["name"]: [str(c) for c in i["column_names"]]
                   for table in ("slo_results", "signal_results")
                   for i in found.get_indexes(table)}
    engine.dispose()
    return {name: indexes[name] for name in COVERING}


def histories(url: str) -> list[str]:
    """Every SLO's and service's history, every point and 500 points, as repr."""
    since, until = known.T0 - timedelta(days=1), known.T0 + timedelta(days=1)
    out = []
    with StoreReader(url) as reader:
        ev = reader.evaluations
        for slo_id in ev.slo_ids():
            for points in (None, 500, 1):
                out.append(repr(ev.slo_history(slo_id, since, until, points).to_dict("list")))
        for service in ev.services():
            for points in (None, 500, 1):
                out.append(repr(ev.signal_history(service, since, until, points).to_dict("list")))
    return out


def test_history_indexes_upgrade_and_downgrade_with_every_row_and_read_kept(
    empty_url: str,
) -> None:
    load_dump(empty_url)  # tests.support.store_baseline's values, every table
    db = Database(empty_url)
    try:
        migrate.upgrade(db, PREVIOUS)
        assert history_indexes(empty_url) == COVERING
        migrate.upgrade(db)
        with Store(empty_url) as store:  # more rows: 5 more minutes
            store.evaluations.save_many([known.full_evaluation(known.T0 + known.MINUTE * k)
                                         for k in range(2, 7)])
        reads = histories(empty_url)  # (a reader needs the head revision)
        downgrade(db, PREVIOUS)
        before = snapshot(empty_url)
        assert len(before["slo_results"]) >= 5 and len(reads) > 6
        assert history_indexes(empty_url) == COVERING

        assert migrate.upgrade(db) == (PREVIOUS, migrate.head())
        postgresql = empty_url.startswith("postgresql")
        assert history_indexes(empty_url) == (KEYED if postgresql else COVERING)
        assert snapshot(empty_url, set(before)) == before
        assert histories(empty_url) == reads

        downgrade(db, PREVIOUS)
        assert history_indexes(empty_url) == COVERING
        assert snapshot(empty_url, set(before)) == before
        migrate.upgrade(db)
        assert history_indexes(empty_url) == (KEYED if postgresql else COVERING)
    finally:
        db.close()
