"""A Prometheus scraping the LiveExporter sees the scenario's counters, continuing the history."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from sloctl.demo.live import LiveExporter, render_metrics
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Lognormal, Scenario, SeriesKey, ServiceProfile

SELECT_ALL = '{__name__=~"http_server_request_duration_seconds_.+|process_cpu_seconds_total"}'


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 30.0) -> Any:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = probe()
        if result:
            return result
        time.sleep(0.2)
    pytest.fail(f"gave up waiting for {what} after {timeout:.0f}s")


def raw(prom: PrometheusServer, selector: str, at: float | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"query": selector}
    if at is not None:
        params["time"] = at
    body = requests.get(f"{prom.url}/api/v1/query", params=params, timeout=10).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def key_of(metric: dict[str, str]) -> SeriesKey:
    return SeriesKey(
        metric["__name__"],
        metric["service_name"],
        metric.get("http_response_status_code"),
        metric.get("le"),
    )


def _scraped_twice(series: list[dict[str, Any]]) -> bool:
    return len(series) == 145 and all(len(s["values"]) >= 2 for s in series)


@pytest.fixture(scope="module")
def live_prometheus(
    shop_scenario: Scenario, shop_tsdb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    """The shop history plus live scrapes of the exporter every second."""
    data = tmp_path_factory.mktemp("prometheus-live") / "data"
    shutil.copytree(shop_tsdb, data)
    with (
        LiveExporter(shop_scenario) as exporter,
        PrometheusServer(data, scrape_targets=[exporter.target], scrape_interval="1s") as prom,
    ):
        wait_for(
            "two live scrapes of every series",
            lambda: _scraped_twice(raw(prom, f"{SELECT_ALL}[20s]")),
        )
        yield prom


@pytest.mark.integration
def test_scraped_samples_equal_the_scenario(
    live_prometheus: PrometheusServer, shop_scenario: Scenario
) -> None:
    series = raw(live_prometheus, f"{SELECT_ALL}[20s]")
    assert len(series) == 29 * len(shop_scenario.service_names)
    checked = 0
    for s in series:
        key = key_of(s["metric"])
        for ts, value in s["values"]:
            assert float(value) == shop_scenario.counter(key, float(ts)), (key, ts)
            checked += 1
    assert checked >= 2 * len(series)


@pytest.mark.integration
def test_live_scrapes_continue_the_backfilled_series(
    live_prometheus: PrometheusServer, shop_scenario: Scenario, shop_end: datetime
) -> None:
    selector = (
        'http_server_request_duration_seconds_count{service_name="payment",'
        'http_response_status_code="500"}'
    )
    hours = int((time.time() - shop_end.timestamp()) // 3600) + 2
    (series,) = raw(live_prometheus, f"{selector}[{hours}h]")  # one series: same labels
    assert set(series["metric"]) == {
        "__name__", "service_name", "http_request_method", "http_response_status_code"
    }  # fmt: skip
    stamps = [float(ts) for ts, _ in series["values"]]
    assert min(stamps) < shop_end.timestamp() < max(stamps)
    key = key_of(series["metric"])
    assert all(float(v) == shop_scenario.counter(key, float(ts)) for ts, v in series["values"])
    # payment keeps breaching after the end of the history: ~1.2 % errors in the live samples
    now = max(stamps)
    assert shop_scenario.breaching(now)["error_ratio"] == {"payment"}
    assert shop_scenario.expected_error_ratio(
        "payment", now, timedelta(minutes=5)
    ) == pytest.approx(0.012, rel=1e-12)


def test_render_metrics_text_format(shop_end: datetime) -> None:
    svc = ServiceProfile("tiny", 1.0, 0.0, 0.5, Lognormal(0.1, 0.5), 0.25, ())
    sc = Scenario(start=shop_end - timedelta(minutes=2), end=shop_end, services=(svc,))
    t_ms = int(sc.start_s * 1000) + 60_000  # one minute in: 60 requests, half of them 5xx
    lines = render_metrics(sc, t_ms).splitlines()
    assert lines[:2] == [
        "# HELP http_server_request_duration_seconds Duration of HTTP server requests.",
        "# TYPE http_server_request_duration_seconds histogram",
    ]
    assert lines[-3:] == [
        "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.",
        "# TYPE process_cpu_seconds_total counter",
        f'process_cpu_seconds_total{{service_name="tiny"}} 15.0 {t_ms}',
    ]
    count500 = (
        'http_server_request_duration_seconds_count{service_name="tiny",'
        f'http_request_method="GET",http_response_status_code="500"}} 30 {t_ms}'
    )
    assert count500 in lines
    assert len(lines) == 2 + 28 + 3
