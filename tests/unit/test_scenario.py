"""The synthetic shop: counters are exact functions of time and the ground truth is right."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from sloctl.demo.scenario import (
    CODES,
    CPU_COUNTER,
    HISTOGRAM,
    LE_LABELS,
    Incident,
    Lognormal,
    Sampling,
    Scenario,
    SeriesKey,
    ServiceProfile,
    bucket_of,
    shop_scenario,
    synthetic_scenario,
)

END = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MIN = 60.0


@pytest.fixture(scope="module")
def shop() -> Scenario:
    return shop_scenario(END)


def tiny(*incidents: Incident) -> Scenario:
    """One service, flat 10 req/s, 10 % errors, median latency exactly 0.3 s."""
    start = END - timedelta(hours=1)
    svc = ServiceProfile(
        name="tiny",
        rate=10.0,
        diurnal_amplitude=0.0,
        error_ratio=0.1,
        latency=Lognormal(median=0.3, sigma=0.5),
        cpu_rate=0.5,
        incidents=incidents,
    )
    return Scenario(start=start, end=END, services=(svc,))


def key(
    metric: str, code: str | None = None, le: str | None = None, svc: str = "tiny"
) -> SeriesKey:
    return SeriesKey(metric, svc, code, le)


BUCKET, COUNT, SUM = f"{HISTOGRAM}_bucket", f"{HISTOGRAM}_count", f"{HISTOGRAM}_sum"


def test_le_labels_are_written_as_prometheus_does() -> None:
    assert LE_LABELS == (
        "0.005", "0.01", "0.025", "0.05", "0.1", "0.2", "0.3", "0.5", "1", "2.5", "5", "+Inf",
    )  # fmt: skip


def test_series_key_renders_otel_labels() -> None:
    assert key(BUCKET, "500", "0.3", svc="payment").render() == (
        'http_server_request_duration_seconds_bucket{service_name="payment",'
        'http_request_method="GET",http_response_status_code="500",le="0.3"}'
    )
    assert key(CPU_COUNTER, svc="user").render() == 'process_cpu_seconds_total{service_name="user"}'


@pytest.mark.parametrize(
    ("value", "bucket"),
    [(0.12, (0.1, 0.2)), (0.3, (0.2, 0.3)), (0.45, (0.3, 0.5)), (7.0, (5.0, math.inf))],
    ids=["p95-healthy", "on-bound-0.3", "p95-inventory", "above-5s"],
)
def test_bucket_of(value: float, bucket: tuple[float, float]) -> None:
    assert bucket_of(value) == bucket


def test_tiny_counts_by_hand() -> None:
    sc = tiny()
    t = sc.start_s + 60  # 600 requests: 540 ok, 60 errors; half of each <= 0.3 s (the median)
    assert sc.counter(key(COUNT, "200"), t) == 540
    assert sc.counter(key(COUNT, "500"), t) == 60
    assert sc.counter(key(BUCKET, "200", "0.3"), t) == 270
    assert sc.counter(key(BUCKET, "500", "0.3"), t) == 30
    assert sc.counter(key(BUCKET, "200", "+Inf"), t) == 540
    assert sc.counter(key(CPU_COUNTER), t) == 30.0
    mean = 0.3 * math.exp(0.5**2 / 2)
    assert sc.counter(key(SUM, "200"), t) == round(540 * mean, 3)
    assert sc.counter(key(COUNT, "200"), sc.start_s) == 0
    assert sc.counter(key(COUNT, "200"), sc.start_s - 3600) == 0


@pytest.mark.parametrize(
    ("left_open", "total", "bad", "below", "factor"),
    [(False, 3000, 300, 1500, 1.0), (True, 2400, 240, 1200, 300 / 240)],
    ids=["prometheus2-left-closed", "prometheus3-left-open"],
)
def test_tiny_truth_window(
    left_open: bool, total: float, bad: float, below: float, factor: float
) -> None:
    sc = tiny()
    times = np.arange(sc.start_s, sc.end_s + 1, MIN)
    truth = sc.truth_window("tiny", sc.start_s + 600, 300, sample_times=times, left_open=left_open)
    assert (truth.total, truth.bad, truth.good_below(0.3)) == (total, bad, below)
    assert truth.error_ratio == pytest.approx(0.1, rel=1e-12)
    assert truth.latency_ratio(0.3) == pytest.approx(0.5, rel=1e-12)
    assert truth.extrapolation_factor == pytest.approx(factor, rel=1e-12)


def test_truth_window_rejects_a_threshold_that_is_not_a_bucket() -> None:
    sc = tiny()
    truth = sc.truth_window(
        "tiny", sc.end_s, 300, sample_times=np.arange(sc.start_s, sc.end_s + 1, MIN)
    )
    with pytest.raises(ValueError, match="not a bucket bound"):
        truth.good_below(0.4)


def test_tiny_incident_changes_errors_and_latency() -> None:
    inc_start = END - timedelta(minutes=30)
    sc = tiny(
        Incident(inc_start, END - timedelta(minutes=20), error_ratio=0.5, latency_multiplier=2)
    )
    times = np.arange(sc.start_s, sc.end_s + 1, MIN)
    inside = sc.truth_window("tiny", inc_start + timedelta(minutes=10), 600, sample_times=times)
    assert (inside.total, inside.bad) == (6000, 3000)
    assert sc.true_quantile("tiny", 0.5, inc_start + timedelta(minutes=10), 600) == pytest.approx(
        0.6
    )
    # half the window before, half inside: the median of both lognormals' mixture is sqrt(0.3*0.6)
    straddle = sc.true_quantile("tiny", 0.5, inc_start + timedelta(minutes=5), 600)
    assert straddle == pytest.approx(math.sqrt(0.18), rel=1e-9)
    assert sc.expected_error_ratio("tiny", inc_start + timedelta(minutes=5), 600) == pytest.approx(
        0.3
    )


def test_diurnal_day_integrates_to_the_mean_rate(shop: Scenario) -> None:
    t = shop.start_s + 86400
    total = sum(shop.counter(key(COUNT, c, svc="user"), t) for c in CODES)
    assert 50.0 * 86400 - 2 <= total <= 50.0 * 86400


def test_counter_is_a_pure_function_of_time(shop: Scenario) -> None:
    times = Sampling(600, 60, 72).times(shop)
    again = shop_scenario(END)
    for svc in shop.service_names:
        values = shop.values(svc, times)
        for k in shop.series_of(svc)[::7]:
            assert shop.counter(k, float(times[-1])) == values[k][-1]
            assert again.counter(k, float(times[1234])) == values[k][1234]


def test_counters_start_at_zero_and_never_decrease(shop: Scenario) -> None:
    times = Sampling(300, 30, 72).times(shop)
    for svc in shop.service_names:
        for k, v in shop.values(svc, times).items():
            assert v[0] == 0, k
            assert np.all(np.diff(v) >= 0), k


def test_buckets_are_cumulative_and_end_at_count(shop: Scenario) -> None:
    times = Sampling(600, 60, 72).times(shop)
    for svc in shop.service_names:
        values = shop.values(svc, times)
        for code in CODES:
            stack = np.vstack([values[key(BUCKET, code, le, svc)] for le in LE_LABELS])
            assert np.all(np.diff(stack, axis=0) >= 0), (svc, code)
            assert np.array_equal(stack[-1], values[key(COUNT, code, svc=svc)])


ORDER_INCIDENT = END - timedelta(hours=19, minutes=45)


@pytest.mark.parametrize(
    ("at", "errors", "slow"),
    [
        (END, {"payment"}, {"inventory"}),
        (END + timedelta(days=3), {"payment"}, {"inventory"}),
        (ORDER_INCIDENT, {"order", "payment"}, {"inventory"}),
        (END - timedelta(days=1, hours=1), {"payment"}, set()),
        (END - timedelta(days=3), set(), set()),
    ],
    ids=["at-end", "live-after-end", "order-incident", "before-inventory", "healthy-3d-ago"],
)
def test_shop_breaching(shop: Scenario, at: datetime, errors: set[str], slow: set[str]) -> None:
    assert shop.breaching(at) == {"error_ratio": errors, "latency_p95": slow}


def test_synthetic_breaches_every_tenth_service() -> None:
    sc = synthetic_scenario(40, END)
    assert sc.service_names[0] == "svc-0001" and len(sc.service_names) == 40
    assert sc.breaching(END) == {
        "error_ratio": {"svc-0001", "svc-0021"},
        "latency_p95": {"svc-0011", "svc-0031"},
    }


def _five_minute_ratios(shop: Scenario, svc: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every 5m window (one per minute) over the whole history: error and >0.3 s shares."""
    times = np.arange(shop.start_s, shop.end_s + 1, MIN)
    v = shop.values(svc, times)
    total = v[key(COUNT, "200", svc=svc)] + v[key(COUNT, "500", svc=svc)]
    fast = v[key(BUCKET, "200", "0.3", svc)] + v[key(BUCKET, "500", "0.3", svc)]
    d_total = total[5:] - total[:-5]
    err = (v[key(COUNT, "500", svc=svc)][5:] - v[key(COUNT, "500", svc=svc)][:-5]) / d_total
    slow = 1 - (fast[5:] - fast[:-5]) / d_total
    return times[5:], err, slow


# Expected trouble: (service, signal) -> [from, to) of window ends whose whole window is inside.
TROUBLE = {
    ("payment", "errors"): (END - timedelta(days=2), END),
    ("order", "errors"): (END - timedelta(hours=20), END - timedelta(hours=19, minutes=30)),
    ("inventory", "latency"): (END - timedelta(days=1), END),
}


@pytest.mark.parametrize("svc", ["order", "inventory", "payment", "notification", "user"])
def test_every_5m_window_is_clearly_healthy_or_clearly_breaching(shop: Scenario, svc: str) -> None:
    ends, err, slow = _five_minute_ratios(shop, svc)
    for signal, values, limit in (("errors", err, 0.005), ("latency", slow, 0.05)):
        lo, hi = (t.timestamp() for t in TROUBLE.get((svc, signal), (END, END)))
        inside = (ends - 300 >= lo) & (ends <= hi)
        touching = (ends > lo) & (ends - 300 < hi)
        healthy = values[~touching]
        assert healthy.max() < limit / 2, (svc, signal)
        if inside.any():
            assert values[inside].min() > limit * 1.5, (svc, signal)
