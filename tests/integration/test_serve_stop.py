"""``sloctl serve`` as a process: one listening port, and SIGTERM ends it with exit 0 within a
bound even when its trace collector never answers."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.support.otlp_receiver import silent_port
from tests.support.processes import free_port, http_get, wait_until
from tests.support.sloctl_process import sloctl_env, sloctl_serve

pytestmark = pytest.mark.integration

# Prometheus refuses (cycles are quick); the collector accepts and never answers: the exporter's
# 1 s timeout and the 1.5 s shutdown budget bound the stop, the HTTP server stops within ~1 s.
STOP_BOUND_SECONDS = 5.0


def first_cycle_on(metrics_url: str) -> bytes | None:
    body = http_get(metrics_url)
    return body if body and b"sloctl_evaluation_queries" in body else None


def test_sigterm_stops_serve_with_exit_0_within_the_bound_on_one_port(tmp_path: Path) -> None:
    port = free_port()
    with silent_port() as collector:
        env = sloctl_env(
            tmp_path,
            otlp_endpoint=f"http://127.0.0.1:{collector}",
            prometheus_url=f"http://127.0.0.1:{free_port()}",
            receiver_port=str(port),
        )
        with sloctl_serve(env, tmp_path) as serve:
            wait_until(lambda: first_cycle_on(f"http://127.0.0.1:{port}/metrics"), 60,
                       "serve's first cycle", serve.proc)
            listening = {
                c.laddr.port
                for c in psutil.Process(serve.proc.pid).net_connections(kind="tcp")
                if c.status == psutil.CONN_LISTEN
            }
            assert listening == {port}  # /metrics, /healthz and the webhooks: one server
            stopped = serve.terminate()
    assert stopped.returncode == 0, stopped.output[-2000:]
    assert stopped.seconds < STOP_BOUND_SECONDS, stopped.output[-2000:]
    assert stopped.output.rstrip().endswith("sloctl serve: stopped")
    print(f"SIGTERM to exit: {stopped.seconds:.2f} s with a collector that never answers")
