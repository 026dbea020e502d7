"""Deployments from build-info version changes in a real, backfilled Prometheus.

History (T0 = now - 4 h, whole minutes; a sample every 15 s; step 60 s):
  shop_build_info{job="checkout"}: 1.0.0 (revision aaaa111) T0..T0+60m, 1.1.0 (bbbb222)
      T0+60m..T0+120m, 1.0.0 again (a rollback) T0+120m..T0+180m; no commit time label.
  shop_build_info{job="payments", deployment_environment="production"}: 2.0.0 (cccc333) T0..T0+90m,
      2.1.0 (dddd444, commit_time T0+80m) T0+90m..T0+180m.
  shop_build_info{job="legacy"}: no version label (a bad series).
  go_build_info{job="checkout", version="(devel)"}: never changes (only the regex selects it).
Expected deployments: checkout 1.1.0 at T0+60m and 1.0.0 at T0+120m (commit time unknown),
payments 2.1.0 at T0+90m with lead time 10 min. The first versions are the baseline.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.demo.backfill import backfill
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.dora.deploy_sources import LEAD_TIME_UNKNOWN, import_from_prometheus
from sloctl.dora.model import Deployment, DeployStatus
from sloctl.settings import DeploySourceSettings, DoraSettings, PrometheusSettings, Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.store import Store
from sloctl.store.deployments import Deployments

MIN = timedelta(minutes=1)
T0 = datetime.now(UTC).replace(second=0, microsecond=0) - 240 * MIN
END = T0 + 180 * MIN
SOURCES = DeploySourceSettings(
    prometheus_build_info="shop_build_info",
    commit_time_label="commit_time",
    environment_label="deployment_environment",
)
EXPECTED = [
    Deployment("checkout", "production", "1.1.0", "bbbb222", T0 + 60 * MIN),
    Deployment(
        "payments",
        "production",
        "2.1.0",
        "dddd444",
        T0 + 90 * MIN,
        DeployStatus.SUCCESS,
        T0 + 80 * MIN,
    ),
    Deployment("checkout", "production", "1.0.0", "aaaa111", T0 + 120 * MIN),
]


def samples(labels: str, start: int, end: int) -> list[str]:
    """One sample every 15 s of ``[T0 + start min, T0 + end min)``."""
    first = int(T0.timestamp()) + start * 60
    return [f"{{{labels}}} 1 {t}" for t in range(first, first + (end - start) * 60, 15)]


def openmetrics() -> str:
    ct = int((T0 + 80 * MIN).timestamp())
    shop = [
        *samples('job="checkout",version="1.0.0",revision="aaaa111"', 0, 60),
        *samples('job="checkout",version="1.1.0",revision="bbbb222"', 60, 120),
        *samples('job="checkout",version="1.0.0",revision="aaaa111"', 120, 180),
        *samples(
            'job="payments",deployment_environment="production",version="2.0.0",revision="cccc333"',
            0,
            90,
        ),
        *samples(
            'job="payments",deployment_environment="production",version="2.1.0",'
            f'revision="dddd444",commit_time="{ct}"',
            90,
            180,
        ),
        *samples('job="legacy"', 0, 180),
    ]
    go = samples('job="checkout",version="(devel)"', 0, 180)
    lines = ["# TYPE shop_build_info gauge", *(f"shop_build_info{s}" for s in shop)]
    lines += ["# TYPE go_build_info gauge", *(f"go_build_info{s}" for s in go), "# EOF"]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    if shutil.which("promtool") is None or shutil.which("prometheus") is None:
        pytest.skip("prometheus and promtool are not installed")
    root = tmp_path_factory.mktemp("build-info")
    (root / "build_info.om").write_text(openmetrics())
    backfill(root / "build_info.om", root / "data")
    with PrometheusServer(root / "data") as server:
        yield server


def run_import(
    server: PrometheusServer, sources: DeploySourceSettings, store: Deployments
) -> Any:
    s = Settings(prometheus=PrometheusSettings(url=server.url), dora=DoraSettings(sources=sources))
    source = PrometheusSource(s.prometheus)
    try:
        return import_from_prometheus(s, store, source, T0 - 10 * MIN, END, END + MIN)
    finally:
        source.close()


@pytest.mark.parametrize(
    "metric", ["shop_build_info", ".*_build_info"], ids=["metric-name", "name-regex"]
)
def test_version_changes_are_deployments(prometheus: PrometheusServer, metric: str) -> None:
    store = Store("sqlite://").deployments
    sources = SOURCES.model_copy(update={"prometheus_build_info": metric})
    report = run_import(prometheus, sources, store)
    assert report.error is None
    assert report.created == EXPECTED
    assert store.history() == sorted(EXPECTED, key=lambda d: d.finished)
    assert [b.reason.split(" has no ")[1] for b in report.bad] == [
        "version label; set dora.sources.*_label"
    ]
    assert f"{LEAD_TIME_UNKNOWN} (set dora.sources.commit_time_label)" in report.notes
    again = run_import(prometheus, sources, store)
    assert (again.created, again.updated) == ([], EXPECTED)
    assert len(store.history()) == 3


def test_dora_output_says_lead_time_is_unknown(
    prometheus: PrometheusServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "sloctl.yaml"
    config.write_text(
        "dora:\n  sources:\n    prometheus_build_info: shop_build_info\n"
        "    commit_time_label: commit_time\n    environment_label: deployment_environment\n"
    )
    env = {
        "SLOCTL_CONFIG": str(config),
        "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'db'}",
        "SLOCTL_PROMETHEUS_URL": prometheus.url,
    }
    imported = CliRunner().invoke(
        app, ["deploy", "import", "--from", "prometheus", "--since", "5h"], env=env
    )
    assert imported.exit_code == 0, imported.output
    assert "3 new deployment(s)" in imported.output
    result = CliRunner().invoke(app, ["dora", "--output", "json"], env=env)
    assert result.exit_code == 0, result.output
    cards = {c["scope"]: c for c in json.loads(result.stdout)}
    checkout = cards["checkout/production"]["metrics"]["lead_time"]
    assert (checkout["value"], checkout["n"]) == (None, 0)
    assert checkout["notes"] == [
        f"{LEAD_TIME_UNKNOWN} (or a GitHub event without payload.commit_time) for 2 "
        "deployment(s); set dora.sources.commit_time_label"
    ]
    payments = cards["payments/production"]["metrics"]["lead_time"]
    assert (payments["value"], payments["n"]) == (600.0, 1)
    assert not any(LEAD_TIME_UNKNOWN in n for n in payments["notes"])
