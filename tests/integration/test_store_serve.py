"""The store under real `sloctl` processes: `sloctl serve --upgrade-db` on PostgreSQL keeps its
alert states across a restart; on SQLite, `sloctl serve` and concurrent `sloctl eval` and
`sloctl deploy record` processes never fail on a locked database.

Live shop traffic scraped by a real Prometheus every second: payment runs above the 0.5 % error
ratio, so its default error-ratio alert fires (``for: 0s``) once Prometheus has some scrapes.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.demo.live import LiveExporter
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import shop_scenario
from sloctl.errors import StoreError
from sloctl.store import StoreReader
from tests.support.postgres import PostgresCluster
from tests.support.processes import free_port, wait_until
from tests.support.sloctl_process import run_sloctl, sloctl_env
from tests.support.store_backends import postgres  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
CONFIG = ("default_alerts:\n  error_ratio: {for_seconds: 0}\n  latency_p95: {for_seconds: 0}\n"
          "data_quality: {min_short_window_coverage: 0}\n")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A Prometheus scraping the live shop every second."""
    root = tmp_path_factory.mktemp("live-shop")
    with LiveExporter(shop_scenario(datetime.now(UTC))) as live, PrometheusServer(
        root / "prom", scrape_targets=[live.target], scrape_interval="1s"
    ) as prom:
        yield prom


def env_for(tmp_path: Path, prom: PrometheusServer, store_url: str) -> dict[str, str]:
    config = tmp_path / "sloctl.yaml"
    config.write_text(CONFIG)
    return sloctl_env(tmp_path, store_url=store_url, prometheus_url=prom.url, config=str(config),
                      receiver_port=str(free_port()))


def serve(env: dict[str, str], cwd: Path, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "sloctl.cli.main", "serve", "--interval", "1", *extra],
        env=env, cwd=cwd, stdout=(cwd / "serve.log").open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes], cwd: Path) -> str:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    log = (cwd / "serve.log").read_text(errors="replace")
    assert proc.returncode == 0, log[-3000:]
    return log


def payment_firing(url: str) -> AlertStatus | None:
    """payment's default error-ratio alert, once the store holds it firing."""
    try:
        with StoreReader(url) as reader:
            states = reader.alerts.states()
    except StoreError:  # serve has not created the schema yet
        return None
    return next((a for a in states.values() if a.service == "payment" and a.slo_id is None
                 and a.rule.startswith("error") and a.state is AlertState.FIRING), None)


def evaluations(url: str) -> int:
    """Evaluations stored so far (0 while serve has not created the schema yet)."""
    try:
        reader = StoreReader(url)
    except StoreError:
        return 0
    with reader:
        latest = reader.evaluations.latest()
        return 0 if latest is None else len(reader.evaluations.slo_history(
            latest.slos[0].slo_id, datetime(2000, 1, 1, tzinfo=UTC), max_points=None))


def test_serve_on_postgresql_keeps_alert_states_across_a_restart(
    tmp_path: Path, prometheus: PrometheusServer, postgres: PostgresCluster  # noqa: F811
) -> None:
    url = postgres.create_database("serve")
    env = env_for(tmp_path, prometheus, url)
    first = serve(env, tmp_path, "--upgrade-db")  # a new database: serve creates the schema
    try:
        fired = wait_until(lambda: payment_firing(url), 120, "payment firing in the store", first)
    finally:
        log = stop(first, tmp_path)
    assert "database is locked" not in log
    stored = evaluations(url)
    assert stored >= 1

    second = serve(env, tmp_path)  # the schema is current: no --upgrade-db needed
    try:
        again = wait_until(
            lambda: ((a := payment_firing(url)) is not None and a.updated_at > fired.updated_at
            and a) or None, 60, "a cycle of the restarted serve", second)
    finally:
        stop(second, tmp_path)
    assert again.fired_at == fired.fired_at  # resumed from the store, not fired anew
    assert again.active_since == fired.active_since
    assert evaluations(url) > stored
    with StoreReader(url) as reader:
        fires = [t for t in reader.alerts.transitions() if t.key == fired.key
                 and t.state is AlertState.FIRING]
    assert len(fires) == 1  # one firing transition across both processes


def test_sqlite_serve_and_concurrent_commands_never_lock(
    tmp_path: Path, prometheus: PrometheusServer
) -> None:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    env = env_for(tmp_path, prometheus, url)
    proc = serve(env, tmp_path)
    try:
        wait_until(lambda: evaluations(url) or None, 60, "serve's first stored cycle", proc)

        def command(i: int) -> subprocess.CompletedProcess[str]:
            if i % 3 == 2:
                return run_sloctl(
                    ["deploy", "record", "--service", "payment", "--environment", "production",
                     "--version", f"v{i}", "--sha", f"{i:07x}",
                     "--commit-time", "2026-11-27T08:00:00Z",
                     "--finished", f"2026-11-27T09:{i:02d}:00Z", "--status", "success"],
                    env, tmp_path)
            return run_sloctl(["eval", "--quiet", "--output", "json"], env, tmp_path)

        with ThreadPoolExecutor(max_workers=3) as pool:  # 2 cores: 3 commands + serve at once
            results = list(pool.map(command, range(9)))
    finally:
        log = stop(proc, tmp_path)
    for r in results:
        assert r.returncode == 0, r.stderr[-2000:]
        assert "locked" not in r.stderr + r.stdout
    assert "locked" not in log
    with StoreReader(url) as reader:
        assert len(reader.deployments.history()) == 3
    assert evaluations(url) >= 6 + 1  # every eval's cycle stored, and serve's
