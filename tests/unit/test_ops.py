"""What ops see of a replica: /readyz (each check and which failed), the role on /metrics, JSON
log lines (masked, scheduler quiet) and systemd's readiness datagram."""

from __future__ import annotations

import io
import json
import logging
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from sloctl.errors import StoreError
from sloctl.redact import register_secret
from sloctl.runtime.http import HttpServer, create_app
from sloctl.runtime.leadership import Leadership
from sloctl.runtime.logs import configure_logging, set_context
from sloctl.runtime.readiness import Readiness, RoleCollector
from sloctl.runtime.sdnotify import notify
from sloctl.settings import Settings
from sloctl.store import Store
from tests.support.evaluations import evaluation, slo

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
INTERVAL = 60


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'sloctl.db'}") as s:
        yield s


class Role:
    """A replica's role as readiness sees it."""

    def __init__(self, leader: bool) -> None:
        self.is_leader = leader
        self.role = "leader" if leader else "follower"
        self.replica = "host-a:42"
        self.changes = 3


def save_at(store: Store, age_seconds: int) -> None:
    at = NOW - timedelta(seconds=age_seconds)
    store.evaluations.save(evaluation(at, [slo("checkout", "availability", at, bad=4.0)]))


def ready(store: Store, leader: bool = True, backend_failed: bool | None = False,
          ) -> tuple[bool, dict[str, object]]:
    readiness = Readiness(store.reader(), INTERVAL, Role(leader), lambda: backend_failed,
                          clock=lambda: NOW)
    return readiness.check()


def test_a_leader_is_ready_with_a_fresh_cycle_that_reached_its_backends(store: Store) -> None:
    save_at(store, 170)  # under 3 intervals (180 s)
    ok, body = ready(store)
    assert ok and body["status"] == "ready" and body["failed"] == []
    assert (body["role"], body["replica"]) == ("leader", "host-a:42")
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert checks["last_cycle"]["age_seconds"] == 170.0
    assert checks["last_cycle"]["limit_seconds"] == 180


def test_each_failed_check_is_named(store: Store) -> None:
    assert ready(store)[1]["failed"] == ["last_cycle"]  # nothing stored yet
    save_at(store, 181)
    ok, body = ready(store, backend_failed=True)
    assert not ok and body["failed"] == ["backend", "last_cycle"]
    checks = body["checks"]
    assert isinstance(checks, dict)
    assert "181 s old, more than 3 intervals (180 s)" in checks["last_cycle"]["detail"]
    assert "could not reach a backend" in checks["backend"]["detail"]


def test_a_follower_needs_only_the_store(store: Store) -> None:
    save_at(store, 3600)  # stale, and the backend failing: neither is a follower's concern
    ok, body = ready(store, leader=False, backend_failed=True)
    assert ok and body["role"] == "follower" and list(body["checks"]) == ["store"]  # type: ignore[call-overload]


class BrokenEvaluations:
    def latest_at(self) -> datetime:
        raise StoreError("reading the store postgresql://db/sloctl failed: connection refused")


class BrokenReader:
    evaluations = BrokenEvaluations()


def test_an_unreachable_store_fails_every_replica() -> None:
    for leader in (True, False):
        readiness = Readiness(BrokenReader(), INTERVAL, Role(leader))  # type: ignore[arg-type]
        ok, body = readiness.check()
        assert not ok and body["failed"] == ["store"]
        assert "connection refused" in body["checks"]["store"]["detail"]


def test_readyz_answers_503_with_the_body_and_metrics_show_the_role(
    tmp_path: Path, store: Store
) -> None:
    settings = Settings.model_validate({"receiver": {"host": "127.0.0.1", "port": 0}})
    role = Role(leader=True)
    readiness = Readiness(store.reader(), INTERVAL, role)
    app = create_app(settings, store, readiness=readiness, collectors=[RoleCollector(role)])
    with HttpServer(settings, store, app=app) as server:
        answer = httpx.get(f"{server.url}/readyz")
        assert answer.status_code == 503
        assert answer.json()["failed"] == ["last_cycle"]
        save_at(store, 0)
        readiness.clock = lambda: NOW
        assert httpx.get(f"{server.url}/readyz").status_code == 200
        assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
        metrics = httpx.get(f"{server.url}/metrics").text
    assert 'sloctl_leader{replica="host-a:42"} 1.0' in metrics
    assert 'sloctl_leader_changes_total{replica="host-a:42"} 3.0' in metrics


def test_sole_leadership_leads_from_start_and_says_so(store: Store) -> None:
    seen: list[bool] = []
    sole = Leadership(store, seen.append)
    sole.start()
    assert (sole.is_leader, sole.role, sole.changes, seen) == (True, "leader", 1, [True])
    sole.stop()
    assert (sole.is_leader, sole.changes, seen) == (False, 2, [True, False])


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    out = io.StringIO()
    configure_logging("INFO", "json", stream=out)
    try:
        yield out
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in before:
            root.addHandler(handler)
        root.setLevel(level)


def test_json_lines_carry_time_level_logger_message_fields_and_mask_secrets(
    json_log: io.StringIO,
) -> None:
    register_secret("s3cr3t-token")
    set_context(replica="host-a:42")
    log = logging.getLogger("sloctl.runtime.daemon")
    log.info("evaluated %d SLOs with token %s", 2, "s3cr3t-token",
             extra={"event": "cycle", "slos": 2, "url": "http://x/?t=s3cr3t-token"})
    try:
        raise ValueError("boom s3cr3t-token")
    except ValueError:
        log.exception("cycle failed")
    logging.getLogger("apscheduler.executors.default").info("Running job evaluate")
    logging.getLogger("apscheduler.executors.default").info("Job executed successfully")
    lines = json_log.getvalue().splitlines()
    assert len(lines) == 2  # APScheduler's per-run lines are off
    first, second = (json.loads(line) for line in lines)
    assert first["level"] == "INFO" and first["logger"] == "sloctl.runtime.daemon"
    assert first["message"] == "evaluated 2 SLOs with token ***"
    assert (first["event"], first["slos"], first["replica"]) == ("cycle", 2, "host-a:42")
    assert first["url"] == "http://x/?t=***"
    assert datetime.fromisoformat(first["time"]).tzinfo is not None
    assert first["time"].endswith("Z")
    assert second["level"] == "ERROR" and "ValueError: boom ***" in second["exception"]
    assert "s3cr3t-token" not in json_log.getvalue()


def test_sd_notify_sends_one_datagram_to_notify_socket(tmp_path: Path) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as receiver:
        receiver.bind(str(path))
        assert notify("READY=1\nSTATUS=serving", {"NOTIFY_SOCKET": str(path)}) is True
        assert receiver.recv(4096) == b"READY=1\nSTATUS=serving"
    assert notify("READY=1", {}) is False  # not under systemd: nothing to do
