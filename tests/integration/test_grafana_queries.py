"""Every PromQL query of the dashboards runs against a real Prometheus with the shop history.

Template variables get real values (``service=payment``, ``$__rate_interval`` -> 5m, ...), and
the multi-select ones also Grafana's "(order|payment)" and "All" (``.*``); ``$__range`` is the
panel's time range (this month so far for the calendar-month panels). Raw-metric queries must
return data at ``shop_end``, the selected services' own series, and the scenario's truth.
Queries on recording rules (loaded from rules/generated when present) and on ``ALERTS`` run at
"now", where rules are evaluated, and must not fail; ``sloctl_*`` queries are checked with data
in test_metrics_prometheus.py.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import requests

from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import FloatArray, Scenario
from sloctl.grafana.files import DASHBOARD_DIR
from tests.support.processes import wait_until

REPO_ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((REPO_ROOT / "rules" / "generated").glob("*.yml"))
SHOP_VALUES = {
    "service": "payment",
    "slo": "availability",
    "scope": "organisation",
    "__rate_interval": "5m",
    "__interval": "1m",
    "__range": "1h",
}
NON_RAW = re.compile(r"slo:|ALERTS|sloctl_")
SLOCTL_SERIES = re.compile(r"\bsloctl_\w+\b(?!\s*=)")


@dataclass(frozen=True)
class PanelQuery:
    dashboard: str
    panel: str
    ref: str
    expr: str
    instant: bool
    time_from: str | None = None

    @property
    def id(self) -> str:
        return f"{self.dashboard}/{self.panel}/{self.ref}".replace(" ", "-")

    @property
    def reads_sloctl(self) -> bool:
        """True when a ``sloctl_*`` series of ``sloctl serve`` is queried (``sloctl_window=`` is
        a label of the rules' ``sloth_slo_info``)."""
        return SLOCTL_SERIES.search(self.expr) is not None

    @property
    def raw(self) -> bool:
        """True when only raw metrics are queried (no rules, ALERTS or sloctl series)."""
        return not NON_RAW.search(self.expr)

    def substituted(self, values: Mapping[str, str]) -> str:
        if self.time_from == "now/M":  # the panel's range: this month so far
            values = {**values, "__range": f"{max(60, seconds_into_month())}s"}
        else:
            assert self.time_from is None, self.time_from
        return re.sub(r"\$\{?(\w+)\}?", lambda m: values[m.group(1)], self.expr)


def seconds_into_month() -> int:
    now = datetime.now(UTC)
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return int((now - start).total_seconds())


def panel_queries() -> list[PanelQuery]:
    """Every Prometheus target of every generated dashboard."""
    out = []
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        board = json.loads(path.read_text())
        for panel in board["panels"]:
            for t in panel.get("targets", []):
                if t["datasource"]["type"] == "prometheus":
                    out.append(
                        PanelQuery(
                            board["uid"], panel["title"], t["refId"], t["expr"], t["instant"],
                            panel.get("timeFrom"),
                        )
                    )
    return out


def variable_queries() -> list[tuple[str, str]]:
    """(dashboard uid, ``label_values(...)`` query) of every query variable."""
    return [
        (board["uid"], var["query"]["query"])
        for path in sorted(DASHBOARD_DIR.glob("*.json"))
        for board in [json.loads(path.read_text())]
        for var in board["templating"]["list"]
        if var["type"] == "query"
    ]


def run(prom: PrometheusServer, query: PanelQuery, values: Mapping[str, str], at: float) -> Any:
    """The query as Grafana sends it: instant at ``at`` or a 1h range ending at ``at``."""
    expr = query.substituted(values)
    if query.instant:
        resp = requests.get(f"{prom.url}/api/v1/query", {"query": expr, "time": at}, timeout=30)
    else:
        params = {"query": expr, "start": at - 3600, "end": at, "step": 60}
        resp = requests.get(f"{prom.url}/api/v1/query_range", params, timeout=30)
    body = resp.json()
    assert resp.status_code == 200 and body["status"] == "success", f"{expr}: {body}"
    return body["data"]


def values_of(data: Any) -> list[float]:
    if data["resultType"] == "vector":
        return [float(s["value"][1]) for s in data["result"]]
    return [float(v) for s in data["result"] for _, v in s["values"]]


def label_values(prom: PrometheusServer, query: str, values: Mapping[str, str]) -> list[str]:
    """What Grafana's ``label_values(selector, label)`` lists: /api/v1/label/<l>/values."""
    match = re.fullmatch(r"label_values\((.+), (\w+)\)", query)
    assert match, f"unexpected variable query {query}"
    selector = re.sub(r"\$(\w+)", lambda m: values[m.group(1)], match[1])
    url = f"{prom.url}/api/v1/label/{match[2]}/values"
    body = requests.get(url, {"match[]": selector}, timeout=30).json()
    assert body["status"] == "success", f"{query}: {body}"
    result: list[str] = body["data"]
    return result


def rules_evaluated(prom: PrometheusServer) -> bool | None:
    groups = requests.get(f"{prom.url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    evaluated = [g["lastEvaluation"] > "2000" for g in groups]
    return True if len(groups) > 0 and all(evaluated) else None


@pytest.fixture(scope="module")
def prometheus_rules(
    shop_tsdb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PrometheusServer]:
    """The shop history with the generated rules (when present), every group evaluated once."""
    data = tmp_path_factory.mktemp("prometheus-grafana") / "data"
    shutil.copytree(shop_tsdb, data)
    with PrometheusServer(data, rule_files=RULE_FILES) as prom:
        if RULE_FILES:
            wait_until(lambda: rules_evaluated(prom), 90, "first evaluation of every rule group")
        yield prom


QUERIES = panel_queries()


def test_dashboards_have_queries_of_every_kind() -> None:
    assert len(QUERIES) >= 40
    assert sum(q.raw for q in QUERIES) >= 8
    assert any("slo:" in q.expr for q in QUERIES) and any("ALERTS" in q.expr for q in QUERIES)


@pytest.mark.integration
@pytest.mark.parametrize("query", [q for q in QUERIES if q.raw], ids=lambda q: q.id)
def test_raw_metric_panel_returns_data(
    prometheus_rules: PrometheusServer, shop_end: datetime, query: PanelQuery
) -> None:
    data = run(prometheus_rules, query, SHOP_VALUES, shop_end.timestamp())
    values = values_of(data)
    assert values, f"no data for {query.substituted(SHOP_VALUES)}"
    assert any(math.isfinite(v) for v in values)


@pytest.mark.integration
@pytest.mark.parametrize("query", [q for q in QUERIES if not q.raw], ids=lambda q: q.id)
def test_rule_and_alert_panel_runs_without_error(
    prometheus_rules: PrometheusServer, query: PanelQuery
) -> None:
    run(prometheus_rules, query, SHOP_VALUES, time.time())


@pytest.mark.integration
def test_variable_queries_list_the_shop(prometheus_rules: PrometheusServer) -> None:
    listed = {q: label_values(prometheus_rules, q, SHOP_VALUES) for _, q in variable_queries()}
    services = listed["label_values(http_server_request_duration_seconds_count, service_name)"]
    assert services == ["inventory", "notification", "order", "payment", "user"]
    if RULE_FILES:  # the generated rules record one objective per SLO of rules/slos
        assert listed["label_values(slo:objective:ratio, sloth_service)"] == services
        assert listed["label_values(sloth_slo_info, sloth_service)"] == services
        query = 'label_values(slo:objective:ratio{sloth_service=~"$service"}, sloth_slo)'
        assert listed[query] == ["availability", "latency"]
        every = {**SHOP_VALUES, "service": ".*"}  # "All"
        assert label_values(prometheus_rules, query, every) == [
            "availability", "checkout-latency", "latency"
        ]


@pytest.mark.integration
def test_budget_panels_show_the_generated_rules(prometheus_rules: PrometheusServer) -> None:
    """With rules loaded, the per-SLO objective panel shows the spec's 99.5 %, one series per
    selected SLO: payment's availability, then every SLO of order and payment."""
    if not RULE_FILES:
        pytest.skip("rules/generated is empty: run `sloctl rules generate`")
    (objective,) = [q for q in QUERIES if q.dashboard == "sloctl-slo" and q.panel == "Objective"]
    data = run(prometheus_rules, objective, SHOP_VALUES, time.time())
    assert {s["metric"]["sloth_id"] for s in data["result"]} == {"payment-availability"}
    assert values_of(data)[-1] == pytest.approx(0.995)
    both = {**SHOP_VALUES, "service": "(order|payment)", "slo": ".*"}
    last = {s["metric"]["sloth_id"]: float(s["values"][-1][1])
            for s in run(prometheus_rules, objective, both, time.time())["result"]}
    assert last == pytest.approx({
        "order-availability": 0.995, "order-latency": 0.95, "order-checkout-latency": 0.99,
        "payment-availability": 0.995, "payment-latency": 0.95,
    })


PER_SERVICE = [q for q in QUERIES if q.raw and "service_name" in q.expr and "by (" in q.expr]


@pytest.mark.integration
@pytest.mark.parametrize("query", PER_SERVICE, ids=lambda q: q.id)
@pytest.mark.parametrize("selected", ["(order|payment)", ".*"], ids=["two", "all"])
def test_multi_select_shows_each_selected_service(
    prometheus_rules: PrometheusServer, shop_end: datetime, query: PanelQuery, selected: str
) -> None:
    data = run(prometheus_rules, query, {**SHOP_VALUES, "service": selected}, shop_end.timestamp())
    services = {s["metric"]["service_name"] for s in data["result"]}
    every = {"inventory", "notification", "order", "payment", "user"}
    assert services == ({"order", "payment"} if selected != ".*" else every)


@pytest.mark.integration
def test_error_ratio_panel_equals_the_truth(
    prometheus_rules: PrometheusServer,
    shop_scenario: Scenario,
    shop_end: datetime,
    shop_sample_times: FloatArray,
) -> None:
    """The golden-signals error ratio of every service ($__rate_interval = 5m) at shop_end."""
    (panel,) = [q for q in QUERIES if q.dashboard == "sloctl-golden-signals"
                and q.panel == "Error ratio (5xx / all)"]
    data = run(prometheus_rules, panel, {**SHOP_VALUES, "service": ".*"}, shop_end.timestamp())
    shown = {s["metric"]["service_name"]: float(s["values"][-1][1]) for s in data["result"]}
    for service in shop_scenario.service_names:
        truth = shop_scenario.truth_window(service, shop_end, 300, sample_times=shop_sample_times)
        assert shown[service] == pytest.approx(truth.bad / truth.total, rel=1e-9), service
    assert shown["payment"] > 0.005 > shown["user"]
