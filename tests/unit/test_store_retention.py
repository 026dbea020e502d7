"""Retention on SQLite and PostgreSQL: a prune keeps every evaluation for raw_days, hourly then
daily roll-ups with the known least, greatest and last values after, and nothing beyond; the
history reads all three tiers as one; what is never pruned stays as it was."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import create_engine, select

from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.store import Store
from sloctl.store.retention import RetentionPolicy
from sloctl.store.schema import HOUR, metadata
from tests.support.evaluations import evaluation, signals, slo, unknown_slo
from tests.support.store_backends import postgres, store_url  # noqa: F401 (fixtures)
from tests.unit.test_store_parts import fill

START = datetime(2025, 3, 8, tzinfo=UTC)
STEP = timedelta(minutes=20)
NOW = datetime(2025, 3, 20, 12, 30, tzinfo=UTC)
POLICY = RetentionPolicy(raw_days=2, hourly_days=5, daily_days=10)
RAW_CUT = datetime(2025, 3, 18, 12, tzinfo=UTC)  # NOW - 2 d, to the hour
HOURLY_CUT = datetime(2025, 3, 15, tzinfo=UTC)  # NOW - 5 d, to the UTC day
DAILY_CUT = datetime(2025, 3, 10, tzinfo=UTC)  # NOW - 10 d, to the UTC day
SLO_ID = "checkout/availability"
PRUNED = {"evaluations", "slo_results", "signal_results", "trace_checks", "trace_exemplars",
          "span_disagreements", "slo_rollups", "signal_rollups"}


def at(k: int) -> datetime:
    return START + k * STEP


def unknown(k: int) -> bool:
    return k % 50 == 7  # the backend was down: SLO and traffic unknown


def budget(k: int) -> float:
    """budget_remaining of evaluation k: (k % 7) x 100 bad of 1e6 on a 0.1 % budget."""
    return 1 - (k % 7) / 10


def traffic(k: int) -> float:
    return float(k)


def known_evaluation(k: int) -> Evaluation:
    when = at(k)
    if unknown(k):
        status = unknown_slo("checkout", "availability", when, "prometheus down")
    else:
        status = slo("checkout", "availability", when, bad=(k % 7) * 100.0)
    value = None if unknown(k) else traffic(k)
    return evaluation(when, [status], signals("checkout", {Signal.TRAFFIC: value,
                                                           Signal.ERROR_RATIO: 0.01}))


LAST = int((NOW - START) / STEP)  # the last evaluation, at or before NOW


@dataclass(frozen=True)
class Point:
    tier: str
    at: datetime
    last: float | None
    low: float | None
    high: float | None


def summary(tier: str, ks: list[int], value: object) -> Point:
    """The expected roll-up of evaluations ``ks``: last, least, greatest known value."""
    values = [None if unknown(k) else value(k) for k in ks]  # type: ignore[operator]
    known = [v for v in values if v is not None]
    return Point(tier, at(ks[-1]), values[-1], min(known, default=None),
                 max(known, default=None))


def expected(value: object) -> list[Point]:
    """Every point of the history after the prune at NOW, oldest first."""
    points: list[Point] = []
    groups: dict[tuple[str, datetime], list[int]] = {}
    for k in range(LAST + 1):
        when = at(k)
        if when < DAILY_CUT:
            continue
        if when < HOURLY_CUT:
            key = ("daily", when.replace(hour=0, minute=0))
        elif when < RAW_CUT:
            key = ("hourly", when.replace(minute=0))
        else:
            key = ("raw", when)
        groups.setdefault(key, []).append(k)
    for (tier, _), ks in groups.items():
        points.append(summary(tier, ks, value))
    return points


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:  # noqa: F811
    with Store(store_url, upgrade=True) as s:
        s.evaluations.save_many(known_evaluation(k) for k in range(LAST + 1))
        yield s


def points(frame: object, column: str) -> list[Point]:
    rows = frame.to_dict("records")  # type: ignore[attr-defined]

    def num(x: float) -> float | None:
        return None if math.isnan(x) else x

    return [Point(r["tier"], r["at"].to_pydatetime(), num(r[column]), num(r[f"{column}_min"]),
                  num(r[f"{column}_max"])) for r in rows]


def assert_points(found: list[Point], wanted: list[Point]) -> None:
    assert [(p.tier, p.at) for p in found] == [(p.tier, p.at) for p in wanted]
    for f, w in zip(found, wanted, strict=True):
        for name in ("last", "low", "high"):
            a, b = getattr(f, name), getattr(w, name)
            assert (a is None and b is None) or a == pytest.approx(b), (f, w)


def test_the_policy_cuts_whole_hours_then_whole_utc_days() -> None:
    cut = POLICY.cutoffs(NOW)
    assert (cut.raw, cut.hourly, cut.daily) == (RAW_CUT, HOURLY_CUT, DAILY_CUT)
    assert RetentionPolicy() == RetentionPolicy(raw_days=8, hourly_days=90, daily_days=400)
    for bad in ((0, 5, 10), (6, 5, 10), (2, 11, 10)):
        with pytest.raises(ValueError, match="at least as long"):
            RetentionPolicy(*bad)


def test_a_prune_leaves_three_tiers_of_known_values(store: Store) -> None:
    report = store.retention.prune(NOW, POLICY)
    assert report.finished
    frame = store.evaluations.slo_history(SLO_ID, START, max_points=None)
    wanted = expected(budget)
    assert_points(points(frame, "budget_remaining"), wanted)
    tiers = [p.tier for p in wanted]
    assert (tiers.count("daily"), tiers.count("hourly"), tiers.count("raw")) == (5, 84, 146)
    signal = store.evaluations.signal_history("checkout", START, max_points=None)
    assert_points(points(signal, "traffic"), expected(traffic))
    assert signal["error_ratio_max"].tolist() == pytest.approx([0.01] * len(signal))
    # raw evaluations are whole below the raw cut-off: the oldest is the first kept
    oldest = store.evaluations.at(RAW_CUT)
    assert oldest is not None and oldest.at == RAW_CUT
    assert store.evaluations.at(RAW_CUT - timedelta(seconds=1)) is None
    # a roll-up keeps the SLO's objective and service with its values
    with store.engine.connect() as conn:
        rows = conn.execute(select(metadata.tables["slo_rollups"])).mappings().all()
    objective = {p.at: 0.99 if unknown(int((p.at - START) / STEP)) else 0.999 for p in wanted}
    assert sorted((r["at"], r["service"], r["objective"]) for r in rows) == [
        (p.at, "checkout", objective[p.at]) for p in wanted if p.tier != "raw"]


def test_the_history_downsamples_across_tiers_to_at_most_max_points(store: Store) -> None:
    store.retention.prune(NOW, POLICY)
    full = points(store.evaluations.signal_history("checkout", START, max_points=None), "traffic")
    frame = store.evaluations.signal_history("checkout", START, NOW, max_points=20)
    found = points(frame, "traffic")
    assert len(found) <= 20 and [p.at for p in found] == sorted(p.at for p in found)
    assert (found[-1].at, found[-1].last) == (full[-1].at, full[-1].last)  # the latest value
    # each point: its bucket's last value, least and greatest over every tier inside it
    width = ((NOW - START).total_seconds() // 20) + 1
    for point in found:
        bucket = (point.at - START).total_seconds() // width
        inside = [p for p in full if (p.at - START).total_seconds() // width == bucket]
        assert point.at == inside[-1].at and point.last == inside[-1].last
        assert point.low == min(p.low for p in inside if p.low is not None)
        assert point.high == max(p.high for p in inside if p.high is not None)
    assert {p.tier for p in found} == {"daily", "hourly", "raw"}


def table_rows(url: str, skip: set[str]) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = {t.name: sorted(map(tuple, conn.execute(select(t))), key=repr)
                for t in metadata.sorted_tables if t.name not in skip}
    engine.dispose()
    return rows


def test_what_is_never_pruned_stays_as_it_was(store: Store) -> None:
    fill(store)  # alerts, transitions, incidents, deployments, links, scorecards, trace findings
    transitions = store.alerts.transitions()
    kept = table_rows(store.url, PRUNED | {"alert_transitions"})
    report = store.retention.prune(NOW, POLICY)
    assert table_rows(store.url, PRUNED | {"alert_transitions"}) == kept
    assert store.alerts.transitions() == transitions  # their evaluations are gone ...
    with store.engine.connect() as conn:
        links = conn.execute(select(metadata.tables["alert_transitions"].c.evaluation_id)).all()
    assert links == [(None,), (None,)]  # ... so they no longer point at them
    assert report.deleted[("raw", "trace_checks")] == 1  # trace findings go with their hour
    assert store.traces.latest() is None


def test_a_second_prune_changes_nothing_and_a_late_evaluation_is_folded_in(store: Store) -> None:
    store.retention.prune(NOW, POLICY)
    before = table_rows(store.url, set())
    again = store.retention.prune(NOW, POLICY)
    assert again.deleted == {} and table_rows(store.url, set()) == before
    # an evaluation stored late into an hour already rolled up: hidden until the next prune ...
    hour = datetime(2025, 3, 16, 9, tzinfo=UTC)
    late = evaluation(hour + timedelta(minutes=30),
                      [slo("checkout", "availability", hour, bad=0.0)],
                      signals("checkout", {Signal.TRAFFIC: 1e6}))
    store.save_evaluation(late)

    def in_hour() -> pd.DataFrame:
        f = store.evaluations.signal_history("checkout", START, max_points=None)
        return f[(f["at"] >= hour) & (f["at"] < hour + timedelta(hours=1))]

    frame = in_hour()
    assert frame["traffic_max"].tolist() == [traffic(int((hour - START) / STEP) + 2)]
    # ... then merged: the greatest traffic is the late one; the last value is still the last
    store.retention.prune(NOW, POLICY)
    frame = in_hour()
    assert frame["traffic_max"].tolist() == [1e6]
    assert frame["tier"].tolist() == ["hourly"]
    assert frame["at"].tolist() == [hour + timedelta(minutes=40)]


def test_a_budget_stops_between_transactions_and_the_next_prune_goes_on(store: Store) -> None:
    first = store.retention.prune(NOW, POLICY, budget=0.0)
    assert not first.finished and first.deleted == {}
    while not (report := store.retention.prune(NOW, POLICY, budget=0.05)).finished:
        assert report.seconds < 5
    frame = store.evaluations.slo_history(SLO_ID, START, max_points=None)
    assert_points(points(frame, "budget_remaining"), expected(budget))


def test_the_plan_counts_what_the_prune_deletes(store: Store) -> None:
    plan = store.retention.plan(NOW, POLICY)
    raw = int((RAW_CUT - START) / STEP)
    assert plan.deleted == {("raw", "evaluations"): raw, ("raw", "slo_results"): raw,
                            ("raw", "signal_results"): raw}
    hours = int((RAW_CUT - START).total_seconds() // HOUR)
    assert plan.rolled_up == {("hourly", "slo_rollups"): hours,
                              ("hourly", "signal_rollups"): hours}
    report = store.retention.prune(NOW, POLICY)
    assert {k: v for k, v in report.deleted.items() if k[0] == "raw"} == plan.deleted
    if store.engine.dialect.name == "postgresql":
        assert set(plan.bytes) == set(plan.deleted) and min(plan.bytes.values()) > 0
