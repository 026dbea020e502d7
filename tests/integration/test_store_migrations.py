"""Schema migrations on SQLite and PostgreSQL: a store written before migrations (a dump of one,
tests/fixtures/store) upgrades with nothing lost; an outdated store stops every command with
`sloctl db upgrade`; a failing migration rolls back whole and leaves the store usable."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import DateTime, create_engine, func, inspect, select, text
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.errors import EXIT_USAGE, StoreError
from sloctl.store import SchemaOutdated, Store, StoreReader, migrate
from sloctl.store.database import Database
from sloctl.store.migrations import baseline_tables
from sloctl.store.schema import metadata
from tests.support.store_backends import BACKENDS, new_database, postgres  # noqa: F401
from tests.unit.test_store_parts import assert_known_values, fill

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "store"
HEAD = migrate.head()  # this sloctl's newest revision
# Rows per table in the dumps (tests.support.store_baseline's values, written by commit 91af14d)
BASELINE_ROWS = {
    "evaluations": 2, "slo_results": 4, "signal_results": 4, "alert_states": 2,
    "alert_transitions": 2, "slo_catalog": 2, "service_catalog": 2, "am_notifications": 3,
    "am_alerts": 1, "deployments": 2, "incident_links": 2, "dora_scorecards": 2,
    "trace_checks": 1, "trace_exemplars": 1, "span_disagreements": 1,
}


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database(request, request.param, tmp_path)


def load_dump(url: str) -> None:
    """Restore the dump of the pre-migration store of url's backend into url's database."""
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with sqlite3.connect(path) as conn:
            conn.executescript((FIXTURES / "baseline.sqlite.sql").read_text())
        return
    engine = create_engine(url)
    params = engine.url.translate_connect_args(username="user", database="dbname")
    engine.dispose()
    with psycopg.connect(**params, **engine.url.query, autocommit=True) as conn:  # type: ignore[arg-type]
        conn.execute((FIXTURES / "baseline.postgresql.sql").read_text())  # type: ignore[arg-type]


def row_counts(url: str) -> dict[str, int]:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {t.name: int(conn.scalar(select(func.count()).select_from(t)) or 0)
                  for t in metadata.sorted_tables if t.name in BASELINE_ROWS}
    engine.dispose()
    return counts


def columns(url: str) -> dict[str, dict[str, str]]:
    """table -> column -> type as the database reports it, and "(indexes)" -> their names
    and columns."""
    engine = create_engine(url)
    with engine.connect() as conn:
        found = inspect(conn)
        result = {t: {c["name"]: str(c["type"]) for c in found.get_columns(t)}
                  for t in found.get_table_names() if t != migrate.VERSION_TABLE}
        for table, described in result.items():
            indexes = found.get_indexes(table)
            described["(indexes)"] = ", ".join(sorted(
                f"{i['name']}({', '.join(map(str, i['column_names']))})"
                f"{' unique' if i['unique'] else ''}" for i in indexes))
    engine.dispose()
    return result


def test_a_store_written_before_migrations_upgrades_with_nothing_lost(empty_url: str) -> None:
    load_dump(empty_url)
    assert row_counts(empty_url) == BASELINE_ROWS
    with pytest.raises(SchemaOutdated, match=r"older sloctl .* run `sloctl db upgrade`"):
        Store(empty_url)
    result = CliRunner().invoke(app, ["db", "upgrade"], env={"SLOCTL_STORE_URL": empty_url})
    assert result.exit_code == 0, result.output
    assert f"upgraded from revision none to {HEAD}" in " ".join(result.output.split())
    assert row_counts(empty_url) == BASELINE_ROWS
    with StoreReader(empty_url) as reader:
        assert_known_values(reader)  # every value as written by the old sloctl
    if empty_url.startswith("postgresql"):
        engine = create_engine(empty_url)
        with engine.connect() as conn:
            naive = conn.scalar(text(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                "AND data_type = 'timestamp without time zone'"))
            aware = conn.scalar(text(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'public' "
                "AND data_type = 'timestamp with time zone'"))
        engine.dispose()
        old_tables = baseline_tables.metadata.sorted_tables
        old = sum(isinstance(c.type, DateTime) for t in old_tables for c in t.columns)
        timestamps = sum(isinstance(getattr(c.type, "impl", c.type), DateTime)
                         for t in metadata.sorted_tables for c in t.columns)  # and later ones
        assert (naive, aware) == (0, timestamps) and old == 32
    again = CliRunner().invoke(app, ["db", "upgrade"], env={"SLOCTL_STORE_URL": empty_url})
    assert again.exit_code == 0 and f"already at revision {HEAD}" in again.output


def test_revision_0001_creates_exactly_the_schema_of_the_old_store(
    empty_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db = Database(empty_url)
    migrate.upgrade(db, "0001")
    db.close()
    backend = empty_url.split(":")[0].split("+")[0]
    databases = new_database(request, backend, tmp_path / "old")
    old = next(databases)
    try:
        load_dump(old)
        assert columns(empty_url) == columns(old)
    finally:
        databases.close()
    assert {t.name for t in baseline_tables.metadata.sorted_tables} == set(BASELINE_ROWS)


def test_an_outdated_store_stops_every_command_naming_sloctl_db_upgrade(empty_url: str) -> None:
    db = Database(empty_url)
    migrate.upgrade(db, "0001")
    db.close()
    env = {"SLOCTL_STORE_URL": empty_url, "SLOCTL_CONFIG": ""}
    for args in (["status"], ["alerts"], ["dora"], ["incidents", "unlink", "a@b"]):
        result = CliRunner().invoke(app, args, env=env)
        text_ = " ".join(result.output.split())
        assert result.exit_code == EXIT_USAGE, (args, text_)
        assert f"is at schema revision 0001; this sloctl needs {HEAD}: run `sloctl db upgrade`" \
            in text_, (args, text_)
    current = CliRunner().invoke(app, ["db", "current", "--check"], env=env)
    assert current.exit_code == 1
    assert f"revision 0001, behind {HEAD} (run `sloctl db upgrade`)" in current.output
    assert CliRunner().invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    current = CliRunner().invoke(app, ["db", "current", "--check"], env=env)
    assert current.exit_code == 0 and f"revision {HEAD}: up to date" in current.output


def test_a_store_from_a_newer_sloctl_is_refused(empty_url: str) -> None:
    with Store(empty_url, upgrade=True):
        pass
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    engine.dispose()
    for opener in (Store, StoreReader):
        with pytest.raises(SchemaOutdated, match=r"revision 0099, newer than this sloctl"):
            opener(empty_url)
    with pytest.raises(SchemaOutdated, match="upgrade sloctl"):
        Store(empty_url, upgrade=True)


FAILING_REVISION = '''"""A revision that changes the schema, then fails (tests only)."""

from alembic import op
import sqlalchemy as sa

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
    op.add_column("evaluations", sa.Column("tier", sa.String(16)))
    op.execute("DELETE FROM slo_results")
    raise RuntimeError("this revision fails halfway")


def downgrade() -> None:
    pass
'''


def test_a_failing_migration_rolls_back_and_leaves_the_store_usable(
    empty_url: str, tmp_path: Path
) -> None:
    with Store(empty_url, upgrade=True) as store:
        fill(store)
    before = row_counts(empty_url)
    scripts = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "v9999_fails.py").write_text(FAILING_REVISION.replace("{head}", HEAD))
    db = Database(empty_url)
    with pytest.raises(StoreError) as caught:
        migrate.upgrade(db, location=scripts)
    assert f"still at revision {HEAD}" in str(caught.value)
    assert migrate.schema_state(db).current == HEAD
    db.close()
    assert row_counts(empty_url) == before  # the DELETE was rolled back too
    tables = columns(empty_url)
    assert "half_done" not in tables and "tier" not in tables["evaluations"]
    with Store(empty_url) as store:  # the sloctl at HEAD reads and writes as before
        assert_known_values(store)
        fill(store)


def test_the_migrations_build_exactly_schema_py(empty_url: str, tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    """Changing sloctl/store/schema.py without a revision (or the reverse) fails here."""
    with Store(empty_url, upgrade=True):
        pass
    backend = empty_url.split(":")[0].split("+")[0]
    databases = new_database(request, backend, tmp_path / "declared")
    declared = next(databases)
    try:
        engine = create_engine(declared)
        if backend == "sqlite":
            Path(declared.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        metadata.create_all(engine)
        engine.dispose()
        assert columns(empty_url) == columns(declared)
    finally:
        databases.close()
