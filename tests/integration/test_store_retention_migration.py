"""Revision 0004 (history tiers) on SQLite and PostgreSQL: a store at the revision before it,
holding data, upgrades with every row kept; its alert transitions then outlive their pruned
evaluations. And the migrations have exactly one head."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, inspect, select

from sloctl.store import Store, StoreReader, migrate
from sloctl.store.database import Database
from sloctl.store.retention import RetentionPolicy
from tests.integration.test_store_migrations import load_dump
from tests.support.evaluations import T0
from tests.support.store_backends import BACKENDS, new_database, postgres  # noqa: F401
from tests.unit.test_store_parts import assert_known_values

REVISION = "0004"
PREVIOUS = migrate.script_directory().get_revision(REVISION).down_revision
TIERS = ("slo_rollups", "signal_rollups")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database(request, request.param, tmp_path)


def test_the_migrations_have_exactly_one_head() -> None:
    heads = migrate.script_directory().get_heads()
    assert heads == [migrate.head()], f"branched migrations {heads}: chain yours after the head"
    assert migrate.revisions()[0] == "0001" and REVISION in migrate.revisions()


def snapshot(url: str, only: set[str] | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (of ``only``) in the store, sorted (as the store's schema is,
    whatever its revision)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        present = set(inspect(conn).get_table_names()) if only is None else only
        present.discard(migrate.VERSION_TABLE)
        found = MetaData()
        found.reflect(conn)
        rows = {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
                for t in found.sorted_tables if t.name in present}
    engine.dispose()
    return rows


def test_history_tiers_upgrade_a_store_at_the_previous_head_with_nothing_lost(
    empty_url: str,
) -> None:
    load_dump(empty_url)  # tests.support.store_baseline's values, every table
    db = Database(empty_url)
    try:
        migrate.upgrade(db, str(PREVIOUS))
        before = snapshot(empty_url)
        assert sum(map(len, before.values())) > 20 and before["alert_transitions"]
        assert migrate.upgrade(db, REVISION) == (PREVIOUS, REVISION)
        assert snapshot(empty_url, set(before)) == before
        migrate.upgrade(db)  # and on to the head: later revisions convert rows their way
    finally:
        db.close()
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        found = inspect(conn)
        assert {name for name in TIERS if found.has_table(name)} == set(TIERS)
        [fk] = found.get_foreign_keys("alert_transitions")
        column = next(c for c in found.get_columns("alert_transitions")
                      if c["name"] == "evaluation_id")
    engine.dispose()
    assert (fk["referred_table"], fk["options"].get("ondelete")) == ("evaluations", "SET NULL")
    assert column["nullable"]
    with StoreReader(empty_url) as reader:
        assert_known_values(reader)
    # the upgraded store prunes: its two evaluations go, their alert transitions stay
    with Store(empty_url) as store:
        transitions = store.alerts.transitions()
        report = store.retention.prune(T0 + timedelta(days=30), RetentionPolicy(1, 1, 1))
        assert report.deleted[("raw", "evaluations")] == 2
        assert store.evaluations.latest() is None
        assert store.alerts.transitions() == transitions and len(transitions) == 2
