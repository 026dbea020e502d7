"""A real Prometheus scrapes sloctl's /metrics: it sees the exact values of a known evaluation, and
every dashboard query on ``sloctl_*`` series returns data."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sloctl.core.windows import window_name
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.runtime.http import HttpServer
from sloctl.settings import Settings
from sloctl.store import Store
from tests.integration.test_grafana_queries import QUERIES, PanelQuery, run, values_of
from tests.support.processes import wait_until
from tests.unit.test_dora_job import known_dora
from tests.unit.test_metrics import known_evaluation

pytestmark = pytest.mark.integration

# The known evaluation has the SLO checkout/availability with a firing burn-rate alert.
SLOCTL_VALUES = {
    "service": "checkout",
    "slo": "availability",
    "sloth_id": "checkout-availability",
    "scope": "organisation",
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}


def instant(prom: PrometheusServer, expr: str) -> list[dict[str, Any]]:
    body = requests.get(f"{prom.url}/api/v1/query", {"query": expr}, timeout=10).json()
    assert body["status"] == "success", body
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


@pytest.fixture(scope="module")
def scraping(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """An empty Prometheus scraping serve's HTTP server over a store holding the known evaluation
    and DORA scorecards, every second."""
    root = tmp_path_factory.mktemp("prometheus-metrics")
    settings = Settings.model_validate(
        {"store_url": f"sqlite:///{root / 'sloctl.db'}", "receiver": {"port": 0}}
    )
    dora = known_dora()
    with (
        Store(settings.store_url) as store,
        HttpServer(settings, store) as metrics,
        PrometheusServer(
            root / "data", scrape_targets=[f"127.0.0.1:{metrics.port}"], scrape_interval="1s"
        ) as prom,
    ):
        store.save_evaluation(known_evaluation())
        store.scorecards.save([c.card for c in dora], dora[0].computed_at)
        wait_until(
            lambda: len(instant(prom, "count_over_time(sloctl_evaluation_queries[1m])")) or None,
            30,
            "a scrape of sloctl's /metrics",
        )
        yield prom


def test_prometheus_sees_the_sli_of_every_window(scraping: PrometheusServer) -> None:
    (checkout, _unknown) = known_evaluation().slos
    seen = {
        s["metric"]["window"]: float(s["value"][1]) for s in instant(scraping, "sloctl_slo_sli")
    }
    assert seen == {window_name(w.window): w.sli for w in checkout.windows}
    (series,) = instant(scraping, 'sloctl_slo_sli{window="30d"}')
    assert series["metric"] == {
        "__name__": "sloctl_slo_sli",
        "slo_id": "checkout/availability",
        "service": "checkout",
        "slo": "availability",
        "window": "30d",
    }
    assert float(series["value"][1]) == pytest.approx(0.9996)


def test_prometheus_sees_budget_and_alert_state(scraping: PrometheusServer) -> None:
    (remaining,) = instant(scraping, "sloctl_slo_error_budget_remaining")
    assert float(remaining["value"][1]) == known_evaluation().slos[0].budget_remaining
    (firing,) = instant(scraping, 'sloctl_alert_state{state="firing"} == 1')
    assert firing["metric"]["key"] == "burn_rate:page/checkout/availability"
    assert instant(scraping, "sloctl_signal")[0]["metric"]["service"] == "checkout"


@pytest.mark.parametrize("query", [q for q in QUERIES if q.reads_sloctl], ids=lambda q: q.id)
def test_sloctl_panel_returns_data(scraping: PrometheusServer, query: PanelQuery) -> None:
    data = run(scraping, query, SLOCTL_VALUES, time.time())
    assert values_of(data), f"no data for {query.substituted(SLOCTL_VALUES)}"


def test_prometheus_sees_the_dora_figures(scraping: PrometheusServer) -> None:
    (cfr,) = instant(scraping, 'sloctl_dora_change_failure_rate{scope="organisation"}')
    assert float(cfr["value"][1]) == pytest.approx(2 / 263)
    levels = instant(scraping, 'sloctl_dora_level{scope="organisation"} == 1')
    assert {s["metric"]["metric"]: s["metric"]["level"] for s in levels} == {
        "deployment_frequency": "elite",
        "lead_time": "elite",
        "change_failure_rate": "elite",
        "failed_deployment_recovery_time": "elite",
    }
