"""The on-call CLI end to end against the real Prometheus: output, JSON and exit codes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.demo.process import free_port
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.store import Store

pytestmark = pytest.mark.integration

SPECS = Path(__file__).resolve().parents[2] / "sloctl" / "demo" / "specs"


def env_for(url: str, store: Path) -> dict[str, str]:
    return {"SLOCTL_PROMETHEUS_URL": url, "SLOCTL_STORE_URL": f"sqlite:///{store}",
            "SLOCTL_SPECS": str(SPECS), "SLOCTL_PROMETHEUS_TIMEOUT": "5", "COLUMNS": "160"}


@pytest.fixture()
def cli(prometheus_shop: PrometheusServer, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    for k, v in env_for(prometheus_shop.url, tmp_path / "s.db").items():
        monkeypatch.setenv(k, v)
    return CliRunner()


def test_eval_json_then_status_and_fail_on(cli: CliRunner, shop_end: datetime) -> None:
    first = cli.invoke(app, ["eval", "--at", (shop_end - timedelta(minutes=5)).isoformat(),
                             "-q", "--output", "json"])
    assert first.exit_code == 0, first.output
    r = cli.invoke(app, ["eval", "--at", shop_end.isoformat(), "-o", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["at"] == shop_end.isoformat()
    assert len(doc["slos"]) == 11 and doc["problems"] == []
    payment = next(s for s in doc["slos"] if s["slo_id"] == "payment/availability")
    one_hour = next(w for w in payment["windows"] if w["window"] == 3600)
    assert one_hour["error_ratio"] == pytest.approx(0.012, abs=5e-4)
    firing = {(a["rule"], a["service"]) for a in doc["alerts"] if a["state"] == "firing"}
    assert ("error_ratio", "payment") in firing and ("latency_p95", "inventory") in firing

    # the evaluation is 2-3 h old: stale past the default limit (3 intervals), fresh --at it
    stale = cli.invoke(app, ["status"])
    assert stale.exit_code == 5 and "stale data" in stale.stderr
    at = ["--at", shop_end.isoformat()]
    status = cli.invoke(app, ["status", *at])
    assert status.exit_code == 0
    assert "payment/availability" in status.stdout and "firing" in status.stdout
    assert "data 0 s old" in status.stderr
    assert cli.invoke(app, ["status", *at, "--fail-on", "alert"]).exit_code == 1
    # over 28 days every SLO still meets its objective (the trouble is in the last 1-2 days)
    assert cli.invoke(app, ["status", *at, "--fail-on", "breach"]).exit_code == 0

    show = cli.invoke(app, ["slo", "show", "payment/availability", *at])
    assert show.exit_code == 0
    assert "Burn-rate alerts" in show.stdout and "3d" in show.stdout
    unknown = cli.invoke(app, ["slo", "show", "nope", *at])
    assert unknown.exit_code == 2 and "Known SLOs" in unknown.stderr

    sig = cli.invoke(app, ["signals", "payment", "-o", "json", "--max-age", "0"])
    values = {v["signal"]: v["value"] for v in json.loads(sig.stdout)}
    assert values["error_ratio"] == pytest.approx(0.012, abs=1e-3)
    assert set(values) == {"traffic", "error_ratio", "latency_p50", "latency_p95",
                           "latency_p99", "saturation"}


def test_status_on_an_empty_store_says_what_to_do(cli: CliRunner) -> None:
    r = cli.invoke(app, ["status"])
    assert r.exit_code == 2
    assert "sloctl eval" in r.stderr


def test_eval_with_prometheus_down_exits_3_and_stores_unknowns(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shop_end: datetime
) -> None:
    store = tmp_path / "s.db"
    for k, v in env_for(f"http://127.0.0.1:{free_port()}", store).items():
        monkeypatch.setenv(k, v)
    r = CliRunner().invoke(app, ["eval", "--at", shop_end.isoformat(), "-q"])
    assert r.exit_code == 3, r.output
    assert "connection refused" in r.stderr
    ev = Store(f"sqlite:///{store}").evaluations.latest()
    assert ev is not None and all(s.sli is None for s in ev.slos)
    status = CliRunner().invoke(app, ["status"])
    assert "unknown" in status.stdout


def test_bad_spec_exits_2_with_location(cli: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: sloctl/v1\nkind: SLO\nmetadata: {name: x}\n"
                   "spec:\n  service: a\n  objective: 995\n  window: 28d\n"
                   "  indicator: {preset: otel-http-availability}\n")
    r = cli.invoke(app, ["eval", "--spec", str(bad), "-q"])
    assert r.exit_code == 2
    assert f"{bad}:6" in r.stderr and "spec.objective" in r.stderr


def test_bad_at_is_a_usage_error(cli: CliRunner) -> None:
    r = cli.invoke(app, ["eval", "--at", "yesterday-ish"])
    assert r.exit_code == 2
    assert "ISO 8601" in r.output


def test_serve_evaluates_and_stops_cleanly_on_sigterm(
    prometheus_shop: PrometheusServer, tmp_path: Path
) -> None:
    store = tmp_path / "serve.db"
    port = free_port()
    env = {**os.environ, **env_for(prometheus_shop.url, store),
           "SLOCTL_RECEIVER_PORT": str(port), "SLOCTL_RECEIVER_TOKEN": "t0ken"}
    proc = subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", "serve", "--interval", "1"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90  # generous: CI machines can be loaded
        count = 0
        while time.monotonic() < deadline and count < 2:
            time.sleep(0.5)
            if store.exists():
                with sqlite3.connect(store) as db, contextlib.suppress(sqlite3.OperationalError):
                    # the file can exist a moment before serve has created its tables
                    count = db.execute("select count(*) from evaluations").fetchone()[0]
        assert count >= 2, "serve did not store two evaluations"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5)
        assert metrics.status_code == 200
        assert "sloctl_evaluation_timestamp_seconds" in metrics.text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out.decode()
    assert b"stopped" in out
