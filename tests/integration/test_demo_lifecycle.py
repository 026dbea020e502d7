"""``python -m sloctl.demo`` as a real process: Prometheus alerts the demo's Alertmanager, and
SIGTERM or SIGINT stops every process it started (checked with psutil), whenever it arrives."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
from prometheus_client.parser import text_string_to_metric_families

from sloctl.demo.alertmanager_server import BINARY as ALERTMANAGER
from sloctl.demo.prometheus_server import find_binary
from tests.support.processes import free_port, http_get, stop_group, wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Demo:
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def printed(self) -> str:
        return self.out.read_text(errors="replace")

    def url(self, name: str) -> str:
        match = re.search(rf"^  {name} +(http://127\.0\.0\.1:\d+)", self.printed(), re.M)
        assert match, self.printed()
        return match[1]

    def stage(self, text: str) -> bool | None:
        """True once ``text`` is on stderr (the demo's progress)."""
        return True if text in self.err.read_text(errors="replace") else None

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    """The demo on 2 days of history (its own session, so a failed test still stops it all)."""
    find_binary("prometheus")
    find_binary(ALERTMANAGER)
    out, err = tmp_path / "demo.out", tmp_path / "demo.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sloctl.demo", "--days", "2", "--store-days", "1",
             "--workdir", str(tmp_path / "work"), "--dashboard-port", str(free_port())],
            cwd=ROOT, stdout=stdout, stderr=stderr, start_new_session=True,
        )
    try:
        yield Demo(proc, out, err)
    finally:
        stop_group(proc)


def sent_by_prometheus(prometheus: str, alertmanager: str) -> float:
    """Alerts Prometheus sent to ``alertmanager`` (its notifier's counter), failing on errors."""
    body = http_get(f"{prometheus}/metrics")
    assert body is not None
    samples = {
        (s.name, s.labels.get("alertmanager", "")): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }
    target = f"{alertmanager}/api/v2/alerts"
    assert samples[("prometheus_notifications_alertmanagers_discovered", "")] == 1
    assert samples.get(("prometheus_notifications_errors_total", target), 0) == 0
    return samples.get(("prometheus_notifications_sent_total", target), 0.0)


def alert_from_prometheus(prometheus: str, alertmanager: str) -> str | None:
    """The name of an alert Alertmanager holds as Prometheus sent it (its generatorURL is
    Prometheus' /graph; sloctl sends the same alerts with its own URL)."""
    with urllib.request.urlopen(f"{alertmanager}/api/v2/alerts", timeout=5) as answer:
        alerts = json.loads(answer.read())
    port = prometheus.rsplit(":", 1)[1]
    for alert in alerts:
        if re.search(rf":{port}/graph\?", alert["generatorURL"]):
            name: str = alert["labels"]["alertname"]
            return name
    return None


def assert_all_stopped(demo: Demo, started: list[psutil.Process], urls: list[str]) -> None:
    assert demo.proc.wait(timeout=60) == 0, demo.err.read_text()
    survivors = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert survivors == [], [p.cmdline() for p in survivors]
    assert [u for u in urls if http_get(u, timeout=1) is not None] == []
    assert demo.err.read_text().rstrip().endswith("demo stopped")


def test_prometheus_alerts_the_demo_alertmanager_and_sigterm_stops_everything(
    demo: Demo,
) -> None:
    wait_until(lambda: "sloctl demo is running" in demo.printed() or None, 240, "the demo",
               demo.proc)
    prometheus, alertmanager = demo.url("Prometheus"), demo.url("Alertmanager")
    # payment burns its budget (ticket alert at once, no `for`): Prometheus sends it
    wait_until(lambda: sent_by_prometheus(prometheus, alertmanager) or None, 90,
               "Prometheus sending alerts to the demo's Alertmanager", demo.proc)
    name = wait_until(lambda: alert_from_prometheus(prometheus, alertmanager), 90,
                      "an alert of Prometheus in Alertmanager", demo.proc, interval=0.2)
    assert name == "SLOBurnRateTicket"

    started = demo.descendants()
    commands = " ".join(" ".join(p.cmdline()) for p in started)
    for program in ("prometheus --config", ALERTMANAGER, "sloctl.cli.main serve",
                    "sloctl.cli.main dashboard"):
        assert program in commands
    urls = [f"{u}/-/ready" for u in (prometheus, alertmanager)]
    urls += [f"{demo.url('exporter')}/metrics", f"{demo.url('scorecard')}/_stcore/health"]
    os.kill(demo.proc.pid, signal.SIGTERM)
    assert_all_stopped(demo, started, urls)


def test_sigint_while_the_store_is_backfilled_stops_the_servers_started(demo: Demo) -> None:
    wait_until(lambda: demo.stage("3/4"), 240, "the store's backfill", demo.proc, interval=0.05)
    started = demo.descendants()
    commands = " ".join(" ".join(p.cmdline()) for p in started)
    assert "prometheus --config" in commands and ALERTMANAGER in commands
    os.kill(demo.proc.pid, signal.SIGINT)
    assert_all_stopped(demo, started, [])
    assert "stopping ..." in demo.err.read_text()
    assert "is running" not in demo.printed()
