"""The generated rules in a real Prometheus holding the shop history.

Prometheus loads every rule without error. Rules only evaluate at "now", after the backfilled
data ends, so each SLI recording's ``expr`` is also run as an instant query at ``shop_end`` and
compared with the scenario's ground truth (``rate`` ratios equal the counters' ratios exactly:
numerator and denominator share the extrapolation factor).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from sloctl.core.windows import ALERT_WINDOWS
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Scenario
from sloctl.sources.promql import prom_duration

pytestmark = pytest.mark.integration

GENERATED = Path(__file__).resolve().parents[2] / "rules" / "generated"
RULE_FILES = sorted(GENERATED.glob("*.yml"))
WINDOW_NAMES = {prom_duration(w): w for w in ALERT_WINDOWS}


def load_rules() -> list[dict[str, Any]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
    ]


SLI_RULES = [
    r
    for r in load_rules()
    if r.get("record", "").startswith("slo:sli_error:ratio_rate")
    and r["labels"]["sloth_window"] in WINDOW_NAMES
]


@pytest.fixture(scope="module")
def prometheus(shop_tsdb: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("prometheus-rules") / "data"
    shutil.copytree(shop_tsdb, data)
    with PrometheusServer(data, rule_files=RULE_FILES, evaluation_interval="1s") as server:
        yield server.url


def query(url: str, expr: str, at: datetime) -> list[dict[str, Any]]:
    resp = requests.get(
        f"{url}/api/v1/query", params={"query": expr, "time": at.timestamp()}, timeout=30
    )
    body = resp.json()
    assert body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def evaluated_groups(url: str) -> list[dict[str, Any]]:
    """Rule groups once each has been evaluated at least once (waits at most 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        body = requests.get(f"{url}/api/v1/rules", timeout=10).json()
        groups: list[dict[str, Any]] = body["data"]["groups"]
        done = all(r["health"] != "unknown" for g in groups for r in g["rules"])
        if (groups and done) or time.monotonic() > deadline:
            return groups
        time.sleep(0.2)


def test_prometheus_loads_and_evaluates_every_rule_without_error(prometheus: str) -> None:
    groups = evaluated_groups(prometheus)
    rules = [r for g in groups for r in g["rules"]]
    assert len(groups) == 11 * 3 + 2  # and the default alerts, and sloctl-self
    # 11 SLOs x 18 rules, 5 services x 2 default alerts, SloctlEvaluationStale
    assert len(rules) == 198 + 10 + 1
    unhealthy = [(r["name"], r["health"], r.get("lastError")) for r in rules if r["health"] != "ok"]
    assert unhealthy == []


@pytest.mark.parametrize(
    "rule",
    SLI_RULES,
    ids=lambda r: f"{r['labels']['sloth_id']}-{r['labels']['sloth_window']}",
)
def test_sli_recording_expr_equals_ground_truth(
    prometheus: str,
    shop_scenario: Scenario,
    shop_sample_times: object,
    shop_end: datetime,
    rule: dict[str, Any],
) -> None:
    labels = rule["labels"]
    window = WINDOW_NAMES[labels["sloth_window"]]
    truth = shop_scenario.truth_window(
        labels["sloth_service"],
        shop_end,
        window,
        sample_times=shop_sample_times,  # type: ignore[arg-type]
    )
    expected = {
        "availability": truth.error_ratio,
        "latency": truth.latency_ratio(0.3),
        "checkout-latency": truth.latency_ratio(1.0),  # every demo request is a GET
    }[labels["sloth_slo"]]
    (sample,) = query(prometheus, rule["expr"], shop_end)
    assert sample["metric"] == {}  # only the rule's sloth labels will identify the series
    assert float(sample["value"][1]) == pytest.approx(expected, rel=1e-6, abs=1e-12)


def test_optimized_period_sli_is_the_mean_of_the_5m_sli(
    prometheus: str, shop_end: datetime
) -> None:
    """The period rule with its 5m recording replaced by a subquery of the 5m ``expr`` equals
    the mean of that expression over the period (where it has values)."""
    rules = {
        (r.get("record"), r["labels"].get("sloth_window")): r
        for r in load_rules()
        if r.get("labels", {}).get("sloth_id") == "payment-availability"
    }
    five = rules[("slo:sli_error:ratio_rate5m", "5m")]["expr"]
    period = rules[("slo:sli_error:ratio_rate4w", "4w")]["expr"]
    selector = next(line for line in period.splitlines() if "[4w]" in line)
    recorded = selector[selector.index("slo:sli_error") : selector.index("[4w]")]
    as_subquery = period.replace(f"{recorded}[4w]", f"({five})[4w:5m]")
    (sample,) = query(prometheus, as_subquery, shop_end)

    start = shop_end - timedelta(days=28)
    resp = requests.get(
        f"{prometheus}/api/v1/query_range",
        params={
            "query": five,
            "start": start.timestamp(),
            "end": shop_end.timestamp(),
            "step": 300,
        },
        timeout=30,
    ).json()
    (series,) = resp["data"]["result"]
    values = [float(v) for _, v in series["values"]]
    assert len(values) > 12 * 24  # the last 3 days have 1-minute samples
    assert float(sample["value"][1]) == pytest.approx(sum(values) / len(values), rel=1e-9)
