"""The deployment store on a tmp SQLite file: idempotent upserts and manual incident links."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sloctl.dora.model import Commit, Deployment, DeploymentKey, DeployStatus
from sloctl.store import Store
from sloctl.store.deployments import Deployments
from sloctl.store.schema import deployments

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=UTC)


V1 = Deployment(
    service="checkout",
    environment="production",
    version="v1",
    sha="abcdef1",
    finished=at(9),
    status=DeployStatus.SUCCESS,
    commit_time=at(8),
    started=at(8, 55),
    commits=(Commit("1234567", at(7)), Commit("abcdef1", at(8))),
    ref="main",
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Deployments]:
    with Store(f"sqlite:///{tmp_path / 'sloctl.db'}") as s:
        yield s.deployments


def _rows(store: Deployments) -> int:
    with store._db.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(deployments)) or 0)


def test_record_round_trips_every_field(store: Deployments) -> None:
    assert store.record(V1, "cli", NOW).created is True
    assert store.history() == [V1]


def test_same_key_twice_is_one_row_updated(store: Deployments) -> None:
    store.record(V1, "cli", NOW)
    again = replace(V1, status=DeployStatus.FAILURE)
    assert store.record(again, "http", NOW).created is False
    assert _rows(store) == 1
    assert store.history()[0].status == DeployStatus.FAILURE


def test_other_finish_time_is_another_deployment(store: Deployments) -> None:
    store.record(V1, "cli", NOW)
    store.record(replace(V1, finished=at(10)), "cli", NOW)
    assert [d.finished for d in store.history()] == [at(9), at(10)]
    assert [d.finished for d in store.history(until=at(10))] == [at(9)]
    assert store.history(service="search") == []


def test_manual_links(store: Deployments) -> None:
    assert store.links() == {}
    store.link("inc-1", V1.key, NOW, note="root cause: abcdef1")
    store.unlink("inc-2", NOW)
    assert store.links() == {"inc-1": DeploymentKey("checkout", "production", "v1", at(9)),
                             "inc-2": None}  # fmt: skip
    store.unlink("inc-1", NOW)  # an override replaces the previous one
    assert store.links() == {"inc-1": None, "inc-2": None}
    assert store.clear_link("inc-1") is True
    assert store.clear_link("inc-1") is False
    assert store.links() == {"inc-2": None}
