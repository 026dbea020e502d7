"""A real `sloctl db prune` SIGKILLed at random points after it started deleting, on SQLite and
PostgreSQL: every hour still has its raw evaluations or a roll-up holding its known values, and a
re-run completes to exactly the store an uninterrupted prune leaves.

The history lies in segments with gaps around each cut-off, so the clock moving on while the test
runs (a new hour, a new UTC day) changes no cut-off's effect.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.store import Store
from sloctl.store.schema import (
    DAY,
    HOUR,
    evaluations,
    signal_results,
    signal_rollups,
    slo_results,
    slo_rollups,
)
from tests.support.evaluations import evaluation, signals, slo
from tests.support.postgres import PostgresCluster
from tests.support.store_backends import postgres  # noqa: F401 (fixture)

ROOT = Path(__file__).resolve().parents[2]
STEP = timedelta(minutes=10)
SERVICES = tuple(f"svc{i}" for i in range(4))
RETENTION = {"SLOCTL_RETENTION_RAW_DAYS": "2", "SLOCTL_RETENTION_HOURLY_DAYS": "15",
             "SLOCTL_RETENTION_DAILY_DAYS": "35"}
# (from, to) in days before the anchor: expired, daily, hourly, then raw evaluations
SEGMENTS = ((40, 37), (33, 17), (13, 5), (1, 0))
KILLS = 3  # SIGKILLs that land mid-run, per backend
SEED = 20261207


def anchor() -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def history(end: datetime) -> list[datetime]:
    times: list[datetime] = []
    for start_days, end_days in SEGMENTS:
        t, stop = end - timedelta(days=start_days), end - timedelta(days=end_days)
        while t < stop:
            times.append(t)
            t += STEP
    return times


def traffic(k: int, service: int) -> float:
    return float((k * 7 + service * 13) % 101)


def budget_bad(k: int, service: int) -> float:
    return float((k * 3 + service) % 9) * 100.0


def known_evaluation(k: int, at: datetime) -> Evaluation:
    return evaluation(
        at,
        [slo(s, "availability", at, bad=budget_bad(k, i)) for i, s in enumerate(SERVICES)],
        [v for i, s in enumerate(SERVICES) for v in signals(s, {Signal.TRAFFIC: traffic(k, i)})],
    )


@dataclass(frozen=True)
class Backend:
    make: Callable[[str], str]  # a fresh copy of the template store, by name; returns its URL
    times: list[datetime]
    folder: Path  # the prune processes' working directory (no sloctl.yaml there)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Backend]:
    times = history(anchor())
    folder = tmp_path_factory.mktemp("prune-crash")
    if request.param == "sqlite":
        template = f"sqlite:///{folder / 'template.db'}"
    else:
        cluster: PostgresCluster = request.getfixturevalue("postgres")
        template = cluster.create_database("prune_template")
    with Store(template, upgrade=True) as store:
        store.evaluations.save_many(known_evaluation(k, t) for k, t in enumerate(times))
    made: list[str] = []

    def make(name: str) -> str:
        if request.param == "sqlite":
            path = folder / f"{name}.db"
            shutil.copyfile(folder / "template.db", path)
            return f"sqlite:///{path}"
        cluster.psql(f'CREATE DATABASE "{name}" TEMPLATE prune_template')
        made.append(name)
        return cluster.url(name)

    yield Backend(make, times, folder)
    if request.param == "postgresql":
        for name in [*made, "prune_template"]:
            cluster.drop_database(name)


def prune_process(url: str, cwd: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOCTL_", "OTEL_"))}
    env.update(RETENTION, SLOCTL_STORE_URL=url, PYTHONPATH=str(ROOT))  # this checkout's sloctl
    return subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", "db", "prune"], env=env,
                            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def count(url: str, table: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(table)) or 0)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def state(url: str) -> dict[str, list[tuple[object, ...]]]:
    """The rows a prune leaves: roll-ups, and the ids of the raw rows kept."""
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
                for t in (slo_rollups, signal_rollups)}
        for t in (evaluations, slo_results, signal_results):
            rows[t.name] = sorted(map(tuple, conn.execute(select(t.c.id))))
    engine.dispose()
    return rows


def expected_summary(ks: list[int], service: int) -> tuple[float, float, float, float, float,
                                                              float]:
    """(last, least, greatest) traffic, then budget_remaining, of evaluations ``ks``."""
    t = [traffic(k, service) for k in ks]
    b = [1 - budget_bad(k, service) / 1e6 / 0.001 for k in ks]
    return (t[-1], min(t), max(t), b[-1], min(b), max(b))


def assert_nothing_lost(url: str, times: list[datetime]) -> None:
    """Every hour of every key: its complete raw rows, or a roll-up (hourly or daily) holding
    its known values; nothing at all only for the expired segment, once nothing hourly is left."""
    engine = create_engine(url)
    with engine.connect() as conn:
        raw_at = [r[0] for r in conn.execute(select(evaluations.c.at))]
        tiers = {}
        for t, value in ((signal_rollups, "traffic"), (slo_rollups, "budget_remaining")):
            column = t.c.service if t is signal_rollups else t.c.slo_id
            for row in conn.execute(select(column, t.c.resolution, t.c.bucket, t.c[value],
                                           t.c[f"{value}_min"], t.c[f"{value}_max"])):
                tiers[(t.name, row[0], row[1], row[2])] = tuple(row[3:])
    engine.dispose()
    raw_hours: dict[int, int] = {}
    for at in raw_at:
        bucket = int(at.timestamp()) // HOUR * HOUR
        raw_hours[bucket] = raw_hours.get(bucket, 0) + 1
    by_hour: dict[int, list[int]] = {}
    by_day: dict[int, list[int]] = {}
    for k, at in enumerate(times):
        stamp = int(at.timestamp())
        by_hour.setdefault(stamp // HOUR * HOUR, []).append(k)
        by_day.setdefault(stamp // DAY * DAY, []).append(k)
    end = times[-1] + STEP  # the anchor
    hourly_segment = int((end - timedelta(days=SEGMENTS[2][0])).timestamp())
    expired_before = int((end - timedelta(days=SEGMENTS[1][0])).timestamp())
    # the expired segment goes once every day before the hourly one is rolled up into days
    old_hours_left = any(k[2] == HOUR and k[3] < hourly_segment for k in tiers)
    for hour, ks in by_hour.items():
        day = hour // DAY * DAY
        for i, service in enumerate(SERVICES):
            want_hour, want_day = expected_summary(ks, i), expected_summary(by_day[day], i)
            for table, key, part in (("signal_rollups", service, slice(0, 3)),
                                     ("slo_rollups", f"{service}/availability", slice(3, 6))):
                daily = tiers.get((table, key, DAY, day))
                hourly = tiers.get((table, key, HOUR, hour))
                if daily is not None:
                    assert daily == pytest.approx(want_day[part]), (table, key, day)
                elif hourly is not None:
                    assert hourly == pytest.approx(want_hour[part]), (table, key, hour)
                elif raw_hours.get(hour):
                    assert raw_hours[hour] == len(ks), f"hour {hour} half deleted, not rolled up"
                else:
                    assert hour < expired_before and not old_hours_left, f"{key} lost {hour}"


def deleting(url: str, total: int, cwd: Path) -> subprocess.Popen[bytes]:
    """A `sloctl db prune` of ``url``, returned once it has started deleting evaluations."""
    proc = prune_process(url, cwd)
    deadline = time.monotonic() + 120
    while count(url, evaluations) == total:
        if proc.poll() is not None:
            return proc  # it finished between two polls
        if time.monotonic() > deadline:
            proc.kill()
            proc.communicate()
            raise AssertionError("the prune never started deleting")
        time.sleep(0.005)
    return proc


def test_a_prune_killed_mid_run_loses_nothing_and_a_rerun_completes(backend: Backend) -> None:
    total = len(backend.times)
    reference = backend.make("reference")
    done = deleting(reference, total, backend.folder)
    started = time.monotonic()
    out = done.communicate(timeout=300)[0].decode()
    window = time.monotonic() - started  # from the first deletion to the end
    assert done.returncode == 0, out
    final = state(reference)
    assert final["evaluations"] and {r[1] for r in final["slo_rollups"]} == {HOUR, DAY}
    assert_nothing_lost(reference, backend.times)
    rng = random.Random(SEED)
    kills, attempts = 0, 0
    while kills < KILLS:
        attempts += 1
        assert attempts <= 3 * KILLS, f"only {kills} kills landed mid-run in {attempts} tries"
        url = backend.make(f"killed{attempts}")
        proc = deleting(url, total, backend.folder)
        try:
            time.sleep(rng.uniform(0, 0.8 * window))
            proc.send_signal(signal.SIGKILL)
        finally:
            proc.communicate(timeout=30)
        if proc.returncode != -signal.SIGKILL:
            continue  # it finished before the kill: try again, another random point
        kills += 1
        assert_nothing_lost(url, backend.times)
        rerun = prune_process(url, backend.folder)
        out = rerun.communicate(timeout=300)[0].decode()
        assert rerun.returncode == 0, out
        assert state(url) == final, f"attempt {attempts} (seed {SEED})"
