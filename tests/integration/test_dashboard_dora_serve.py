"""`sloctl serve` computes and stores the DORA scorecards in its cycle (with the incidents
recorded from Alertmanager) and exposes them on /metrics, where Grafana and the scorecard read."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sloctl.demo.deployments import record_history, shop_history
from sloctl.dora.levels import Metric
from sloctl.store import Store
from tests.support.processes import free_port, http_get, stop_group, wait_until

pytestmark = pytest.mark.integration
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


def test_serve_stores_dora_scorecards_and_exposes_them(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serve.db'}"
    end = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=1)
    with Store(url) as store:
        record_history(store, shop_history(end), end)
    port = free_port()
    env = {
        **os.environ,
        "SLOCTL_STORE_URL": url,
        "SLOCTL_SPECS": str(SPECS),
        "SLOCTL_PROMETHEUS_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens: unknown
        "SLOCTL_PROMETHEUS_TIMEOUT": "2",
        "SLOCTL_RECEIVER_PORT": str(port),
        "SLOCTL_RECEIVER_TOKEN": "t0ken",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "sloctl.cli.main", "serve", "--interval", "1"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        body = wait_until(
            lambda: _with_dora(http_get(f"http://127.0.0.1:{port}/metrics")),
            90,
            "DORA gauges on serve's /metrics",
            proc,
        )
    finally:
        stop_group(proc)
    with Store(url) as store:
        stored = store.scorecards.latest()
    assert [s.scope for s in stored][-1] == "organisation"
    org = stored[-1]
    assert org.card.figure(Metric.CHANGE_FAILURE_RATE).numerator == 2  # bad order release, payment
    assert org.card.figure(Metric.TIME_TO_RESTORE).n == 1  # the order incident, from the alert log
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    org_labels = (("environment", ""), ("scope", "organisation"), ("service", ""))
    median = tuple(sorted((*org_labels, ("quantile", "0.5"))))
    restore = ("sloctl_dora_time_to_restore_seconds", median)
    assert samples[restore] == 1800.0
    failure = ("sloctl_dora_change_failure_rate", org_labels)
    assert samples[failure] == org.card.figure(Metric.CHANGE_FAILURE_RATE).value


def _with_dora(body: bytes | None) -> str | None:
    text = None if body is None else body.decode()
    return text if text and "sloctl_dora_change_failure_rate{" in text else None
