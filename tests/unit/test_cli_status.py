"""`status`, `signals`, `slo list|show|history` on a store of known evaluations: --at,
--service/--team, every output format, the data's age and the stale exit code."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from sloctl.cli.main import app
from sloctl.core.alerts import AlertState
from sloctl.core.signals import Signal
from sloctl.errors import EXIT_OK, EXIT_STALE, EXIT_USAGE
from sloctl.store import Store
from tests.support import evaluations as ev

SPEC = """\
apiVersion: sloctl/v1
kind: SLO
metadata: {name: availability, labels: {team: payments}}
spec: {service: payment, objective: 99.9, window: 30d,
       indicator: {preset: otel-http-availability}}
---
apiVersion: sloctl/v1
kind: SLO
metadata: {name: latency, labels: {team: shop}}
spec: {service: order, objective: 99, window: 30d,
       indicator: {preset: otel-http-latency, threshold: 300ms}}
"""


def _evaluation(at: datetime) -> ev.Evaluation:
    """payment/availability breaches (0.2 % errors vs 0.1 %); order/latency holds."""
    return ev.evaluation(
        at,
        [ev.slo("payment", "availability", at, bad=2000.0),
         ev.slo("order", "latency", at, objective=0.99)],
        ev.signals("payment", {Signal.TRAFFIC: 5.0, Signal.ERROR_RATIO: 0.012})
        + ev.signals("order", {Signal.TRAFFIC: 2.0, Signal.ERROR_RATIO: 0.0}),
        [ev.alert("burn_rate:page/payment/availability", AlertState.FIRING, at,
                  service="payment", slo_id="payment/availability")],
    )


@pytest.fixture
def last() -> datetime:
    """The latest evaluation: 40 s old, fresh (the default limit is 180 s)."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=40)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, last: datetime) -> dict[str, str]:
    """Evaluations every 10 minutes for the last 100 minutes, the latest 40 s ago."""
    monkeypatch.chdir(tmp_path)
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    with Store(url) as store:
        store.evaluations.save_many(_evaluation(last - timedelta(minutes=10 * k))
                                    for k in range(10, -1, -1))
    (tmp_path / "slos.yaml").write_text(SPEC)
    return {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": "", "SLOCTL_SPECS": str(tmp_path),
            "COLUMNS": "200"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(app, list(args), env=env)


def test_status_line_names_the_breaching_slo_the_alerts_and_the_age(
    env: dict[str, str]
) -> None:
    r = run(env, "status", "-o", "line")
    assert r.exit_code == EXIT_OK, r.output
    age = r.stdout.rsplit("data ", 1)[1]
    assert r.stdout.startswith(
        "1 SLO breaching (payment/availability 99.8 %), 1 alert firing, data ")
    assert age in ("40 s old\n", "41 s old\n", "42 s old\n")


def test_status_json_yaml_and_csv_hold_the_same_values(
    env: dict[str, str], last: datetime
) -> None:
    doc = json.loads(run(env, "status", "-o", "json").stdout)
    assert [s["slo_id"] for s in doc["slos"]] == ["payment/availability", "order/latency"]
    assert doc["evaluated_at"] == last.isoformat()
    assert doc["max_age_seconds"] == 180 and doc["stale"] is False
    assert 40 <= doc["data_age_seconds"] < 45
    assert yaml.safe_load(run(env, "status", "-o", "yaml").stdout)["slos"] == doc["slos"]
    rows = list(csv.DictReader(io.StringIO(run(env, "status", "-o", "csv").stdout)))
    assert [(r["slo_id"], r["sli"], r["breaching"], r["alert"]) for r in rows] == [
        ("payment/availability", "0.998", "true", "firing"),
        ("order/latency", "0.9995", "false", "inactive"),
    ]
    assert float(rows[0]["burn_rate_1h"]) == pytest.approx(2.0)


def test_status_says_the_age_on_stderr_for_tables(env: dict[str, str], last: datetime) -> None:
    r = run(env, "status")
    assert r.exit_code == EXIT_OK
    assert "payment/availability" in r.stdout
    assert f"(last evaluation {last:%Y-%m-%d %H:%M:%S}Z)" in r.stderr


def test_stale_data_exits_5_unless_the_limit_allows_it(
    env: dict[str, str], tmp_path: Path
) -> None:
    r = run(env, "status", "--max-age", "30s")
    assert r.exit_code == EXIT_STALE
    assert "stale data: the last evaluation" in r.stderr and "limit of 30 s" in r.stderr
    assert run(env, "status", "--max-age", "0").exit_code == EXIT_OK
    assert run(env, "slo", "show", "availability", "--max-age", "10s").exit_code == EXIT_STALE
    assert run(env, "signals", "--max-age", "10s").exit_code == EXIT_STALE
    assert run(env, "slo", "list", "--max-age", "10s").exit_code == EXIT_STALE
    # the default limit is 3 evaluation intervals: 3 x 10 s here
    assert run({**env, "SLOCTL_INTERVAL": "10"}, "status").exit_code == EXIT_STALE
    # a breach (--fail-on) wins over staleness: it was seen, however old the data
    assert run(env, "status", "--max-age", "10s", "--fail-on", "breach").exit_code == 1


def test_at_reads_the_evaluation_in_effect_then_and_counts_the_age_from_it(
    env: dict[str, str], last: datetime
) -> None:
    at = last - timedelta(minutes=25)  # between the evaluations 30 and 20 minutes before last
    doc = json.loads(run(env, "status", "--at", at.isoformat(), "-o", "json").stdout)
    assert doc["at"] == (last - timedelta(minutes=30)).isoformat()
    assert doc["data_age_seconds"] == 300.0
    # 5 minutes old at that instant: stale past a 1-minute limit, whatever the age now
    assert run(env, "status", "--at", at.isoformat(), "--max-age", "1m").exit_code == EXIT_STALE
    before = run(env, "status", "--at", (last - timedelta(days=1)).isoformat())
    assert before.exit_code == EXIT_USAGE
    assert "no evaluation at or before" in before.stderr


def test_status_of_a_service_or_a_team(env: dict[str, str]) -> None:
    def ids(*args: str) -> list[str]:
        r = run(env, "status", *args, "-o", "json")
        assert r.exit_code == EXIT_OK, r.output
        return [s["slo_id"] for s in json.loads(r.stdout)["slos"]]

    assert ids("--service", "order") == ["order/latency"]
    assert ids("--team", "payments") == ["payment/availability"]
    assert ids("--team", "shop") == ["order/latency"]
    line = run(env, "status", "--team", "shop", "-o", "line").stdout
    assert line.startswith("all 1 SLO within objective, no alert firing, data ")
    unknown = run(env, "status", "--service", "cart")
    assert unknown.exit_code == EXIT_USAGE
    assert "Unknown service cart. Known: order, payment" in unknown.stderr
    team = run(env, "status", "--team", "ops")
    assert team.exit_code == EXIT_USAGE
    assert "No SLO spec has the label team=ops. Teams in the specs: payments, shop" in (
        " ".join(team.stderr.split()))


def test_signals_in_every_format(env: dict[str, str]) -> None:
    rows = list(csv.DictReader(io.StringIO(run(env, "signals", "-o", "csv").stdout)))
    assert [(r["service"], r["traffic"], r["error_ratio"]) for r in rows] == [
        ("order", "2.0", "0.0"), ("payment", "5.0", "0.012")]
    assert run(env, "signals", "-o", "line").stdout.startswith(
        "2 services: payment errors 1.2 %, data ")


def test_slo_show_line_and_windows_as_csv(env: dict[str, str]) -> None:
    line = run(env, "slo", "show", "payment/availability", "-o", "line").stdout
    assert line.startswith("payment/availability: SLI 99.8 % vs 99.9 %, breaching, budget left "
                           "-100 %, data ")
    rows = list(csv.DictReader(io.StringIO(
        run(env, "slo", "show", "availability", "-o", "csv").stdout)))
    assert [r["window"] for r in rows] == ["5m", "30m", "1h", "2h", "6h", "1d", "3d", "30d"]
    assert float(rows[-1]["sli"]) == pytest.approx(0.998)


def test_slo_list_from_the_store(env: dict[str, str], last: datetime) -> None:
    rows = json.loads(run(env, "slo", "list", "-o", "json").stdout)
    assert [(r["slo_id"], r["service"], r["objective"], r["window"], r["sli"],
             r["evaluated_at"]) for r in rows] == [
        ("payment/availability", "payment", 0.999, "30d", pytest.approx(0.998), last.isoformat()),
        ("order/latency", "order", 0.99, "30d", pytest.approx(0.9995), last.isoformat()),
    ]
    assert run(env, "slo", "list", "--service", "order", "-o", "csv").stdout.splitlines()[1] \
        .startswith("order/latency,order,0.99,30d,")
    assert run(env, "slo", "list", "-o", "line").stdout.startswith(
        "2 SLOs (1 breaching), data ")


def test_slo_history_over_a_range(env: dict[str, str], last: datetime) -> None:
    doc = json.loads(run(env, "slo", "history", "availability", "--since", "35m",
                         "-o", "json").stdout)
    assert doc["slo_id"] == "payment/availability"
    assert [p["at"] for p in doc["points"]] == [
        (last - timedelta(minutes=m)).isoformat() for m in (30, 20, 10, 0)]
    assert [(p["tier"], p["sli"], p["sli_min"]) for p in doc["points"]] == [
        ("raw", pytest.approx(0.998), pytest.approx(0.998))] * 4
    until = last - timedelta(minutes=45)
    ranged = json.loads(run(env, "slo", "history", "payment/availability", "--since", "30m",
                            "--until", until.isoformat(), "-o", "json").stdout)
    assert [p["at"] for p in ranged["points"]] == [
        (last - timedelta(minutes=m)).isoformat() for m in (70, 60, 50)]
    assert ranged["data_age_seconds"] == 300.0
    few = json.loads(run(env, "slo", "history", "availability", "--since", "2h", "--points", "2",
                         "-o", "json").stdout)
    assert len(few["points"]) == 2 and few["points"][-1]["at"] == last.isoformat()
    line = run(env, "slo", "history", "availability", "--since", "2h", "-o", "line").stdout
    assert ", budget left -100 %, 11 points, data " in line
    unknown = run(env, "slo", "history", "nope")
    assert unknown.exit_code == EXIT_USAGE
    assert "'nope' is not an SLO the store knows" in unknown.stderr


def test_a_bad_time_says_what_is_accepted(env: dict[str, str]) -> None:
    r = run(env, "status", "--at", "yesterday")
    assert r.exit_code == EXIT_USAGE
    text = " ".join(r.output.split())
    assert "--at 'yesterday': not a time sloctl reads. Accepted: now; a duration ago" in text
