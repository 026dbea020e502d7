"""One stored serve cycle per slot (both backends), and the PostgreSQL leader lock: one holder at
a time, released when its session ends, and writes fenced by it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.errors import StoreError
from sloctl.store import Store
from sloctl.store.evaluations import CycleSlotTaken
from sloctl.store.leader import LeaderLock, NotLeader
from sloctl.store.schema import evaluations
from tests.support.evaluations import T0, alert, evaluation, slo
from tests.support.postgres import PostgresCluster
from tests.support.processes import wait_until
from tests.support.store_backends import postgres, store_url  # noqa: F401 (fixtures)

SLOT = T0  # a slot start; cycles at T0 + a few seconds belong to it


def cycle(seconds: int) -> Evaluation:
    at = T0 + timedelta(seconds=seconds)
    return evaluation(at, [slo("checkout", "availability", at, bad=400.0)],
                      alerts=[alert("k1", AlertState.FIRING, at)])


def stored(store: Store) -> list[tuple[object, object]]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(evaluations.c.at, evaluations.c.cycle_slot)
                            .order_by(evaluations.c.id))
        return [tuple(r) for r in rows]


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:  # noqa: F811 (the fixture)
    with Store(store_url, upgrade=True) as s:
        yield s


def test_a_slot_holds_one_cycle_and_a_second_stores_nothing(store: Store) -> None:
    first = cycle(3)
    store.evaluations.save(first, slot=SLOT)
    with pytest.raises(CycleSlotTaken, match="slot 2025-03-01T12:00:00"):
        store.evaluations.save(cycle(7), slot=SLOT)
    store.evaluations.save(cycle(9))  # sloctl eval: no slot
    store.evaluations.save(cycle(9))
    store.evaluations.save(cycle(64), slot=SLOT + timedelta(seconds=60))
    minute = timedelta(seconds=60)
    assert stored(store) == [
        (T0 + timedelta(seconds=3), SLOT), (T0 + timedelta(seconds=9), None),
        (T0 + timedelta(seconds=9), None), (T0 + timedelta(seconds=64), SLOT + minute),
    ]
    # the refused cycle wrote nothing else either: one firing transition, from the first
    assert [t.updated_at for t in store.alerts.transitions()] == [T0 + timedelta(seconds=3)]
    assert store.evaluations.latest_at() == T0 + timedelta(seconds=64)


@pytest.fixture
def pg_url(postgres: PostgresCluster) -> Iterator[str]:  # noqa: F811 (the fixture)
    name = "leader_lock"
    url = postgres.create_database(name)
    Store(url, upgrade=True).close()
    try:
        yield url
    finally:
        postgres.drop_database(name)


def sessions_of(url: str) -> int:
    with Store(url) as s, s.engine.connect() as conn:
        count: int = conn.scalar(text(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sloctl leader lock'"))
        return count


def test_one_holder_at_a_time_and_the_lock_frees_when_its_session_ends(pg_url: str) -> None:
    a, b = LeaderLock(pg_url), LeaderLock(pg_url)
    try:
        assert (a.poll(), b.poll(), a.poll(), b.poll()) == (True, False, True, False)
        assert sessions_of(pg_url) == 2  # a follower keeps its session for the next try
        a.close()  # as a killed process: the session ends (its backend exits soon after)
        wait_until(lambda: b.poll() or None, 10, "b taking the freed lock")
        assert a.poll() is False  # a new session of a finds the lock taken
    finally:
        a.close()
        b.close()
    assert sessions_of(pg_url) == 0


def test_only_the_holder_writes_and_a_killed_session_fences_it(pg_url: str) -> None:
    leader, follower = LeaderLock(pg_url), LeaderLock(pg_url)
    try:
        assert leader.poll() and not follower.poll()
        with pytest.raises(NotLeader):
            follower.save_cycle(cycle(3), SLOT)
        leader.save_cycle(cycle(3), SLOT)
        with pytest.raises(CycleSlotTaken):
            leader.save_cycle(cycle(8), SLOT)
        with Store(pg_url) as admin, admin.engine.begin() as conn:  # the leader's session dies
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_locks "
                              "WHERE locktype = 'advisory' AND granted"))
        with pytest.raises(StoreError, match="as the leader"):
            leader.save_cycle(cycle(63), SLOT + timedelta(seconds=60))
        assert leader.leading is False
        wait_until(lambda: follower.poll() or None, 10, "the lock going with the session")
        follower.save_cycle(cycle(64), SLOT + timedelta(seconds=60))
    finally:
        leader.close()
        follower.close()
    with Store(pg_url) as s, s.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(evaluations)) == 2
