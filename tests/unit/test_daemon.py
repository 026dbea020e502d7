"""The daemon in-process: one port for /metrics and the webhooks, cycles stored, isolated jobs,
signals, and a bounded stop that finishes or abandons the running cycle."""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sloctl.core.evaluation import Evaluation
from sloctl.errors import SettingsError
from sloctl.runtime.daemon import AfterCycleJob, Daemon
from sloctl.runtime.scheduler import CYCLE_THREAD
from sloctl.settings import Settings
from sloctl.spec.loader import load_specs
from sloctl.spec.models import SLOSpec
from sloctl.store import Store
from tests.support.otlp_receiver import silent_port
from tests.support.processes import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "sloctl" / "demo" / "specs"
FIRING = ROOT / "tests" / "fixtures" / "alertmanager" / "am025_firing.json"
AUTH = {"Authorization": "Bearer t0ken"}


@pytest.fixture(scope="module")
def specs() -> list[SLOSpec]:
    return load_specs([SPECS])


def settings(tmp_path: Path, prometheus_url: str, port: int = 0, timeout: float = 1) -> Settings:
    return Settings.model_validate(
        {
            "store_url": f"sqlite:///{tmp_path / 'sloctl.db'}",
            "prometheus": {"url": prometheus_url, "timeout_seconds": timeout},
            "receiver": {"host": "127.0.0.1", "port": port, "token": "t0ken"},
        }
    )


def ours() -> set[str]:
    """Names of the threads the daemon starts (HTTP, scheduler, cycle, query pool)."""
    prefixes = ("sloctl-", "APScheduler", "query_")
    return {t.name for t in threading.enumerate() if t.name.startswith(prefixes)}


def stored(store_url: str) -> Evaluation | None:
    with Store(store_url) as store:
        return store.evaluations.latest()


def metrics_with_a_cycle(url: str) -> str | None:
    body = httpx.get(f"{url}/metrics").text
    return body if "sloctl_evaluation_queries" in body else None


@pytest.fixture
def down(tmp_path: Path) -> Settings:
    """Settings whose Prometheus refuses connections: every cycle is quick and all unknown."""
    return settings(tmp_path, f"http://127.0.0.1:{free_port()}")


def test_one_port_serves_metrics_health_and_webhooks_and_stop_releases_everything(
    down: Settings, specs: list[SLOSpec]
) -> None:
    before = ours()
    daemon = Daemon(down, specs, interval=3600, tracing=False).start()
    try:
        url = daemon.http_url
        assert url is not None and url.startswith("http://127.0.0.1:")
        body = wait_until(lambda: metrics_with_a_cycle(url), 20, "the first cycle on /metrics")
        ev = daemon.last_evaluation
        assert ev is not None and ev.problems
        assert f"sloctl_evaluation_queries {ev.query_count}.0\n" in body
        assert httpx.get(f"{url}/healthz").json() == {"status": "ok"}
        answer = httpx.post(f"{url}/api/v1/alertmanager", content=FIRING.read_bytes(),
                            headers=AUTH)
        assert (answer.status_code, answer.json()["new"]) == (200, 1)
    finally:
        started = time.monotonic()
        assert daemon.stop() is True
        elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert ours() == before
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as sock:  # the port is free again
        sock.bind(("127.0.0.1", port))
    saved = stored(down.store_url)
    assert saved is not None
    assert (saved.at, saved.query_count, saved.problems) == (ev.at, ev.query_count, ev.problems)
    assert daemon.stop() is True  # idempotent


def test_a_failing_step_does_not_stop_the_next(
    down: Settings, specs: list[SLOSpec], caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[Evaluation] = []

    def explode(_ev: Evaluation) -> None:
        raise RuntimeError("step exploded")

    with Daemon(down, specs, interval=3600, tracing=False) as daemon:
        wait_until(lambda: daemon.cycles or None, 20, "the first cycle")
        daemon.jobs = [AfterCycleJob("exploding", explode), AfterCycleJob("recording", seen.append)]
        ev = stored(down.store_url)
        assert ev is not None
        with caplog.at_level(logging.ERROR, logger="sloctl.runtime.daemon"):
            daemon.run_jobs(ev)
    assert seen == [ev]
    assert "after-cycle step 'exploding' failed" in caplog.text


def test_sigterm_stops_run_until_stopped_and_restores_the_handler(
    down: Settings, specs: list[SLOSpec]
) -> None:
    original = signal.getsignal(signal.SIGTERM)
    daemon = Daemon(down, specs, interval=3600, tracing=False)

    def terminate_after_the_first_cycle() -> None:
        wait_until(lambda: daemon.cycles or None, 20, "the first cycle")
        wait_until(lambda: signal.getsignal(signal.SIGTERM) is not original or None, 5,
                   "the daemon's SIGTERM handler")
        os.kill(os.getpid(), signal.SIGTERM)

    killer = threading.Thread(target=terminate_after_the_first_cycle)
    killer.start()
    try:
        assert daemon.run_until_stopped() is True
    finally:
        killer.join()
        daemon.stop()
    assert signal.getsignal(signal.SIGTERM) is original
    assert stored(down.store_url) is not None


def test_a_sigterm_sent_as_soon_as_it_says_ready_stops_it_gracefully(
    down: Settings, specs: list[SLOSpec]
) -> None:
    """``ready`` (serve's READY=1 to systemd) comes once SIGTERM is routed: a SIGTERM at once
    stops the daemon instead of killing the process."""
    original = signal.getsignal(signal.SIGTERM)
    daemon = Daemon(down, specs, interval=3600, tracing=False)
    try:
        assert daemon.run_until_stopped(
            ready=lambda: os.kill(os.getpid(), signal.SIGTERM)) is True
    finally:
        daemon.stop()
    assert signal.getsignal(signal.SIGTERM) is original


@pytest.fixture
def hanging(tmp_path: Path) -> Iterator[Settings]:
    """Settings whose Prometheus accepts connections and never answers (3 s timeout)."""
    with silent_port() as port:
        yield settings(tmp_path, f"http://127.0.0.1:{port}", timeout=3)


def test_stop_abandons_a_cycle_that_outlasts_the_grace_and_stores_nothing(
    hanging: Settings, specs: list[SLOSpec]
) -> None:
    daemon = Daemon(hanging, specs, interval=3600, cycle_grace_seconds=0.5, tracing=False)
    scheduler = daemon.start().scheduler
    assert scheduler is not None
    wait_until(lambda: scheduler.busy or None, 10, "a running cycle")
    started = time.monotonic()
    assert daemon.stop() is False
    elapsed = time.monotonic() - started
    assert elapsed < 2.5  # 0.5 s of grace, then the parts close
    # the abandoned cycle ends once its queries in flight time out (3 s); nothing is stored
    wait_until(lambda: not any(n.startswith(CYCLE_THREAD) for n in ours()) or None, 15,
               "the abandoned cycle's end")
    assert stored(hanging.store_url) is None
    assert daemon.source is not None and daemon.source.queries_sent <= 8  # queued ones not sent


def test_a_busy_port_fails_start_and_leaves_nothing_running(
    tmp_path: Path, specs: list[SLOSpec]
) -> None:
    before = ours()
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        config = settings(tmp_path, f"http://127.0.0.1:{free_port()}", port=busy.getsockname()[1])
        daemon = Daemon(config, specs, tracing=False)
        with pytest.raises(SettingsError, match="SLOCTL_RECEIVER_PORT"):
            daemon.start()
    assert ours() == before
    assert daemon.stop() is True
