"""Store growth over 400 days with retention: 100 services x 2 SLOs evaluated every 60 s.

Simulates 400 days into a store (SQLite, then PostgreSQL in a throwaway cluster) through the real
save path (``store.evaluations.save_many``), pruning at the end of each simulated day as
``sloctl serve`` does (``store.retention.prune``, default retention 8 / 90 / 400 days), and prints
for each backend, next to a baseline measured in the same run:

- the store's size at day 400 (target <= 2 GB); baseline: the same evaluations kept raw, with no
  pruning nor roll-ups (400 x the bytes of one full raw day, measured);
- reading 90 days of one SLO's history, 500 points as the dashboard and CLI do (target <= 0.3 s);
  baseline: the same read over raw evaluations only, measured over 1, 2, 4 and 8 days and
  extrapolated linearly (least squares) to 90 days;
- pruning one day at day 400 (target <= 10 s): rolling up and deleting one full day of raw
  evaluations, folding a day of hourly roll-ups into a daily one, expiring a daily one; baseline:
  deleting the same raw rows in one statement per table, with no roll-up (rolled back).

Sampling (one full-rate year would take hours to write): what day 400's store holds depends on
each day's tier, so each day is written at the rate its tier needs, all 100 services each time:

- days 1-310 (daily roll-ups at day 400): two evaluations a day;
- days 311-392 (hourly roll-ups at day 400): one evaluation an hour (24 hourly rows a day);
- day 393 (the oldest raw day, the one the next prune rolls up): every 60 s, all 200 SLOs;
- days 394-400 (raw): every 60 s for svc-000 only (the SLO whose history is read has all of
  its raw points; the 99 other services' are counted as 7 more full days of measured bytes).

The size at day 400 is therefore the measured size of every table but the raw ones, plus 8 x the
bytes one full raw day (day 393) added to the raw tables (SQLite: their pages, dbstat;
PostgreSQL: pg_total_relation_size after VACUUM FULL of the raw tables before day 393).

    .venv/bin/python bench/store_growth.py [--backends sqlite,postgresql] [--repeats 15]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sqlalchemy import Engine, delete, text  # noqa: E402

from sloctl.core.alerts import AlertState, AlertStatus  # noqa: E402
from sloctl.core.evaluation import Evaluation  # noqa: E402
from sloctl.core.signals import Signal, SignalValue  # noqa: E402
from sloctl.core.slo import evaluate_slo  # noqa: E402
from sloctl.core.windows import ALERT_WINDOWS, WindowCounts  # noqa: E402
from sloctl.store import Store  # noqa: E402
from sloctl.store.retention import RetentionPolicy  # noqa: E402
from sloctl.store.schema import evaluations, signal_results, slo_results  # noqa: E402

OUT = REPO / "bench" / "out"
DAYS = 400
SERVICES = 100
STEP = 60
PERIOD = 30 * 86400
START = datetime(2025, 1, 1, tzinfo=UTC)  # the start of day 1
POLICY = RetentionPolicy()  # 8 / 90 / 400 days
RAW = ("evaluations", "slo_results", "signal_results")
TARGET_BYTES, TARGET_READ, TARGET_PRUNE = 2e9, 0.3, 10.0
READ_ID = "svc-000/availability"


def day_start(day: int) -> datetime:
    return START + timedelta(days=day - 1)


# -- synthetic evaluations --------------------------------------------------------------------


class Fleet:
    """Deterministic error ratios with a daily cycle, as real-sized evaluations: per SLO every
    alert window and the SLO window, 4 burn-rate decisions and 2 burn-rate alerts; per service
    6 golden signals and 2 default alerts (600 alerts per evaluation at 100 services). SLO
    statuses come from the event counts through ``core.slo.evaluate_slo``, as a cycle's do."""

    def __init__(self, services: int, seed: int = 7) -> None:
        rng = np.random.default_rng(seed)
        self.services = [f"svc-{i:03d}" for i in range(services)]
        self.objectives = np.array([0.999, 0.99] * services)
        self.base = (1 - self.objectives) * rng.uniform(0.1, 0.9, size=2 * services)
        self.phase = rng.uniform(0, 2 * np.pi, size=2 * services)
        self.rps = rng.uniform(5, 200, size=services)
        self.windows = (*ALERT_WINDOWS, PERIOD)

    def evaluation(self, at: datetime, services: int | None = None) -> Evaluation:
        n = len(self.services) if services is None else services
        t = at.timestamp()
        wave = 1 + 0.5 * np.sin(2 * np.pi * t / 86400 + self.phase[: 2 * n])
        ripple = 1 + 0.3 * np.sin(t / 977.0 + np.arange(2 * n))
        slos, alerts, signals = [], [], []
        for i in range(2 * n):
            service, name = self.services[i // 2], ("availability", "latency")[i % 2]
            slo_id, objective = f"{service}/{name}", float(self.objectives[i])
            rate = float(self.rps[i // 2])
            counts = []
            for j, w in enumerate(self.windows):
                ratio = float(self.base[i] * wave[i] * (ripple[i] if j < 3 else 1.0))
                total = rate * w
                counts.append(WindowCounts(w, total * ratio, total, 1.0))
            status = evaluate_slo(slo_id=slo_id, service=service, name=name,
                                  objective=objective, period=PERIOD, period_elapsed=PERIOD,
                                  at=at, counts=counts, slo_window=PERIOD)
            slos.append(status)
            burn = {r.window: r.burn_rate or 0.0 for r in status.windows}
            for severity, window in (("page", 3600), ("ticket", 21600)):
                alerts.append(_alert(f"burn_rate:{severity}/{slo_id}", service, slo_id, severity,
                                     burn[window], 14.4 if severity == "page" else 1.0, at))
        for s in range(n):
            service, ratio = self.services[s], float(self.base[2 * s] * wave[2 * s])
            rate = float(self.rps[s] * wave[2 * s])
            values = (rate, ratio, 0.04 + ratio, 0.15 + 5 * ratio, 0.3 + 10 * ratio, rate / 400)
            signals += [SignalValue(service, sig, v) for sig, v in zip(Signal, values,
                                                                       strict=True)]
            alerts.append(_alert(f"default:error_ratio/{service}", service, None, "warning",
                                 ratio, 0.005, at))
            alerts.append(_alert(f"default:latency_p95/{service}", service, None, "warning",
                                 values[3], 0.3, at))
        return Evaluation(at, at, at + timedelta(seconds=2), tuple(slos), tuple(signals),
                          tuple(alerts), (), query_count=27)


def _alert(key: str, service: str, slo_id: str | None, severity: str, value: float,
           threshold: float, at: datetime) -> AlertStatus:
    firing = value > threshold
    return AlertStatus(key, key.split("/")[0], service, slo_id, severity,
                       AlertState.FIRING if firing else AlertState.INACTIVE, value, threshold,
                       at if firing else None, at if firing else None, None, at,
                       labels={"window": "1h" if slo_id else "5m"})


@dataclass(frozen=True)
class DayPlan:
    step: int  # seconds between evaluations
    services: int | None  # None: all


def plan(day: int) -> DayPlan:
    """How densely day ``day`` is written (see the module docstring)."""
    if day <= DAYS - POLICY.hourly_days:  # days 1-310: daily roll-ups at day 400
        return DayPlan(43200, None)
    if day <= DAYS - POLICY.raw_days:  # days 311-392: hourly roll-ups at day 400
        return DayPlan(3600, None)
    if day == DAYS - POLICY.raw_days + 1:  # day 393: the next prune rolls it up
        return DayPlan(STEP, None)
    return DayPlan(STEP, 1)  # days 394-400: svc-000 only


def day_evaluations(fleet: Fleet, day: int) -> Iterator[Evaluation]:
    p = plan(day)
    start = day_start(day)
    for k in range(86400 // p.step):
        yield fleet.evaluation(start + timedelta(seconds=(k + 1) * p.step), p.services)


# -- measuring -------------------------------------------------------------------------------


def table_bytes(engine: Engine) -> dict[str, int]:
    """Bytes each table holds, indexes (and TOAST) included."""
    sizes: dict[str, int] = {}
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.execute(text(
                "SELECT coalesce(m.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                "LEFT JOIN sqlite_master m ON m.name = d.name GROUP BY 1")).all()
        else:
            rows = conn.execute(text(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r'")).all()
    for name, size in rows:
        sizes[str(name)] = sizes.get(str(name), 0) + int(size or 0)
    return sizes


def vacuum(engine: Engine, tables: tuple[str, ...], full: bool) -> None:
    """PostgreSQL: VACUUM (FULL) ANALYZE the tables, so their sizes hold their live rows."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.exec_driver_sql(f"VACUUM {'FULL ' if full else ''}ANALYZE {table}")


@dataclass
class Result:
    backend: str
    size: float = 0.0  # bytes at day 400 (tiers measured + 8 full raw days)
    tiers: float = 0.0  # bytes of every table but the raw ones
    raw_day: float = 0.0  # bytes one full raw day adds
    read: float = 0.0
    read_all: float = 0.0
    raw_reads: dict[int, float] = field(default_factory=dict)  # days -> seconds, raw only
    prune: float = 0.0
    bare_delete: float = 0.0
    rows: dict[str, int] = field(default_factory=dict)
    simulated_prunes: list[float] = field(default_factory=list)
    wall: float = 0.0

    @property
    def baseline_size(self) -> float:
        return self.raw_day * DAYS

    @property
    def rows_read_all(self) -> int:
        """Rows of one SLO in 90 days at day 400: 82 days of hours, 8 days of evaluations."""
        return (POLICY.hourly_days - POLICY.raw_days) * 24 + POLICY.raw_days * 86400 // STEP

    @property
    def baseline_read(self) -> float:
        days = sorted(self.raw_reads)
        slope, intercept = np.polyfit(days, [self.raw_reads[d] for d in days], 1)
        return float(slope * 90 + intercept)


def simulate(url: str, backend: str, repeats: int, services: int) -> Result:
    result = Result(backend)
    fleet = Fleet(services)
    began = time.perf_counter()
    full_day = DAYS - POLICY.raw_days + 1
    with Store(url, upgrade=True) as store:
        for day in range(1, DAYS + 1):
            if day == full_day:
                vacuum(store.engine, RAW, full=True)
                before = table_bytes(store.engine)
            for batch in _chunks(day_evaluations(fleet, day), 60):
                store.evaluations.save_many(batch, batch_size=60)
            if day == full_day:
                vacuum(store.engine, RAW, full=False)
                after = table_bytes(store.engine)
                result.raw_day = sum(after.get(t, 0) - before.get(t, 0) for t in RAW)
            now = day_start(day + 1)  # serve's daily prune at the end of the day
            report = store.retention.prune(now, POLICY)
            assert report.finished
            result.simulated_prunes.append(report.seconds)
            if day % 20 == 0 or day >= full_day:
                print(f"  {backend}: day {day}/{DAYS}, {time.perf_counter() - began:.0f} s",
                      file=sys.stderr, flush=True)
        vacuum(store.engine, tuple(t for t in table_bytes(store.engine) if t not in RAW), False)
        sizes = table_bytes(store.engine)
        result.tiers = sum(v for t, v in sizes.items() if t not in RAW)
        result.size = result.tiers + POLICY.raw_days * result.raw_day
        with store.engine.connect() as conn:
            for table in ("slo_rollups", "signal_rollups", "evaluations", "slo_results",
                          "alert_transitions", "alert_states"):
                result.rows[table] = int(conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
        measure_reads(store, result, repeats)
        measure_prune(store, result)
    result.wall = time.perf_counter() - began
    return result


def _chunks(items: Iterator[Evaluation], size: int) -> Iterator[list[Evaluation]]:
    while chunk := [ev for _, ev in zip(range(size), items, strict=False)]:
        yield chunk


def measure_reads(store: Store, result: Result, repeats: int) -> None:
    """Medians of ``repeats`` round-robin runs (after one warm-up each), so noise from other work
    on the machine spreads over every read alike."""
    end = day_start(DAYS + 1)
    history = store.evaluations.slo_history
    since = end - timedelta(days=90)
    tiers = history(READ_ID, since, end)["tier"].value_counts().to_dict()
    assert set(tiers) == {"hourly", "raw"}, tiers
    reads: dict[object, Callable[[], object]] = {
        "tiers": partial(history, READ_ID, since, end),
        "all": partial(history, READ_ID, since, end, max_points=None),
    }
    for days in (1, 2, 4, 8):  # the raw tier alone: what every read cost without tiers
        start = end - timedelta(days=days)
        assert set(history(READ_ID, start, end)["tier"]) == {"raw"}
        reads[days] = partial(history, READ_ID, start, end)
    times: dict[object, list[float]] = {label: [] for label in reads}
    for fn in reads.values():
        fn()
    for _ in range(repeats):
        for label, fn in reads.items():
            began = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - began)
    medians = {label: statistics.median(t) for label, t in times.items()}
    result.read, result.read_all = medians.pop("tiers"), medians.pop("all")
    result.raw_reads = {int(days): value for days, value in medians.items()}  # type: ignore[call-overload]


def measure_prune(store: Store, result: Result) -> None:
    """The prune of day 401 (rolls up day 393, the full one); first the bare delete of the same
    raw rows, rolled back."""
    day = DAYS - POLICY.raw_days + 1
    start, end = day_start(day), day_start(day + 1)
    ids = evaluations.c.at >= start
    with store.engine.connect() as conn:
        trans = conn.begin()
        began = time.perf_counter()
        old = evaluations.select().with_only_columns(evaluations.c.id).where(
            ids, evaluations.c.at < end).scalar_subquery()
        conn.execute(delete(slo_results).where(slo_results.c.evaluation_id.in_(old)))
        conn.execute(delete(signal_results).where(signal_results.c.evaluation_id.in_(old)))
        conn.execute(delete(evaluations).where(ids, evaluations.c.at < end))
        result.bare_delete = time.perf_counter() - began
        trans.rollback()
    report = store.retention.prune(day_start(DAYS + 2), POLICY)
    assert report.finished and report.deleted[("raw", "evaluations")] == 86400 // STEP
    result.prune = report.seconds


# -- backends and report ---------------------------------------------------------------------


def run_sqlite(repeats: int, services: int) -> Result:
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "store_growth.db"
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    try:
        return simulate(f"sqlite:///{path}", "sqlite", repeats, services)
    finally:
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)


def run_postgresql(repeats: int, services: int) -> Result:
    from sloctl.demo.postgres_server import postgres_cluster, skip_reason

    reason = skip_reason()
    if reason is not None:
        raise SystemExit(f"PostgreSQL: {reason}")
    with ExitStack() as stack:
        cluster = stack.enter_context(postgres_cluster())
        return simulate(cluster.create_database("growth"), "postgresql", repeats, services)


def report(results: list[Result], services: int) -> None:
    print(f"\n{services} services x 2 SLOs every {STEP} s, {DAYS} days, retention raw "
          f"{POLICY.raw_days} d / hourly {POLICY.hourly_days} d / daily {POLICY.daily_days} d")
    print(f"| {'backend':<10} | {'measurement':<44} | {'value':>10} | {'baseline':>10} | "
          f"{'ratio':>6} | {'target':>8} |")
    print(f"|{'-' * 12}|{'-' * 46}|{'-' * 11}:|{'-' * 11}:|{'-' * 7}:|{'-' * 9}:|")
    for r in results:
        rows = [
            ("store size at day 400 (GB)", r.size / 1e9, r.baseline_size / 1e9,
             TARGET_BYTES / 1e9),
            ("read 90 d of one SLO, 500 points (s)", r.read, r.baseline_read, TARGET_READ),
            ("prune one day (s)", r.prune, r.bare_delete, TARGET_PRUNE),
        ]
        for label, value, base, target in rows:
            verdict = "PASS" if value <= target else "FAIL"
            print(f"| {r.backend:<10} | {label:<44} | {value:10.3f} | {base:10.3f} | "
                  f"{value / base:6.3f} | {verdict} {target:g} |")
    for r in results:
        print(f"\n{r.backend}: tiers and other tables {r.tiers / 1e6:,.0f} MB + "
              f"{POLICY.raw_days} x {r.raw_day / 1e6:,.0f} MB per full raw day; baseline "
              f"(no pruning) = {DAYS} x that day")
        reads = ", ".join(f"{d} d {s * 1000:.1f} ms" for d, s in sorted(r.raw_reads.items()))
        print(f"  raw-only reads, 500 points: {reads}; extrapolated to 90 d "
              f"{r.baseline_read * 1000:.1f} ms (least squares)")
        print(f"  90 d read, every point ({r.rows_read_all} rows): {r.read_all * 1000:.1f} ms")
        print(f"  prune of day 401: {r.prune:.2f} s; bare delete of its raw rows (no roll-up, "
              f"rolled back): {r.bare_delete:.2f} s")
        simulated = sorted(r.simulated_prunes)
        print(f"  daily prunes while simulating (sampled days): median "
              f"{statistics.median(simulated):.2f} s, max {simulated[-1]:.2f} s")
        print(f"  rows at day 400: {r.rows}; run {r.wall:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--services", type=int, default=SERVICES, help="a quick check: fewer")
    args = parser.parse_args()
    runs = {"sqlite": run_sqlite, "postgresql": run_postgresql}
    results = []
    for name in args.backends.split(","):
        print(f"{name}: simulating {DAYS} days ...", file=sys.stderr, flush=True)
        results.append(runs[name](args.repeats, args.services))
    report(results, args.services)
    assert all(math.isfinite(r.size) for r in results)


if __name__ == "__main__":
    main()
