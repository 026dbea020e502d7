"""The whole alerting loop with real processes: live traffic -> Prometheus -> `sloctl serve`
-> Alertmanager (API v2) -> webhook -> `sloctl serve` again, recorded as an incident.

The shop scenario runs live (payment breaches the 0.5 % error ratio); `for: 0s` makes the
default alert fire on the first cycle that sees 5 minutes of traffic.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.live import LiveExporter
from sloctl.demo.process import free_port
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import shop_scenario
from sloctl.runtime.incidents import incidents as incidents_of
from sloctl.settings import load_settings
from sloctl.store import Store

pytestmark = pytest.mark.integration
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


def test_serve_alerts_alertmanager_and_records_the_round_trip(tmp_path: Path) -> None:
    token = "loop-token"
    port = free_port()
    config = tmp_path / "sloctl.yaml"
    # The loop, not the data-quality hold: 15 s of data cover 5 % of a 5m window, which would
    # hold the alert back (tests of the hold are in test_alert_data_quality.py).
    config.write_text("default_alerts:\n"
                      "  error_ratio: {for_seconds: 0}\n"
                      "  latency_p95: {for_seconds: 0}\n"
                      "data_quality: {min_short_window_coverage: 0}\n")
    scenario = shop_scenario(datetime.now(UTC))
    store_url = f"sqlite:///{tmp_path / 'serve.db'}"
    with LiveExporter(scenario) as live, AlertmanagerServer(
        tmp_path / "am", webhook_url=f"http://127.0.0.1:{port}/api/v1/alertmanager", token=token
    ) as am, PrometheusServer(tmp_path / "prom", scrape_targets=[live.target],
                              scrape_interval="1s") as prom:
        env = {**os.environ, "SLOCTL_CONFIG": str(config), "SLOCTL_PROMETHEUS_URL": prom.url,
               "SLOCTL_STORE_URL": store_url, "SLOCTL_SPECS": str(SPECS),
               "SLOCTL_RECEIVER_PORT": str(port), "SLOCTL_RECEIVER_TOKEN": token,
               "SLOCTL_ALERTMANAGER_URL": am.url}
        # 15 s of scrapes: enough requests that one stray 5xx of a healthy service (0.1 %)
        # cannot lift its ratio over 0.5 % (with 3 s, 1 error in ~120 requests would)
        time.sleep(15)
        proc = subprocess.Popen(
            [sys.executable, "-m", "sloctl.cli.main", "serve", "--interval", "2"],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 150  # generous: loaded CI machines
            names: set[tuple[str, str]] = set()
            while time.monotonic() < deadline and ("ServiceErrorRatioHigh", "payment") not in names:
                time.sleep(1)
                alerts = httpx.get(f"{am.url}/api/v2/alerts", timeout=5).json()
                names = {(a["labels"]["alertname"], a["labels"].get("service", ""))
                         for a in alerts}
            assert ("ServiceErrorRatioHigh", "payment") in names, names
            assert ("ServiceErrorRatioHigh", "order") not in names  # healthy now

            log = Store(store_url).alerts
            settings = load_settings(config, env={})
            while time.monotonic() < deadline:
                incidents = incidents_of(log, settings.incidents, now=datetime.now(UTC))
                if any(i.service == "payment" and i.open for i in incidents):
                    break
                time.sleep(1)
            assert any(i.service == "payment" and i.open for i in incidents), incidents
        finally:
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 0, out.decode()[-2000:]
