"""The store's evaluations and alert states on SQLite and PostgreSQL, with hand-made evaluations.

Every test taking ``url`` runs twice: a SQLite file in tmp_path and a new PostgreSQL database.
"""

from __future__ import annotations

import dataclasses
import math
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import msgspec
import pytest
from sqlalchemy import create_engine, func, select, text

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.burn import BurnRateDecision, BurnRateRule, Severity
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.core.slo import SLOStatus, evaluate_slo
from sloctl.core.windows import ALERT_WINDOWS, DataState, WindowCounts, WindowResult
from sloctl.errors import StoreError
from sloctl.store import Store, codec
from sloctl.store.schema import metadata
from tests.support.evaluations import (
    PERIOD,
    T0,
    alert,
    evaluation,
    signals,
    slo,
    unknown_slo,
)
from tests.support.store_backends import postgres, store_url  # noqa: F401 (fixtures)

DOWN = "prometheus: connection refused at 127.0.0.1:9090"
MINUTE = timedelta(minutes=1)


@pytest.fixture
def url(store_url: str) -> str:  # noqa: F811 (the fixture)
    return store_url


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    with Store(url, upgrade=True) as s:
        yield s


def full_evaluation(at: datetime) -> Evaluation:
    """Every kind of value: known and unknown SLOs and signals, alerts, problems."""
    return evaluation(
        at,
        [
            slo("checkout", "availability", at, bad=400.0),
            unknown_slo("search", "latency", at, DOWN),
        ],
        [
            *signals(
                "checkout",
                {
                    Signal.TRAFFIC: 12.5,
                    Signal.ERROR_RATIO: 0.0004,
                    Signal.LATENCY_P50: 0.08,
                    Signal.LATENCY_P95: 0.21,
                    Signal.LATENCY_P99: 0.43,
                    Signal.SATURATION: 0.7,
                },
            ),
            *signals("search", {Signal.TRAFFIC: None, Signal.LATENCY_P99: None}, DOWN),
        ],
        [
            alert("burn_rate:page/checkout/availability", AlertState.FIRING, at, since=at - MINUTE),
            alert("error_ratio/search", AlertState.INACTIVE, at, value=None, reason=DOWN),
        ],
        problems=(DOWN,),
    )


def row_counts(url: str) -> dict[str, int]:
    """Rows per table of the store's schema."""
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = {
            t.name: conn.scalar(select(func.count()).select_from(t)) or 0
            for t in metadata.sorted_tables
        }
    engine.dispose()
    return counts


def test_full_evaluation_round_trips(store: Store) -> None:
    ev = full_evaluation(T0)
    ev_id = store.save_evaluation(ev)
    back = store.evaluations.latest()
    assert ev_id == 1
    assert back == ev
    assert back is not None and not back.complete
    unknown = back.slos[1]
    assert (unknown.sli, unknown.budget_remaining, unknown.reason) == (None, None, DOWN)
    assert unknown.decisions[0].firing is None and unknown.decisions[0].reason == DOWN
    assert back.signals[-1].value is None and back.signals[-1].reason == DOWN
    times = [back.at, back.started_at, back.slos[0].at, back.slos[0].exhaustion_at]
    times += [back.alerts[0].active_since, back.alerts[0].updated_at]
    assert all(t is not None and t.utcoffset() == timedelta(0) for t in times)


