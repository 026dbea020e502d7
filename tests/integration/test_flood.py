"""``sloctl serve`` under a small bounded flood (bench/flood.py runs the big one): idle,
slow-header and slow-body connections beyond its connection cap for a few seconds.

Functional bounds, measured generously: /healthz answers within 1 s throughout, the log stays
small (one summary line per 10 s, no traceback), every flood connection is closed by the server
afterwards, and the RSS comes back near where it was.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import psutil

from tests.support.flood import probe, spawn
from tests.support.processes import free_port, http_get, wait_until
from tests.support.sloctl_process import sloctl_env, sloctl_serve

TOKEN = "flood-token-1234"
SECONDS = 8.0


def test_serve_holds_a_flood_of_idle_and_slow_connections(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "sloctl.yaml"
    config.write_text(
        "receiver:\n"
        "  max_connections: 300\n"
        "  idle_timeout_seconds: 1\n"
        "  header_timeout_seconds: 2\n"
        "  body_timeout_seconds: 2\n"
    )
    env = sloctl_env(tmp_path, config=str(config), receiver_port=str(port),
                     receiver_token=TOKEN, prometheus_url=f"http://127.0.0.1:{free_port()}")
    with sloctl_serve(env, tmp_path, interval=60) as serving:
        wait_until(lambda: http_get(f"http://127.0.0.1:{port}/healthz"), 60, "serve",
                   serving.proc)
        process = psutil.Process(serving.proc.pid)
        rss_before = process.memory_info().rss
        log_before = serving.log.stat().st_size

        attacker = spawn("127.0.0.1", port, idle=1500, slow_headers=100, slow_bodies=100,
                         seconds=SECONDS, token=TOKEN)
        try:
            health = asyncio.run(probe("127.0.0.1", port, seconds=SECONDS))
            out, _ = attacker.communicate(timeout=60)
        finally:
            attacker.kill()
            attacker.wait()
        assert health.failures == [], health.failures
        assert health.worst < 1.0
        assert json.loads(out)["opened"] > 1700

        def no_flood_left() -> bool | None:
            open_ = [c for c in process.net_connections("tcp")
                     if c.laddr and c.laddr.port == port and c.status == "ESTABLISHED"]
            return True if not open_ else None

        wait_until(no_flood_left, 15, "the server closing every flood connection")
        log = serving.log.read_text(errors="replace")[log_before:]
        assert len(log.encode()) < 20_000, log[-2000:]
        assert "Traceback" not in log
        rss_after = process.memory_info().rss
        assert rss_after < rss_before * 1.2 + 30 * 2**20, (rss_before, rss_after)
        stopped = serving.terminate()
    assert stopped.returncode == 0
