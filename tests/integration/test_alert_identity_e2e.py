"""One firing condition is one alert in Alertmanager, whoever sends it: Prometheus' generated
rules, sloctl's own notifier, or both (real Prometheus, real Alertmanagers, live traffic)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.live import LiveExporter
from sloctl.demo.process import free_port
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import shop_scenario
from sloctl.evaluation.cycle import Evaluator
from sloctl.rulegen import default_alert_group, render_rules
from sloctl.runtime.alertmanager import AlertmanagerNotifier
from sloctl.settings import AlertmanagerSettings, Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs

pytestmark = pytest.mark.integration
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"
# The shop at this instant: payment answers 1.2 % errors, inventory's p95 is 450 ms.
CONDITIONS = {("ServiceErrorRatioHigh", "payment"), ("ServiceLatencyP95High", "inventory")}
# No `for`, no coverage hold: the test is about identity, on a Prometheus a few seconds old.
SETTINGS = Settings.model_validate({
    "default_alerts": {"error_ratio": {"for_seconds": 0}, "latency_p95": {"for_seconds": 0}},
    "data_quality": {"min_short_window_coverage": 0},
    "prometheus": {"scrape_interval_seconds": 1},
})


def held(am: AlertmanagerServer) -> dict[tuple[str, str], list[dict[str, str]]]:
    """Active alerts by (alertname, service): the label sets Alertmanager holds for each."""
    out: dict[tuple[str, str], list[dict[str, str]]] = {}
    for alert in am.alerts():
        labels = alert["labels"]
        out.setdefault((labels["alertname"], labels.get("service", "")), []).append(labels)
    return out


def poll(check: Callable[[], Any], what: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.5)
    raise AssertionError(f"{what}: not after {timeout:.0f} s")


def test_one_condition_is_one_alert_from_prometheus_sloctl_or_both(tmp_path: Path) -> None:
    rules = tmp_path / "default-alerts.yml"
    group = default_alert_group(["payment", "inventory", "order", "user", "notification"],
                                SETTINGS)
    assert group is not None
    rules.write_text(render_rules([group], ["# test rules"]))
    dead_webhook = f"http://127.0.0.1:{free_port()}/hook"  # notifications are not the point

    def alertmanager(name: str) -> AlertmanagerServer:
        return AlertmanagerServer(tmp_path / name, webhook_url=dead_webhook, token="t")

    with ExitStack() as stack:
        live = stack.enter_context(LiveExporter(shop_scenario(datetime.now(UTC))))
        prom_only = stack.enter_context(alertmanager("am-prom"))
        sloctl_only = stack.enter_context(alertmanager("am-sloctl"))
        both = stack.enter_context(alertmanager("am-both"))
        prom = stack.enter_context(PrometheusServer(
            tmp_path / "prom", scrape_targets=[live.target], scrape_interval="1s",
            evaluation_interval="1s", rule_files=[rules],
            alertmanagers=[prom_only.target, both.target],
        ))
        # Prometheus alone: its rules fire both conditions
        poll(lambda: set(held(prom_only)) >= CONDITIONS, "Prometheus' alerts")
        source = PrometheusSource(SETTINGS.prometheus.model_copy(update={"url": prom.url}))
        try:
            ev = Evaluator(SETTINGS, load_specs([SPECS]), source).run_cycle()
        finally:
            source.close()
        firing = {(a.service, a.rule) for a in ev.alerts if a.state.value == "firing"}
        assert {("payment", "error_ratio"), ("inventory", "latency_p95")} <= firing
        for am in (sloctl_only, both):  # sloctl alone, and sloctl beside Prometheus
            runbook = SETTINGS.alertmanager.runbook_url
            settings = AlertmanagerSettings(url=am.url, runbook_url=runbook)
            with AlertmanagerNotifier(settings, dashboard_url=SETTINGS.dashboard_url,
                                      interval_seconds=30, retry_initial_seconds=0.2) as notifier:
                notifier.submit(ev)
                assert notifier.flush(20)
        poll(lambda: set(held(sloctl_only)) >= CONDITIONS, "sloctl's alerts")
        by_prometheus, by_sloctl, by_both = held(prom_only), held(sloctl_only), held(both)
    for condition in sorted(CONDITIONS):
        # the same label set from either sender ...
        assert by_prometheus[condition] == by_sloctl[condition], condition
        # ... so Alertmanager holds exactly one alert when both send it
        assert by_both[condition] == by_prometheus[condition], condition
        assert len(by_both[condition]) == 1
