"""Three real `sloctl serve` replicas on one PostgreSQL store, under Alertmanager-webhook load.

A live shop scraped by a real Prometheus (payment runs above 0.5 % errors, so its default alert
fires), a real Alertmanager behind a recording proxy (each replica posts through its own path),
a real SMTP sink for the weekly report. Exactly one replica leads; kill -9 it; another takes
over within 2 intervals; then SIGTERM hands over to the last one. Afterwards: no evaluation
instant or slot stored twice, no cycle's alerts posted by two replicas, the alert fired once
and Alertmanager still holds it from its first start, one email, and every webhook answered 2xx
stored exactly once. Logs are JSON, with the leadership changes, and never show the password.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sloctl.demo.alertmanager_server import AlertmanagerServer
from sloctl.demo.live import LiveExporter
from sloctl.demo.mail_sink import MailSink
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import shop_scenario
from sloctl.runtime.http import WEBHOOK_PATH
from sloctl.store import StoreReader
from tests.support.postgres import PostgresCluster
from tests.support.processes import free_port, http_get, stop_group, wait_until
from tests.support.replicas import AlertmanagerProxy, WebhookLoad, WebhookSink
from tests.support.sloctl_process import run_sloctl, sloctl_env
from tests.support.store_backends import postgres  # noqa: F401 (fixture)

pytestmark = pytest.mark.integration
INTERVAL = 3  # seconds; replicas poll the leader lock every 0.6 s
TOKEN = "replica-token"
VALID_FOR = timedelta(seconds=4 * 60)  # a firing alert's endsAt - its cycle's end
PASSWORD = "pw-never-logged"  # the cluster trusts every login; the URL carries it all the same
CONFIG = """\
default_alerts:
  error_ratio: {{for_seconds: 0}}
  latency_p95: {{for_seconds: 0}}
data_quality: {{min_short_window_coverage: 0}}
report:
  schedule: "* * * * *"
  grace_seconds: 3600
  retry_initial_seconds: 1
  organisation: [cto@example.com]
  smtp: {{host: 127.0.0.1, port: {port}, security: none}}
"""


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    """A Prometheus scraping the live shop every second."""
    root = tmp_path_factory.mktemp("replicas-shop")
    with LiveExporter(shop_scenario(datetime.now(UTC))) as live, PrometheusServer(
        root / "prom", scrape_targets=[live.target], scrape_interval="1s"
    ) as prom:
        # 20 scrapes first: on its first one or two samples every short window's ratio is
        # noise, and an alert that fires and resolves there is notified again when it comes back
        wait_until(lambda: scrapes(prom) >= SETTLE_SCRAPES or None, 60, "20 scrapes of the shop")
        yield prom


SETTLE_SCRAPES = 20


def scrapes(prom: PrometheusServer) -> int:
    """Samples of ``up`` in the last minute: how many times the shop has been scraped."""
    url = f"{prom.url}/api/v1/query?query=count_over_time(up%5B1m%5D)"
    body = http_get(url)
    result = json.loads(body)["data"]["result"] if body else []
    return int(float(result[0]["value"][1])) if result else 0


@dataclass
class Replica:
    number: int
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def ready(self) -> dict[str, Any] | None:
        """/readyz's body whatever its status (None while not answering)."""
        import urllib.error
        import urllib.request

        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as answer:
                body: dict[str, Any] = json.loads(answer.read())
        except urllib.error.HTTPError as err:
            body = json.loads(err.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None
        return body

    def role(self) -> str | None:
        body = self.ready()
        return None if body is None else str(body["role"])

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


def start(number: int, env: dict[str, str], cwd: Path, proxy: AlertmanagerProxy) -> Replica:
    port = free_port()
    log = cwd / f"replica{number}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sloctl.cli.main", "serve", "--interval", str(INTERVAL)],
            env={**env, "SLOCTL_RECEIVER_PORT": str(port),
                 "SLOCTL_ALERTMANAGER_URL": proxy.url_for(number)},
            cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    replica = Replica(number, proc, f"http://127.0.0.1:{port}", log)
    wait_until(replica.role, 60, f"replica {number} answering /readyz", proc)
    return replica


