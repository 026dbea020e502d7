"""Listings stream and take --limit: the store's streaming reads and `sloctl deploy list`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.dora.model import Deployment, DeployStatus
from sloctl.store import Store
from sloctl.store.incidents import Notification, ReceivedAlert

T0 = datetime(2026, 11, 1, tzinfo=UTC)


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    with Store(url) as store:
        for i in range(250):
            finished = T0 + timedelta(minutes=i)
            store.deployments.record(Deployment(
                service=f"svc{i % 3}", environment="production", version=f"v{i}",
                sha=f"{i:07x}", finished=finished, status=DeployStatus.SUCCESS,
                commit_time=finished - timedelta(minutes=5), ref="main\x1b[31m"), "http", T0)
        alerts = [ReceivedAlert(f"{i:016x}", "firing", T0 + timedelta(seconds=i), None,
                                {"alertname": "A", "service": f"s{i}"}) for i in range(300)]
        store.alerts.record(Notification("sloctl", "firing", "g", alerts), T0)
    return url


def test_the_store_streams_the_newest_first_within_the_limit(store_url: str) -> None:
    with Store(store_url) as store:
        newest = list(store.deployments.iter_recent(limit=3))
        assert [d.version for d in newest] == ["v249", "v248", "v247"]
        assert [d.version for d in store.deployments.iter_recent(2, service="svc0")] == [
            "v249", "v246"]
        assert [a.fingerprint for a in store.alerts.firing(limit=2)] == [
            f"{299:016x}", f"{298:016x}"]
        assert sum(1 for _ in store.alerts.iter_firing(batch=7)) == 300


def test_deploy_list_limits_tables_and_streams_json(store_url: str) -> None:
    env = {"SLOCTL_STORE_URL": store_url, "SLOCTL_CONFIG": "", "COLUMNS": "200"}
    table = CliRunner().invoke(app, ["deploy", "list", "--limit", "5"], env=env)
    assert table.exit_code == 0, table.output
    assert table.output.count("svc") == 5
    assert "main\\x1b[31m" in table.output and "\x1b" not in table.output
    assert "the newest 5; --limit 0 shows all" in table.output
    every = CliRunner().invoke(app, ["deploy", "list", "--limit", "0", "-o", "json"], env=env)
    docs = json.loads(every.output)
    assert len(docs) == 250
    assert docs[0]["version"] == "v249" and docs[0]["ref"] == "main\x1b[31m"
