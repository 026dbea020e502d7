"""Maintenance windows leave their events out of attainment and budget: exact ground truth.

One service in a real Prometheus, sampled every minute on the minute: 999 good and 1 failed
request a minute all along, and a burst of 1,000 failed requests a minute during an outage from
A-40m to A-10m (A is the evaluation instant, on the hour). Every range starts and ends on a
sample, so Prometheus' increase() equals the true counts:

- without the window, the 1h window holds 60 x 1,000 = 60,000 requests + 30,000 burst failures,
  of which 60 + 30,000 fail: SLI 1 - 30,060 / 90,000;
- with it, the outage's 30 minutes (30 x 1,000 requests + 30,000 failures, 30 + 30,000 failed)
  are subtracted: 30,000 requests, 30 failed: SLI 0.999 exactly, in every window it touches
  (30m: its last 20 minutes, A-30m..A-10m, are subtracted: 10,000 requests, 10 failed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.core.maintenance import Maintenance
from sloctl.demo.backfill import backfill
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.spec.models import SLOSpec
from sloctl.store import Store
from tests.support.truth_history import Family, History, Life, counter

pytestmark = pytest.mark.integration
H = 3600
METRIC = "app_requests"


@pytest.fixture(scope="module")
def at() -> datetime:
    return datetime.fromtimestamp((datetime.now(UTC).timestamp() // H) * H - H, UTC)


@pytest.fixture(scope="module")
def prometheus(at: datetime, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[PrometheusServer]:
    a = int(at.timestamp())
    life = Life(a - 3 * H, a)
    burst = Life(a - 3 * H, a, busy_from=a - 40 * 60, idle_from=a - 10 * 60)
    history = History((Family(METRIC, "counter", (
        counter(METRIC, {"job": "shop", "code": "200"}, 999, life),
        counter(METRIC, {"job": "shop", "code": "500"}, 1, life),
        counter(METRIC, {"job": "shop", "code": "503"}, 1000, burst),
    )),))
    root = tmp_path_factory.mktemp("maintenance")
    history.write(root / "history.om")
    backfill(root / "history.om", root / "data")
    with PrometheusServer(root / "data") as server:
        yield server


def spec_text(maintenance: str = "") -> str:
    return (
        "apiVersion: sloctl/v1\nkind: SLO\nmetadata: {name: availability}\nspec:\n"
        "  service: shop\n  serviceLabel: job\n  objective: 99.5\n  window: 1d\n"
        "  indicator:\n    ratio:\n      metric: app_requests_total\n"
        "      errors: {code: {regex: \"5..\"}}\n" + maintenance
    )


def load(tmp_path: Path, text: str) -> list[SLOSpec]:
    path = tmp_path / "shop.yaml"
    path.write_text(text)
    return load_specs([path])


def evaluate(prom: PrometheusServer, specs: list[SLOSpec], at: datetime,
             store: Store | None = None):  # type: ignore[no-untyped-def]
    settings = Settings.model_validate({"prometheus": {"url": prom.url}})
    source = PrometheusSource(settings.prometheus)
    try:
        return Evaluator(settings, specs, source, store).run_cycle(at)
    finally:
        source.close()


def test_without_a_window_the_outage_spends_the_budget(
    prometheus: PrometheusServer, at: datetime, tmp_path: Path
) -> None:
    [status] = evaluate(prometheus, load(tmp_path, spec_text()), at).slos
    hour = status.window(3600)
    assert hour is not None and (hour.bad, hour.total) == (30060.0, 90000.0)
    assert hour.sli == pytest.approx(1 - 30060 / 90000, rel=1e-12)


def test_a_window_in_the_spec_leaves_the_outage_out(
    prometheus: PrometheusServer, at: datetime, tmp_path: Path
) -> None:
    start, end = at - timedelta(minutes=40), at - timedelta(minutes=10)
    text = spec_text(
        f"  maintenance:\n    - {{start: '{start.isoformat()}', end: '{end.isoformat()}', "
        "reason: database upgrade}\n"
    )
    ev = evaluate(prometheus, load(tmp_path, text), at)
    [status] = ev.slos
    expected = {300: (5.0, 5000.0), 1800: (10.0, 10000.0), 3600: (30.0, 30000.0)}
    for window, counts in expected.items():
        w = status.window(window)
        assert w is not None and (w.bad, w.total) == counts, window
        assert w.sli == pytest.approx(0.999, rel=1e-12)
    day = status.window(86400)
    assert day is not None and day.sli == pytest.approx(0.999, rel=1e-12)  # 2.5 h of history
    [note] = [p for p in ev.problems if p.startswith("note: shop/availability: ")]
    assert "30 min of maintenance left out of its 3d window" in note  # the longest window
    assert "database upgrade" in note


def test_a_window_made_by_the_cli_is_recorded_shown_and_reversible(
    prometheus: PrometheusServer, at: datetime, tmp_path: Path
) -> None:
    specs = load(tmp_path, spec_text())
    store_url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    env = {"SLOCTL_STORE_URL": store_url, "SLOCTL_PROMETHEUS_URL": prometheus.url,
           "SLOCTL_SPECS": str(tmp_path / "shop.yaml"), "COLUMNS": "200"}
    cli = CliRunner()
    added = cli.invoke(app, ["maintenance", "add", "--service", "shop",
                             "--start", (at - timedelta(minutes=40)).isoformat(),
                             "--duration", "30m", "--reason", "failover test"], env=env)
    assert added.exit_code == 0, added.output
    assert "maintenance window 1: service shop" in added.output
    listed = cli.invoke(app, ["maintenance", "list", "-o", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert '"reason": "failover test"' in listed.output
    with Store(store_url) as store:
        [window] = store.maintenance.between(at - timedelta(days=1), at)
        assert window == Maintenance(at - timedelta(minutes=40), at - timedelta(minutes=10),
                                     "failover test", "shop", None, 1)
        excluded = evaluate(prometheus, specs, at, store).slos[0].window(3600)
        store.maintenance.remove(1, now=datetime.now(UTC))
        counted = evaluate(prometheus, specs, at, store).slos[0]
        store.maintenance.restore(1)
        again = evaluate(prometheus, specs, at, store).slos[0]
    assert excluded is not None and excluded.sli == pytest.approx(0.999, rel=1e-12)
    hour = counted.window(3600)
    assert hour is not None and hour.sli is not None and hour.sli < 0.7  # the outage counts again
    restored = again.window(3600)
    assert restored is not None and restored.sli == pytest.approx(0.999, rel=1e-12)
    gone = cli.invoke(app, ["maintenance", "remove", "7"], env=env)
    assert gone.exit_code == 2 and "no maintenance window 7" in gone.output


def test_a_range_report_leaves_maintenance_out_of_attainment_and_budget(
    prometheus: PrometheusServer, at: datetime, tmp_path: Path
) -> None:
    load(tmp_path, spec_text())
    env = {"SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}",
           "SLOCTL_PROMETHEUS_URL": prometheus.url,
           "SLOCTL_SPECS": str(tmp_path / "shop.yaml"), "COLUMNS": "200"}
    cli = CliRunner()
    hour = ["report", "--since", (at - timedelta(hours=1)).isoformat(), "--until",
            at.isoformat()]

    def shop(args: list[str]) -> dict[str, object]:
        result = cli.invoke(app, [*hour, *args], env=env)
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        assert doc["since"] == (at - timedelta(hours=1)).isoformat()
        [row] = doc["slos"]
        return {**row, "notes": [n for n in doc["notes"] if "maintenance" in n]}

    counted = shop(["-o", "json"])
    assert (counted["bad_events"], counted["events"]) == (30060.0, 90000.0)
    assert counted["attainment"] == pytest.approx(1 - 30060 / 90000, rel=1e-12)
    assert counted["range_budget_left"] == pytest.approx(1 - 30060 / (90000 * 0.005), rel=1e-9)
    assert counted["status"] == "BREACHED" and counted["notes"] == []
    added = cli.invoke(app, ["maintenance", "add", "--service", "shop",
                             "--start", (at - timedelta(minutes=40)).isoformat(),
                             "--duration", "30m", "--reason", "failover test"], env=env)
    assert added.exit_code == 0, added.output
    excluded = shop(["-o", "json"])
    assert (excluded["bad_events"], excluded["events"]) == (30.0, 30000.0)
    assert excluded["attainment"] == pytest.approx(0.999, rel=1e-12)
    assert excluded["range_budget_left"] == pytest.approx(1 - 30 / (30000 * 0.005), rel=1e-9)
    [note] = excluded["notes"]  # type: ignore[misc]
    assert note.startswith("shop/availability: 30 min of maintenance left out of its 1h window")
    assert "failover test" in note
    line = cli.invoke(app, [*hour, "-o", "line"], env=env)
    assert line.exit_code == 0 and "attainment 99.9 %" in line.stdout
    table = cli.invoke(app, hour, env=env)
    assert table.exit_code == 0 and "shop/availability" in table.stdout
    assert "30 min of maintenance left out" in table.stdout
    bad = cli.invoke(app, ["report", "--since", "yesterday-ish"], env=env)
    assert bad.exit_code == 2 and "--since" in bad.output
