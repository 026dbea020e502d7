"""Every part of the store facade on SQLite and PostgreSQL: known values in, the same values out,
and a reader that never writes nor issues DDL."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, inspect, text
from sqlalchemy.exc import DBAPIError

from sloctl.errors import StoreError
from sloctl.store import SchemaOutdated, Store, StoreReader
from sloctl.store.migrate import head
from sloctl.store.traces import ExemplarRecord, TraceFindings
from tests.support import store_baseline as known
from tests.support.store_backends import postgres, store_url  # noqa: F401 (fixtures)

WRITES = ("CREATE", "ALTER", "DROP", "INSERT", "UPDATE", "DELETE", "REPLACE")


def fill(store: Store) -> None:
    """Every table gets rows: the values of tests.support.store_baseline."""
    for ev in known.evaluations():
        store.evaluations.save(ev)
    for i, notification in enumerate(known.notifications()):
        store.alerts.record(notification, known.received_at(i))
    for d in known.deployments():
        store.deployments.record(d, "cli", known.NOW)
    store.deployments.link(*known.LINKED, known.NOW, "the v1 rollout")
    store.deployments.unlink(known.UNLINKED, known.NOW, "a network outage")
    store.scorecards.save(known.scorecards(), computed_at=known.NOW)
    store.traces.save(findings(), checked_at=known.T0 + timedelta(seconds=5))


def findings() -> TraceFindings:
    at, records, disagreements, problems = known.trace_findings_values()
    exemplars = tuple(ExemplarRecord(key, kind, ex) for key, kind, ex in records)  # type: ignore[arg-type]
    return TraceFindings(at, exemplars, disagreements, problems)


def assert_known_values(reader: StoreReader) -> None:
    """What ``fill`` wrote, read back through every part."""
    first, last = known.evaluations()
    assert reader.evaluations.latest() == last
    assert reader.evaluations.at(known.T0) == first
    assert reader.evaluations.slo_ids() == ["checkout/availability", "search/latency"]
    assert reader.evaluations.services() == ["checkout", "search"]
    assert reader.alerts.states() == {a.key: a for a in last.alerts}
    assert [(a.key, a.state) for a in reader.alerts.transitions()] == [
        (known.PAGE, "pending"), (known.PAGE, "firing")
    ]
    [alert] = reader.alerts.received()
    assert (alert.fingerprint, alert.status, alert.ends_at) == (
        "ebb1fe80b92a0f50", "resolved", known.NOW - timedelta(hours=2)
    )
    assert (alert.first_received_at, alert.last_received_at) == (
        known.received_at(0), known.received_at(1)
    )
    assert alert.annotations == {"summary": "checkout: ok"}
    [gap] = reader.alerts.data_gaps()
    assert (gap.truncated_alerts, gap.received_at) == (3, known.received_at(2))
    assert reader.deployments.history() == known.deployments()
    incident, key = known.LINKED
    assert reader.deployments.links() == {incident: key, known.UNLINKED: None}
    stored = reader.scorecards.latest()
    assert [s.card for s in stored] == known.scorecards()
    assert {s.computed_at for s in stored} == {known.NOW}
    assert [s.kind for s in stored] == ["service", "organisation"]
    assert reader.traces.findings(known.T0) == findings()


def test_every_part_round_trips_known_values(store_url: str) -> None:  # noqa: F811
    with Store(store_url, upgrade=True) as store:
        fill(store)
        assert_known_values(store)
        assert_known_values(store.reader())
    with StoreReader(store_url) as reader:  # another process, another day
        assert_known_values(reader)


def test_timestamps_come_back_aware_utc(store_url: str) -> None:  # noqa: F811
    with Store(store_url, upgrade=True) as store:
        fill(store)
        ev = store.evaluations.latest()
        assert ev is not None
        times = [ev.at, ev.started_at, *(a.updated_at for a in ev.alerts)]
        times += [d.finished for d in store.deployments.history()]
        times += [s.computed_at for s in store.scorecards.latest()]
        assert all(t.utcoffset() == timedelta(0) for t in times)


@pytest.fixture
def filled(store_url: str) -> str:  # noqa: F811
    with Store(store_url, upgrade=True) as store:
        fill(store)
    return store_url


def statements(engine: object) -> Iterator[list[str]]:
    seen: list[str] = []

    def capture(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        seen.append(sql)

    event.listen(engine, "before_cursor_execute", capture)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", capture)


def read_everything(reader: StoreReader) -> None:
    assert_known_values(reader)
    reader.evaluations.slo_history("checkout/availability", known.T0)
    reader.evaluations.signal_history("checkout", known.T0)
    reader.alerts.firing()
    reader.alerts.instances()
    reader.scorecards.history("organisation")
    reader.traces.latest()


def test_the_reader_issues_no_ddl_and_no_write(filled: str) -> None:
    with StoreReader(filled) as reader:
        for seen in statements(reader.engine):
            read_everything(reader)
            first_words = {sql.split()[0].upper() for sql in seen}
            assert not first_words & set(WRITES), first_words
            assert "SELECT" in first_words


def test_the_reader_refuses_to_write(filled: str) -> None:
    with StoreReader(filled) as reader:
        with pytest.raises(StoreError, match="opened read-only"), reader._db.write("testing"):
            pass
        with reader._db.read() as conn, pytest.raises(DBAPIError):  # the database refuses
            conn.exec_driver_sql("CREATE TABLE intruder (x INTEGER)")
    with Store(filled) as store:
        assert "intruder" not in inspect(store.engine).get_table_names()


def test_the_reader_leaves_a_sqlite_file_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "sloctl.db"
    with Store(f"sqlite:///{path}") as store:
        fill(store)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with StoreReader(f"sqlite:///{path}") as reader:
        read_everything(reader)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not path.with_name("sloctl.db-wal").exists() or (
        path.with_name("sloctl.db-wal").stat().st_size == 0
    )


def test_the_reader_on_a_missing_sqlite_file_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "nothing" / "sloctl.db"
    with pytest.raises(StoreError, match=r"does not exist yet: run `sloctl eval`"):
        StoreReader(f"sqlite:///{path}")
    assert not path.parent.exists()


def test_an_empty_database_needs_sloctl_db_upgrade_except_a_new_sqlite_file(
    store_url: str,  # noqa: F811
) -> None:
    if store_url.startswith("sqlite"):
        with Store(store_url) as store:  # a brand-new SQLite store creates its schema
            assert store.evaluations.latest() is None
        return
    for opener in (StoreReader, Store):
        with pytest.raises(SchemaOutdated) as caught:
            opener(store_url)
        assert "has no schema yet: run `sloctl db upgrade`" in str(caught.value)
    with Store(store_url, upgrade=True) as store:
        assert store.evaluations.latest() is None
    with StoreReader(store_url) as reader:
        assert reader.alerts.states() == {}
        with reader.engine.connect() as conn:
            assert conn.scalar(text("SELECT version_num FROM alembic_version")) == head()
