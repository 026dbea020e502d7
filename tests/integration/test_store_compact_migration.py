"""Revision 0009 (compact rows) on SQLite and PostgreSQL: a store at revision 0008 holding
evaluations (the baseline dump's, and one written as 0008 wrote it with values no formula gives
back: NaN, infinities, -0.0, odd windows and rules, every alert time) upgrades with every value
read back as before, bit for bit; downgrades to 0008 with every value as before; and upgrades
again."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, create_engine, insert, inspect, select

from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal, SignalValue
from sloctl.store import StoreReader, codec, migrate
from sloctl.store.database import Database
from tests.integration.test_store_migrations import load_dump
from tests.support import store_baseline as known
from tests.support.store_backends import BACKENDS, new_database, postgres  # noqa: F401
from tests.unit.test_store import odd_evaluation

REVISION, PREVIOUS = "0009", "0008"
ODD_AT = known.T0 + timedelta(hours=1)
MOVED = ("name", "period", "period_elapsed", "error_budget", "budget_total_minutes",
         "budget_remaining_events", "exhaustion_at", "breaching", "reason", "windows",
         "decisions")


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    yield from new_database(request, request.param, tmp_path)


def _tables(conn: Any) -> dict[str, Table]:
    found = MetaData()
    found.reflect(conn)
    return dict(found.tables)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _stamp(conn: Any, value: datetime | None) -> datetime | None:
    """A datetime as revision 0008's columns take it (naive UTC on SQLite)."""
    if value is None or conn.dialect.name != "sqlite":
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def write_as_0008(url: str, ev: Evaluation) -> None:
    """Store ``ev`` as revision 0008 did (its codec: JSON windows, decisions and alerts)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        t = _tables(conn)
        ev_id = conn.execute(insert(t["evaluations"]).returning(t["evaluations"].c.id), {
            "at": _stamp(conn, ev.at), "started_at": _stamp(conn, ev.started_at),
            "finished_at": _stamp(conn, ev.finished_at), "complete": ev.complete,
            "problems": list(ev.problems), "query_count": ev.query_count,
            "alerts": [codec.encode_alert(a) for a in ev.alerts]}).scalar_one()
        for position, status in enumerate(ev.slos):
            row = {k: v for k, v in codec.slo_row(status, ev_id, position).items()
                   if k != "detail"}
            row |= codec.legacy_slo_columns(status)
            row["at"], row["exhaustion_at"] = (_stamp(conn, row["at"]),
                                               _stamp(conn, row["exhaustion_at"]))
            conn.execute(insert(t["slo_results"]), row)
        for row in codec.signal_rows(ev, ev_id):
            row["signals"] = codec.decode_signal_order(row.pop("signal_order"))
            row["at"] = _stamp(conn, row["at"])
            conn.execute(insert(t["signal_results"]), row)
    engine.dispose()


def read_as_0008(url: str) -> list[str]:
    """Every stored evaluation as revision 0008 reads it (its codec), as repr (which tells
    -0.0 from 0.0 and shows NaN): oldest first."""
    engine = create_engine(url)
    out = []
    with engine.connect() as conn:
        t = _tables(conn)
        evs = t["evaluations"]
        for row in conn.execute(select(evs).order_by(evs.c.at, evs.c.id)).mappings():
            at = _aware(row["at"])
            slos = []
            for r in conn.execute(select(t["slo_results"]).where(
                    t["slo_results"].c.evaluation_id == row["id"])
                    .order_by(t["slo_results"].c.position)).mappings():
                values = dict(r) | {"at": _aware(r["at"]),
                                    "exhaustion_at": _aware(r["exhaustion_at"])}
                slos.append(codec.legacy_slo_status(values))
            signals = [
                SignalValue(r["service"], Signal(name), r[name], r["reasons"].get(name))
                for r in conn.execute(select(t["signal_results"]).where(
                    t["signal_results"].c.evaluation_id == row["id"])
                    .order_by(t["signal_results"].c.position)).mappings()
                for name in r["signals"]]
            out.append(repr(Evaluation(
                at=at, started_at=_aware(row["started_at"]),  # type: ignore[arg-type]
                finished_at=_aware(row["finished_at"]),  # type: ignore[arg-type]
                slos=tuple(slos), signals=tuple(signals),
                alerts=tuple(codec.decode_alert(d) for d in row["alerts"]),
                problems=tuple(row["problems"]), query_count=row["query_count"])))
    engine.dispose()
    return out


def downgrade(db: Database, to: str) -> None:
    """``alembic downgrade`` in one transaction, as ``migrate.upgrade`` runs upgrades."""
    from alembic import command

    with db.write("downgrading the schema of") as conn:
        command.downgrade(migrate._config(None, conn), to)


def read_at_head(url: str) -> list[str]:
    with StoreReader(url) as reader:
        return [repr(reader.evaluations.at(at)) for at in (known.T0, known.T0 + known.MINUTE,
                                                            ODD_AT)]


def test_compact_rows_upgrade_and_downgrade_with_every_value_kept(empty_url: str) -> None:
    load_dump(empty_url)  # tests.support.store_baseline's values, every table
    db = Database(empty_url)
    try:
        migrate.upgrade(db, PREVIOUS)
        write_as_0008(empty_url, odd_evaluation(ODD_AT))
        before = read_as_0008(empty_url)
        assert len(before) == 3 and "nan" in before[2] and "-0.0" in before[2]
        assert migrate.upgrade(db) == (PREVIOUS, migrate.head())  # through REVISION
        assert read_at_head(empty_url) == before
        with StoreReader(empty_url) as reader:  # the values the old sloctl was given
            first, last = known.evaluations()
            assert reader.evaluations.at(known.T0) == first
            assert reader.evaluations.at(ODD_AT - known.MINUTE) == last
            assert reader.alerts.states_before(ODD_AT) == {a.key: a for a in last.alerts}
        engine = create_engine(empty_url)
        with engine.connect() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("slo_results")}
            identities = len(conn.execute(select(_tables(conn)["alert_identities"])).all())
        engine.dispose()
        assert "detail" in columns and not columns & set(MOVED)
        assert identities == 3  # the baseline's two alerts (shared by the odd evaluation), "z/late"

        downgrade(db, PREVIOUS)
        assert read_as_0008(empty_url) == before
        migrate.upgrade(db)
        assert read_at_head(empty_url) == before
    finally:
        db.close()
