"""Deployment events from Loki (fake Loki on 127.0.0.1 with Loki's real answer shapes).

Stream {app="deployer", service_name="checkout", env="production"} holds five lines at N-50..N-10
minutes (N = now, whole minutes): two good native events (one without service/environment, taken
from the stream labels), one line that is not JSON, one with an unknown status, one with a commit
time in the future. A second stream {app="other"} is not selected.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.dora.deploy_sources import DeployImportJob, import_from_loki, ingest_deployments
from sloctl.dora.model import Deployment, DeployStatus
from sloctl.settings import DeploySourceSettings, DoraSettings, LokiSettings, Settings
from sloctl.sources.loki import LokiSource, to_ns
from sloctl.store import Store
from tests.support.fake_loki import FakeLoki, FakeStream

N = datetime.now(UTC).replace(second=0, microsecond=0)
MIN = timedelta(minutes=1)
SHA1, SHA2 = "a1b2c3d4e5f6", "0f9e8d7c6b5a"


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def line(version: str, sha: str, finished: datetime, **extra: Any) -> str:
    body = {
        "level": "info",
        "msg": "deployed",
        "version": version,
        "commit_sha": sha,
        "commit_time": iso(finished - 30 * MIN),
        "finished_at": iso(finished),
        "status": "success",
        **extra,
    }
    return json.dumps(body)


GOOD_1 = line("v1.0.0", SHA1, N - 50 * MIN, service="checkout", environment="production")
GOOD_2 = line("v1.1.0", SHA2, N - 40 * MIN)  # service and environment from the stream labels
NOT_JSON = "deploy finished: v1.2.0"
BAD_STATUS = line("v1.3.0", SHA2, N - 20 * MIN, status="done")
FUTURE = line("v1.4.0", SHA2, N - 10 * MIN, commit_time=iso(N + 60 * MIN))
LINES = [
    (N - 50 * MIN, GOOD_1),
    (N - 40 * MIN, GOOD_2),
    (N - 30 * MIN, NOT_JSON),
    (N - 20 * MIN, BAD_STATUS),
    (N - 10 * MIN, FUTURE),
]
EXPECTED = [
    Deployment(
        "checkout", "production", "v1.0.0", SHA1, N - 50 * MIN, DeployStatus.SUCCESS, N - 80 * MIN
    ),
    Deployment(
        "checkout", "production", "v1.1.0", SHA2, N - 40 * MIN, DeployStatus.SUCCESS, N - 70 * MIN
    ),
]


def streams() -> list[FakeStream]:
    labels = {"app": "deployer", "service_name": "checkout", "env": "production"}
    return [
        FakeStream(labels, [(to_ns(at), text, {}) for at, text in LINES]),
        FakeStream({"app": "other"}, [(to_ns(N - 45 * MIN), GOOD_1.replace("v1.0.0", "v9"), {})]),
    ]


@pytest.fixture
def loki() -> Iterator[FakeLoki]:
    with FakeLoki(streams(), now_ns=to_ns(N)) as server:
        yield server


def settings(url: str, store_url: str = "sqlite://") -> Settings:
    sources = DeploySourceSettings(loki_selector='{app="deployer"}', environment_label="env")
    return Settings(
        loki=LokiSettings(url=url), store_url=store_url, dora=DoraSettings(sources=sources)
    )


def test_good_lines_are_stored_bad_ones_counted_with_their_reason(loki: FakeLoki) -> None:
    s = settings(loki.url)
    store = Store(s.store_url).deployments
    with LokiSource(s.loki) as source:
        report = import_from_loki(s, store, source, N - 60 * MIN, N, N)
    assert report.created == EXPECTED
    assert store.history() == EXPECTED
    reasons = [(b.at, b.reason) for b in report.bad]
    assert reasons == [
        (N - 30 * MIN, "invalid deployment event: <line>: is not JSON (Expecting value at char 0)"),
        (
            N - 20 * MIN,
            "invalid deployment event: status: unknown status 'done'; use one of success, "
            "failure, rollback, cancelled",
        ),
        (
            N - 10 * MIN,
            f"invalid deployment event: commit_time: {(N + 60 * MIN).isoformat()} is in the "
            f"future (now {N.isoformat()}); send the real completion time",
        ),
    ]
    assert report.bad[0].excerpt == NOT_JSON
    assert loki.requests[-1].params["query"] == ['{app="deployer"}']


def test_reimport_is_idempotent(loki: FakeLoki) -> None:
    s = settings(loki.url)
    store = Store(s.store_url).deployments
    first = ingest_deployments(s, store, N, N - 60 * MIN)
    again = ingest_deployments(s, store, N, N - 60 * MIN)
    assert [(r.source, len(r.created), len(r.updated), len(r.bad)) for r in first + again] == [
        ("loki", 2, 0, 3),
        ("loki", 0, 2, 3),
    ]
    assert store.history() == EXPECTED


def test_serve_job_imports_then_waits_and_reports_a_down_loki(loki: FakeLoki) -> None:
    s = settings(loki.url)
    store = Store(s.store_url).deployments
    clock = iter([N, N + 1 * MIN, N + 5 * MIN])
    job = DeployImportJob(s, store, clock=lambda: next(clock))
    reports = job.maybe_run()
    assert reports is not None and [len(r.created) for r in reports] == [2]
    assert job.maybe_run() is None  # one minute later: throttled
    down = DeployImportJob(settings("http://127.0.0.1:9"), store, clock=lambda: N)
    (failed,) = down.maybe_run() or []
    assert failed.error is not None and "cannot connect to http://127.0.0.1:9" in failed.error
    assert down.last_success is None and down.last_run == N


def test_cli_import_from_loki(
    loki: FakeLoki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "sloctl.yaml"
    config.write_text(
        f"loki: {{url: '{loki.url}'}}\n"
        "dora:\n  sources:\n    loki_selector: '{app=\"deployer\"}'\n    environment_label: env\n"
    )
    env = {"SLOCTL_CONFIG": str(config), "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'db'}"}
    result = CliRunner().invoke(
        app, ["deploy", "import", "--from", "loki", "--since", "2h", "--output", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [d["version"] for d in report["created"]] == ["v1.0.0", "v1.1.0"]
    assert len(report["bad"]) == 3
    off = CliRunner().invoke(app, ["deploy", "import", "--from", "prometheus"], env=env)
    assert off.exit_code == 2
    assert "set dora.sources.prometheus_build_info" in " ".join(off.output.split())
