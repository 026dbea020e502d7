"""Staleness end to end: while `sloctl serve` evaluates, `status` is fresh and /metrics carries
the last evaluation's instant (the input of the generated SloctlEvaluationStale rule); once
serve stops, the same `status` turns stale (exit 5) as the data ages past --max-age."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner, Result

from sloctl.cli.main import app
from sloctl.demo.process import free_port
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.errors import EXIT_OK, EXIT_STALE
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration
SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


def last_evaluation(port: int) -> float | None:
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    except httpx.HTTPError:
        return None
    return next((s.value for f in text_string_to_metric_families(text) for s in f.samples
                 if s.name == "sloctl_last_evaluation_timestamp_seconds"), None)


def test_status_is_fresh_while_serve_runs_and_stale_after(
    prometheus_shop: PrometheusServer, tmp_path: Path
) -> None:
    port = free_port()
    env = {"SLOCTL_PROMETHEUS_URL": prometheus_shop.url,
           "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "SLOCTL_SPECS": str(SPECS),
           "SLOCTL_RECEIVER_PORT": str(port), "SLOCTL_INTERVAL": "5", "SLOCTL_CONFIG": ""}
    proc = subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", "serve"],
                            env={**os.environ, **env}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)

    def status(*args: str) -> Result:
        return CliRunner().invoke(app, ["status", "-o", "json", *args], env=env)

    try:
        stamp = wait_until(lambda: last_evaluation(port), 90, "a stored evaluation", proc)
        fresh = status()
        assert fresh.exit_code == EXIT_OK, fresh.output
        doc = json.loads(fresh.stdout)
        assert doc["stale"] is False and doc["max_age_seconds"] == 15  # 3 intervals of 5 s
        assert datetime.fromisoformat(doc["evaluated_at"]).timestamp() >= stamp
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stale = wait_until(lambda: r if (r := status("--max-age", "2s")).exit_code == EXIT_STALE
                       else None, 30, "status turning stale")
    assert json.loads(stale.stdout)["stale"] is True
    assert "stale data: the last evaluation" in stale.stderr