def leaders(replicas: list[Replica]) -> list[Replica]:
    return [r for r in replicas if r.proc.poll() is None and r.role() == "leader"]


def one_leader(replicas: list[Replica]) -> Replica | None:
    found = leaders(replicas)
    return found[0] if len(found) == 1 else None


def query(url: str, sql: str) -> list[tuple[Any, ...]]:
    with StoreReader(url) as reader, reader.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(text(sql))]


def latest_at(url: str) -> datetime | None:
    with StoreReader(url) as reader:
        return reader.evaluations.latest_at()


def newer(url: str, than: datetime | None) -> datetime | None:
    """The latest evaluation's instant once it is later than ``than``."""
    at = latest_at(url)
    return at if at is not None and than is not None and at > than else None


def cycles_posted(body: list[dict[str, Any]], finished: set[datetime]) -> set[datetime]:
    """The stored cycles a POST to Alertmanager came from: a firing alert's endsAt is its
    cycle's end + valid_for (4 x interval_seconds of the settings, 60 s here)."""
    ends = {datetime.fromisoformat(a["endsAt"].replace("Z", "+00:00")) for a in body}
    return {end - VALID_FOR for end in ends} & finished


def milliseconds(at: datetime) -> datetime:
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def test_one_leader_survives_kill_9_and_sigterm_with_nothing_lost_or_doubled(
    tmp_path: Path, prometheus: PrometheusServer, postgres: PostgresCluster  # noqa: F811
) -> None:
    postgres.create_database("replicas")
    url = postgres.url("replicas", password=PASSWORD)
    with (
        MailSink(tmp_path / "mail") as mail,
        WebhookSink() as notified,
        AlertmanagerServer(tmp_path / "am", webhook_url=notified.url, token=TOKEN) as am,
        AlertmanagerProxy(am.url) as proxy,
    ):
        config = tmp_path / "sloctl.yaml"
        config.write_text(CONFIG.format(port=mail.port))
        env = sloctl_env(tmp_path, store_url=url, prometheus_url=prometheus.url,
                         config=str(config), receiver_token=TOKEN, log_format="json")
        upgraded = run_sloctl(["db", "upgrade"], env, tmp_path)
        assert upgraded.returncode == 0, upgraded.stderr
        replicas: list[Replica] = []
        try:
            for number in range(3):
                replicas.append(start(number, env, tmp_path, proxy))
            first = wait_until(lambda: one_leader(replicas), 30, "one leader")
            wait_until(lambda: len(mail.messages) or None, 90, "the weekly email sent")
            wait_until(lambda: notified.bodies or None, 90, "Alertmanager notifying an alert")
            with WebhookLoad([r.url + WEBHOOK_PATH for r in replicas], TOKEN) as load:
                time.sleep(INTERVAL)  # load on every replica for one interval
                before = latest_at(url)
                killed_at = time.monotonic()
                os.kill(first.proc.pid, signal.SIGKILL)
                first.proc.wait(10)
                survivors = [r for r in replicas if r is not first]
                second = wait_until(lambda: one_leader(survivors), 2 * INTERVAL, "a new leader",
                                    interval=0.05)
                elected = time.monotonic() - killed_at
                wait_until(lambda: newer(url, before), 2 * INTERVAL, "the new leader's cycle",
                           interval=0.05)
                evaluated = time.monotonic() - killed_at
                time.sleep(2 * INTERVAL)  # the new leader under load for two more intervals
            third = next(r for r in survivors if r is not second)
            assert third.role() == "follower"
            assert b"sloctl_leader{" in (http_get(f"{third.url}/metrics") or b"")
            stopped_at = time.monotonic()
            second.proc.send_signal(signal.SIGTERM)
            assert second.proc.wait(15) == 0
            stop_seconds = time.monotonic() - stopped_at
            wait_until(lambda: third.role() == "leader" or None, 2 * INTERVAL, "the handover",
                       interval=0.05)
            handover = time.monotonic() - stopped_at
            after_handover = latest_at(url)
            wait_until(lambda: newer(url, after_handover), 3 * INTERVAL, "the last one's cycle")
            third.proc.send_signal(signal.SIGTERM)
            assert third.proc.wait(15) == 0
        finally:
            for replica in replicas:
                stop_group(replica.proc)
        alertmanager_alerts = am.alerts()
    print(f"\nkill -9: new leader after {elected:.2f} s, its first stored cycle after "
          f"{evaluated:.2f} s; SIGTERM: exit in {stop_seconds:.2f} s, handover after "
          f"{handover:.2f} s; webhooks acknowledged {len(load.acked)}, failed {load.failed}; "
          f"posts to Alertmanager {len(proxy.posts)}")
    assert evaluated < 2 * INTERVAL

    # no evaluation instant or slot stored twice; every stored cycle is a serve cycle
    rows = query(url, "SELECT at, cycle_slot FROM evaluations ORDER BY at")
    assert len(rows) >= 6
    assert len({at for at, _ in rows}) == len(rows)
    assert len({slot for _, slot in rows}) == len(rows) and None not in {s for _, s in rows}

    # every webhook answered 2xx is stored exactly once
    stored = dict(query(url, "SELECT fingerprint, count(*) FROM am_alerts "
                             "WHERE fingerprint LIKE 'load%' GROUP BY fingerprint"))
    assert len(load.acked) >= 100
    assert {f: stored.get(f) for f in load.acked} == dict.fromkeys(load.acked, 1)

    # every POST carries one stored cycle, posted by one replica: the leader of the time
    finished = {milliseconds(at) for (at,) in query(url, "SELECT finished_at FROM evaluations")}
    posters: dict[datetime, set[int]] = {}
    for poster, _at, body in proxy.posts:
        [cycle] = cycles_posted(body, finished)
        posters.setdefault(cycle, set()).add(poster)
    assert all(len(who) == 1 for who in posters.values())
    assert {r for r, at, _ in proxy.posts if at > killed_at} <= {second.number, third.number}
    assert {r for r, at, _ in proxy.posts if at <= killed_at} == {first.number}
    assert len(posters) <= len(rows)

    # payment's alert fired once across three leaders; Alertmanager holds it from that start
    [(fired_at,)] = query(url, "SELECT fired_at FROM alert_transitions WHERE state = 'firing' "
                               "AND service = 'payment' AND slo_id IS NULL AND rule LIKE 'error%'")
    [held] = [a for a in alertmanager_alerts if a["labels"].get("service") == "payment"
              and a["labels"]["alertname"] == "ServiceErrorRatioHigh"]
    assert datetime.fromisoformat(held["startsAt"].replace("Z", "+00:00")) == fired_at
    groups = Counter((b["groupKey"], b["status"]) for b in notified.bodies)
    assert all(count == 1 for count in groups.values()), groups

    # one weekly email, sent once, whoever led
    sends = query(url, "SELECT state, attempts FROM report_sends")
    assert sends == [("sent", 1)] and len(mail.messages) == 1

    # JSON logs: leadership in them, the password never
    for replica in replicas:
        lines = replica.lines()
        assert all({"time", "level", "logger", "message"} <= set(line) for line in lines)
        assert PASSWORD not in replica.log.read_text()
        assert not any("Running job" in line["message"] for line in lines)
    took_over = [line for line in second.lines() if line.get("event") == "leadership"
                 and line.get("role") == "leader"]
    assert len(took_over) == 1 and "took the free leader lock" in took_over[0]["message"]
