"""The backfilled shop history, queried from a real Prometheus, equals the scenario's truth."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import requests

from sloctl.demo.backfill import HistoryStats, backfill
from sloctl.demo.openmetrics import iter_openmetrics
from sloctl.demo.prometheus_server import PrometheusServer, ToolNotInstalled, find_binary
from sloctl.demo.scenario import (
    CPU_COUNTER,
    FloatArray,
    Lognormal,
    Scenario,
    SeriesKey,
    ServiceProfile,
    bucket_of,
)
from sloctl.errors import BackendError, BackendUnreachable

COUNT = "http_server_request_duration_seconds_count"
BUCKET = "http_server_request_duration_seconds_bucket"
WINDOWS = {"5m": 300, "1h": 3600, "1d": 86400, "28d": 28 * 86400}


def query(prom: PrometheusServer, promql: str, at: datetime) -> dict[str, float]:
    """Instant query at ``at``; result keyed by service_name (or '' when absent)."""
    params: dict[str, str | float] = {"query": promql, "time": at.timestamp()}
    resp = requests.get(f"{prom.url}/api/v1/query", params=params, timeout=30)
    body = resp.json()
    assert body["status"] == "success", body
    return {
        r["metric"].get("service_name", ""): float(r["value"][1]) for r in body["data"]["result"]
    }


def by_service(expr: str) -> str:
    return f"sum by (service_name) ({expr})"


@pytest.mark.integration
@pytest.mark.parametrize("window", list(WINDOWS), ids=[f"window-{w}" for w in WINDOWS])
def test_error_ratio_and_total_match_truth(
    prometheus_shop: PrometheusServer,
    shop_scenario: Scenario,
    shop_end: datetime,
    shop_sample_times: FloatArray,
    window: str,
) -> None:
    bad = by_service(f'increase({COUNT}{{http_response_status_code="500"}}[{window}])')
    total = by_service(f"increase({COUNT}[{window}])")
    ratios = query(prometheus_shop, f"{bad} / {total}", shop_end)
    totals = query(prometheus_shop, total, shop_end)
    assert set(ratios) == set(shop_scenario.service_names)
    for svc in shop_scenario.service_names:
        truth = shop_scenario.truth_window(
            svc, shop_end, WINDOWS[window], sample_times=shop_sample_times
        )
        assert ratios[svc] == pytest.approx(truth.bad / truth.total, rel=1e-9), svc
        assert totals[svc] == pytest.approx(truth.total * truth.extrapolation_factor, rel=1e-9)


@pytest.mark.integration
@pytest.mark.parametrize("window", list(WINDOWS), ids=[f"window-{w}" for w in WINDOWS])
def test_share_below_300ms_matches_truth(
    prometheus_shop: PrometheusServer,
    shop_scenario: Scenario,
    shop_end: datetime,
    shop_sample_times: FloatArray,
    window: str,
) -> None:
    good = by_service(f'increase({BUCKET}{{le="0.3"}}[{window}])')
    total = by_service(f"increase({COUNT}[{window}])")
    ratios = query(prometheus_shop, f"{good} / {total}", shop_end)
    for svc in shop_scenario.service_names:
        truth = shop_scenario.truth_window(
            svc, shop_end, WINDOWS[window], sample_times=shop_sample_times
        )
        assert ratios[svc] == pytest.approx(truth.good_below(0.3) / truth.total, rel=1e-9), svc


@pytest.mark.integration
@pytest.mark.parametrize("window", list(WINDOWS), ids=[f"window-{w}" for w in WINDOWS])
def test_p95_lies_in_the_true_quantile_bucket(
    prometheus_shop: PrometheusServer, shop_scenario: Scenario, shop_end: datetime, window: str
) -> None:
    p95 = query(
        prometheus_shop,
        f"histogram_quantile(0.95, sum by (service_name, le) (increase({BUCKET}[{window}])))",
        shop_end,
    )
    for svc in shop_scenario.service_names:
        lower, upper = bucket_of(shop_scenario.true_quantile(svc, 0.95, shop_end, WINDOWS[window]))
        assert lower < p95[svc] <= upper, svc
    if window in ("5m", "1h", "1d"):
        assert p95["inventory"] > 0.3 and max(v for s, v in p95.items() if s != "inventory") < 0.2


@pytest.mark.integration
def test_openmetrics_round_trip(
    prometheus_shop: PrometheusServer,
    shop_history: tuple[Path, HistoryStats],
    shop_scenario: Scenario,
    shop_end: datetime,
    shop_sample_times: FloatArray,
) -> None:
    stats = shop_history[1]
    n_series = 29 * len(shop_scenario.service_names)
    assert stats.written.series == n_series
    assert stats.written.samples == n_series * len(shop_sample_times)
    assert stats.backfilled.samples == stats.written.samples
    assert stats.backfilled.min_time == shop_scenario.start_s
    names = requests.get(f"{prometheus_shop.url}/api/v1/label/__name__/values", timeout=10).json()
    assert names["data"] == [
        "http_server_request_duration_seconds_bucket",
        "http_server_request_duration_seconds_count",
        "http_server_request_duration_seconds_sum",
        "process_cpu_seconds_total",
    ]
    counted = [
        query(prometheus_shop, f"sum(count_over_time({name}[31d]))", shop_end)[""]
        for name in names["data"]
    ]
    assert sum(counted) == stats.written.samples
    cpu = query(prometheus_shop, CPU_COUNTER, shop_end)
    for svc in shop_scenario.service_names:
        assert cpu[svc] == shop_scenario.counter(SeriesKey(CPU_COUNTER, svc), shop_end)


def tiny_scenario(end: datetime) -> Scenario:
    svc = ServiceProfile("tiny", 1.0, 0.0, 0.5, Lognormal(0.1, 0.5), 0.25, ())
    return Scenario(start=end - timedelta(minutes=2), end=end, services=(svc,))


def test_openmetrics_text_layout(shop_end: datetime) -> None:
    sc = tiny_scenario(shop_end)
    times = np.array([sc.start_s, sc.start_s + 60, sc.end_s])
    text = "".join(iter_openmetrics(sc, times))
    lines = text.splitlines()
    t0 = int(sc.start_s)
    assert lines[:3] == [
        "# TYPE http_server_request_duration_seconds histogram",
        "# UNIT http_server_request_duration_seconds seconds",
        "# HELP http_server_request_duration_seconds Duration of HTTP server requests.",
    ]
    assert lines[-5:] == [
        "# HELP process_cpu_seconds Total user and system CPU time spent in seconds.",
        f'process_cpu_seconds_total{{service_name="tiny"}} 0.0 {t0}',
        f'process_cpu_seconds_total{{service_name="tiny"}} 15.0 {t0 + 60}',
        f'process_cpu_seconds_total{{service_name="tiny"}} 30.0 {t0 + 120}',
        "# EOF",
    ]
    # 60 requests a minute, half of them 5xx: the +Inf bucket of code 500 counts 30 a minute
    inf500 = [ln for ln in lines if 'code="500",le="+Inf"' in ln]
    assert [ln.split(" ")[1] for ln in inf500] == ["0", "30", "60"]
    assert len(lines) == 3 + 29 * 3 + 3 + 1


@pytest.mark.integration
def test_backfill_failure_carries_promtool_output(tmp_path: Path) -> None:
    bad = tmp_path / "bad.om"
    bad.write_text('# TYPE x counter\nx_total{a="b"} 1 1700000000\n')  # no "# EOF"
    with pytest.raises(BackendError, match="EOF"):
        backfill(bad, tmp_path / "tsdb")


@pytest.mark.integration
def test_prometheus_start_failure_shows_its_log(tmp_path: Path) -> None:
    server = PrometheusServer(tmp_path / "data", extra_args=["--no-such-flag"])
    with pytest.raises(BackendUnreachable, match="no-such-flag"):
        server.start(timeout=10)
    assert not server.running


@pytest.mark.integration
def test_query_log_counts_http_queries(
    prometheus_shop: PrometheusServer, shop_end: datetime
) -> None:
    before = prometheus_shop.query_log_count()
    query(prometheus_shop, "vector(1)", shop_end)
    query(prometheus_shop, "vector(2)", shop_end)
    assert prometheus_shop.query_log_count() == before + 2


def test_missing_binary_names_the_debian_package() -> None:
    with pytest.raises(ToolNotInstalled, match="apt-get install -y prometheus"):
        find_binary("prometheus-does-not-exist")