def test_other_timezones_come_back_as_the_same_instant_in_utc(store: Store) -> None:
    at = datetime(2025, 3, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    store.save_evaluation(evaluation(at, [slo("checkout", "availability", at)]))
    back = store.evaluations.latest()
    assert back is not None
    assert back.at == datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    assert back.at.tzinfo is UTC


def test_naive_datetime_is_refused_and_nothing_is_written(store: Store, url: str) -> None:
    naive = datetime(2025, 3, 1, 12, 0)
    with pytest.raises(StoreError, match="naive datetime"):
        store.save_evaluation(evaluation(naive, []))
    assert set(row_counts(url).values()) == {0}


def test_non_finite_burn_rates_survive_json(store: Store) -> None:
    status = slo("checkout", "availability", T0)
    windows = (dataclasses.replace(status.windows[0], burn_rate=math.inf), *status.windows[1:])
    ev = evaluation(T0, [dataclasses.replace(status, windows=windows)])
    store.save_evaluation(ev)
    back = store.evaluations.latest()
    assert back is not None and back.slos[0].windows[0].burn_rate == math.inf


@pytest.mark.parametrize(
    ("interpolated", "reason"),
    [
        pytest.param(False, None, id="plain"),
        pytest.param(True, None, id="interpolated"),
        pytest.param(False, DOWN, id="with-reason"),
        pytest.param(True, "partial data", id="interpolated-with-reason"),
    ],
)
def test_window_encoding_keeps_optional_fields(interpolated: bool, reason: str | None) -> None:
    w = WindowResult(3600, 0.99, 0.01, 2.0, 1000.0, 10.0, 0.5, interpolated, reason)
    doc = codec.encode_window(w)
    assert doc[:7] == [3600, 0.99, 0.01, 2.0, 1000.0, 10.0, 0.5]
    assert codec.decode_window(doc) == w


def test_evaluation_at_returns_the_latest_at_or_before(store: Store) -> None:
    for i in range(3):
        store.save_evaluation(evaluation(T0 + i * MINUTE, [slo("checkout", "availability", T0)]))
    assert store.evaluations.at(T0 - MINUTE) is None
    found = store.evaluations.at(T0 + 90 * timedelta(seconds=1))
    assert found is not None and found.at == T0 + MINUTE
    latest = store.evaluations.latest()
    assert latest is not None and latest.at == T0 + 2 * MINUTE


def test_empty_store_reads_nothing(store: Store) -> None:
    assert store.evaluations.latest() is None
    assert store.alert_states() == {}
    assert store.alerts.transitions() == []
    assert (store.evaluations.slo_ids(), store.evaluations.services()) == ([], [])
    frame = store.evaluations.slo_history("checkout/availability", T0)
    assert frame.empty and list(frame.columns)[:3] == ["at", "sli", "budget_remaining"]


def test_catalogs_list_slos_and_services(store: Store) -> None:
    store.save_evaluation(full_evaluation(T0))
    assert store.evaluations.slo_ids() == ["checkout/availability", "search/latency"]
    assert store.evaluations.services() == ["checkout", "search"]


PAGE, TICKET = "burn_rate:page/checkout/availability", "burn_rate:ticket/checkout/availability"


def test_alert_states_upsert_and_transitions_are_recorded(store: Store, url: str) -> None:
    steps = [
        {PAGE: AlertState.PENDING, TICKET: AlertState.INACTIVE},
        {PAGE: AlertState.FIRING, TICKET: AlertState.INACTIVE},
        {PAGE: AlertState.FIRING, TICKET: AlertState.PENDING},
        {PAGE: AlertState.RESOLVED, TICKET: AlertState.PENDING},
    ]
    for i, states in enumerate(steps):
        at = T0 + i * MINUTE
        alerts = [alert(key, state, at, since=T0) for key, state in states.items()]
        store.save_evaluation(evaluation(at, [], alerts=alerts))

    current = store.alert_states()
    assert {k: (a.state, a.updated_at) for k, a in current.items()} == {
        PAGE: (AlertState.RESOLVED, T0 + 3 * MINUTE),
        TICKET: (AlertState.PENDING, T0 + 3 * MINUTE),
    }
    assert current[PAGE].fired_at is None and current[PAGE].resolved_at == T0 + 3 * MINUTE
    assert current[PAGE].labels == {"team": "payments"}

    expected = [
        (PAGE, AlertState.PENDING, T0),
        (PAGE, AlertState.FIRING, T0 + MINUTE),
        (TICKET, AlertState.PENDING, T0 + 2 * MINUTE),
        (PAGE, AlertState.RESOLVED, T0 + 3 * MINUTE),
    ]
    assert [(a.key, a.state, a.updated_at) for a in store.alerts.transitions()] == expected
    since = store.alerts.transitions(since=T0 + 2 * MINUTE)
    assert [(a.key, a.state) for a in since] == [(TICKET, AlertState.PENDING), (PAGE, "resolved")]
    assert row_counts(url)["alert_states"] == 2

    store.close()  # a restart finds the same states
    with Store(url) as reopened:
        assert reopened.alert_states() == current


def test_transitions_inside_one_bulk_batch_are_all_recorded(store: Store) -> None:
    evs = [
        evaluation(T0 + i * MINUTE, [], alerts=[alert(PAGE, state, T0 + i * MINUTE)])
        for i, state in enumerate([AlertState.PENDING, AlertState.FIRING, AlertState.RESOLVED])
    ]
    assert store.evaluations.save_many(evs, batch_size=2) == [1, 2, 3]
    assert [a.state for a in store.alerts.transitions()] == ["pending", "firing", "resolved"]
    assert store.alert_states()[PAGE].state is AlertState.RESOLVED


def test_a_backfilled_older_evaluation_does_not_rewind_alert_states(store: Store) -> None:
    store.save_evaluation(evaluation(T0, [], alerts=[alert(PAGE, AlertState.FIRING, T0)]))
    old = T0 - 10 * MINUTE
    store.save_evaluation(evaluation(old, [], alerts=[alert(PAGE, AlertState.INACTIVE, old)]))
    assert store.alert_states()[PAGE].state is AlertState.FIRING
    assert [a.state for a in store.alerts.transitions()] == ["firing"]
    latest = store.evaluations.latest()
    assert latest is not None and latest.at == T0  # latest by time, not by insertion


def hundred_minutes(store: Store) -> None:
    """100 evaluations, one a minute from T0; point i has budget_remaining i/100 and
    traffic i; point 50 has an unknown SLO and unknown traffic."""
    evs = []
    for i in range(100):
        at = T0 + i * MINUTE
        status = slo("checkout", "availability", at)
        status = dataclasses.replace(status, budget_remaining=i / 100)
        traffic: float | None = float(i)
        if i == 50:
            status, traffic = unknown_slo("checkout", "availability", at, DOWN), None
        sig = signals("checkout", {Signal.TRAFFIC: traffic, Signal.ERROR_RATIO: 0.01}, DOWN)
        evs.append(evaluation(at, [status], sig))
    store.evaluations.save_many(evs)


# (max_points, until offset in seconds or None, expected point indexes)
DOWNSAMPLING = [
    pytest.param(10, 5999, list(range(9, 100, 10)), id="10-buckets-of-10-keep-the-last"),
    pytest.param(1, 5999, [99], id="one-bucket-keeps-the-latest"),
    pytest.param(10, None, list(range(9, 100, 10)), id="until-defaults-to-the-last-row"),
    pytest.param(500, 5999, list(range(100)), id="more-points-than-rows-returns-all"),
    pytest.param(None, None, list(range(100)), id="no-downsampling"),
    pytest.param(7, 20 * 60 - 1, [2, 5, 8, 11, 14, 17, 19], id="partial-range-7-points"),
]


@pytest.mark.parametrize(("max_points", "until_s", "indexes"), DOWNSAMPLING)
def test_slo_history_downsamples_to_the_last_point_per_bucket(
    store: Store, max_points: int | None, until_s: int | None, indexes: list[int]
) -> None:
    hundred_minutes(store)
    until = None if until_s is None else T0 + timedelta(seconds=until_s)
    frame = store.evaluations.slo_history("checkout/availability", T0, until, max_points=max_points)
    assert max_points is None or len(frame) <= max_points
    assert list(frame["at"]) == [T0 + i * MINUTE for i in indexes]
    expected = [math.nan if i == 50 else i / 100 for i in indexes]
    assert frame["budget_remaining"].tolist() == pytest.approx(expected, nan_ok=True)
    assert str(frame["at"].dt.tz) == "UTC"


def test_slo_history_columns_hold_the_window_burn_rates(store: Store) -> None:
    store.save_evaluation(evaluation(T0, [slo("checkout", "availability", T0, bad=500.0)]))
    row = store.evaluations.slo_history("checkout/availability", T0).iloc[0]
    # 500 bad of 1e6 against a 0.1 % budget: burn rate 0.5 on every window, half the budget left
    assert row["burn_rate_1h"] == pytest.approx(0.5)
    assert row["burn_rate_3d"] == pytest.approx(0.5)
    assert row["burn_rate_period"] == pytest.approx(0.5)
    assert row["budget_remaining"] == pytest.approx(0.5)
    assert row["budget_remaining_minutes"] == pytest.approx(0.001 * 30 * 1440 * 0.5)
    assert row["sli"] == pytest.approx(0.9995)


def test_signal_history_has_one_column_per_signal(store: Store) -> None:
    hundred_minutes(store)
    until = T0 + timedelta(seconds=5999)
    frame = store.evaluations.signal_history("checkout", T0, until, max_points=10)
    names = [s.value for s in Signal]
    assert list(frame.columns) == ["at", *names, *(f"{n}_min" for n in names),
                                   *(f"{n}_max" for n in names), "tier"]
    assert frame["traffic"].tolist() == [float(i) for i in range(9, 100, 10)]  # the last ...
    # ... the least (NaN at minute 50 is unknown, not a value) ...
    assert frame["traffic_min"].tolist() == [0.0, 10.0, 20.0, 30.0, 40.0, 51.0, 60.0, 70.0,
                                             80.0, 90.0]
    assert frame["traffic_max"].tolist() == frame["traffic"].tolist()  # ... and greatest
    assert set(frame["tier"]) == {"raw"}
    assert frame["error_ratio"].tolist() == [0.01] * 10
    assert frame["latency_p99"].isna().all()  # never measured: NaN, not 0
    full = store.evaluations.signal_history("checkout", T0, max_points=None)
    assert len(full) == 100 and math.isnan(full["traffic"][50])


def test_signal_history_of_another_service_is_empty(store: Store) -> None:
    hundred_minutes(store)
    assert store.evaluations.signal_history("search", T0).empty


def test_a_failing_save_leaves_nothing_behind(
    store: Store, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save_evaluation(full_evaluation(T0))
    before = row_counts(url)
    states_before = store.alert_states()

    def explode(*_args: object) -> None:
        raise RuntimeError("simulated crash after the SLO and signal rows were inserted")

    monkeypatch.setattr(codec, "alert_row", explode)
    with pytest.raises(RuntimeError, match="simulated crash"):
        store.save_evaluation(full_evaluation(T0 + MINUTE))
    assert row_counts(url) == before
    assert store.alert_states() == states_before
    latest = store.evaluations.latest()
    assert latest is not None and latest.at == T0


def test_sqlite_runs_in_wal_mode_with_synchronous_normal(tmp_path: Path) -> None:
    path = str(tmp_path / "sloctl.db")
    store = Store(f"sqlite:///{path}")
    store.save_evaluation(full_evaluation(T0))
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 30_000
    store.close()


def test_missing_sqlite_folders_are_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "sloctl.db"
    with Store(f"sqlite:///{path}") as s:
        s.save_evaluation(full_evaluation(T0))
    assert path.is_file()


def test_windows_without_the_slo_window_store_no_period_burn_rate(store: Store) -> None:
    status = slo("checkout", "availability", T0)
    alert_only = tuple(w for w in status.windows if w.window != status.period)
    ev = evaluation(T0, [dataclasses.replace(status, windows=alert_only)])
    store.save_evaluation(ev)
    row = store.evaluations.slo_history("checkout/availability", T0).iloc[0]
    assert math.isnan(row["burn_rate_period"]) and row["burn_rate_3d"] == pytest.approx(0.5)
    back = store.evaluations.latest()
    assert back is not None and back.slos[0].windows == alert_only
    assert isinstance(back.slos[0].windows[0], WindowResult)


# -- compact rows (revision 0009): exact, and small ---------------------------------------------


def cycle_slo(at: datetime) -> SLOStatus:
    """An SLO status as a cycle computes it (core.slo.evaluate_slo from event counts)."""
    counts = [WindowCounts(w, 0.001 * 40.0 * w * (1 + w % 7), 40.0 * w + 0.25, 1.0)
              for w in (*ALERT_WINDOWS, PERIOD)]
    return evaluate_slo(slo_id="checkout/availability", service="checkout", name="availability",
                        objective=0.999, period=PERIOD, period_elapsed=PERIOD, at=at,
                        counts=counts, slo_window=PERIOD)


def odd_evaluation(at: datetime) -> Evaluation:
    """Values no formula gives back: each is stored as it is (and read back bit for bit)."""
    status = slo("checkout", "availability", at, bad=400.0)
    odd_windows = (
        WindowResult(60, -0.0, math.nan, math.inf, 7.0, -math.inf, None, True, "odd",
                     DataState.NO_DATA),
        WindowResult(3600, 0.5, 0.5, 0.1 + 0.2, 2.0, 1.0, 0.25, False, None,
                     DataState.NO_TRAFFIC),
        WindowResult(PERIOD + 1, None, None, None, 0.0, 0.0, 1.0, False, "no traffic",
                     DataState.FAILED),
    )
    rule = BurnRateRule(Severity.TICKET, 3600, 60, 2.5)
    odd = dataclasses.replace(
        status, slo_id="checkout/a-b", name="availability v2", period_elapsed=86400 * 3 + 1,
        error_budget=0.0010000000000000009, budget_total_minutes=43.2000001,
        budget_remaining_events=-0.0, windows=odd_windows,
        decisions=(BurnRateDecision(rule, 1e308, None, None, "held"),
                   *status.decisions[:2]),
        exhaustion_at=at + timedelta(days=3, microseconds=7), breaching=None,
        reason="set by hand")
    alerts = (
        AlertStatus("z/late", "z", "search", None, "warning", AlertState.RESOLVED, math.nan,
                    -1.5, at - timedelta(hours=2, microseconds=1), at - timedelta(hours=1),
                    at, at - timedelta(seconds=30), "why not", {"b": "2", "a": "1"}),
        alert("burn_rate:page/checkout/availability", AlertState.FIRING, at,
              since=at - MINUTE),
        alert("error_ratio/search", AlertState.INACTIVE, at, value=None, reason=DOWN),
    )
    return evaluation(
        at, [odd, cycle_slo(at), unknown_slo("search", "latency", at, DOWN)],
        [*signals("search", {Signal.SATURATION: 0.5, Signal.TRAFFIC: -1.5}),
         *signals("checkout", {s: float(i) for i, s in enumerate(Signal)})],
        alerts, problems=(DOWN,))


def test_compact_rows_read_back_bit_for_bit(store: Store) -> None:
    ev = odd_evaluation(T0)
    store.save_evaluation(ev)
    store.save_evaluation(full_evaluation(T0 + MINUTE))
    back = store.evaluations.at(T0)
    assert repr(back) == repr(ev)  # repr tells -0.0 from 0.0 and shows nan, inf, every field
    assert back is not None and back.slos[0].windows[0].state is DataState.NO_DATA
    before = store.alerts.states_before(T0 + MINUTE)
    assert repr(list(before.values())) == repr(list(ev.alerts))


def test_a_cycles_slo_row_stores_counts_not_ratios(store: Store, url: str) -> None:
    status = cycle_slo(T0)
    detail = codec.encode_detail(status)
    flags, period, breaching, windows, decisions, *optional = msgspec.msgpack.decode(detail)
    assert (flags, period, breaching, windows[0]) == (32, PERIOD, True, PERIOD)
    assert status.exhaustion_at is not None  # its only optional field: microseconds from at
    assert optional == [(status.exhaustion_at - T0) // timedelta(microseconds=1)]
    assert [w[0] for w in windows[1:]] == [0] * 8  # sli, error ratio, burn rate: from counts
    assert [len(w) for w in windows[1:]] == [4] * 8  # flags, total, bad, coverage
    # the frozen rules of a 30-day SLO, burn rates of its windows; the ticket rules fire
    assert decisions == [[4], [4], [8], [8]]
    assert len(detail) == 143
    ev = evaluation(T0, [status])
    store.save_evaluation(ev)
    assert store.evaluations.latest() == ev


def test_alerts_share_their_identity_across_evaluations(store: Store, url: str) -> None:
    for minute in range(3):
        store.save_evaluation(full_evaluation(T0 + minute * MINUTE))
    assert row_counts(url)["alert_identities"] == 2
    latest = store.evaluations.latest()
    assert latest is not None and latest == full_evaluation(T0 + 2 * MINUTE)
