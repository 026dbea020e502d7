"""`sloctl traces` and `sloctl deps`: operations from span metrics in a real Prometheus (the shop
with span metrics of known values, see conftest.py), example traces from a local fake Jaeger."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Scenario, bucket_of
from tests.integration.conftest import span_times
from tests.support.fake_jaeger import FakeJaeger, otlp_span, search_answer, serve
from tests.support.processes import free_port

MS = 1_000_000


def _payment_traces(end: datetime) -> bytes:
    """Traces 1..4 of payment, one minute apart in the hour before ``end``: 40/900/200/70 ms;
    3 fails (HTTP 503)."""
    t0 = int((end - timedelta(minutes=30)).timestamp()) * 1_000_000_000
    spans = [
        otlp_span(
            f"{n:032x}",
            f"{n:016x}",
            f"POST /charge/{n}",
            kind=2,
            start_ns=t0 + n * 60_000 * MS,
            duration_ns=ms * MS,
            attributes={"http.response.status_code": code},
        )
        for n, ms, code in [(1, 40, 200), (2, 900, 200), (3, 200, 503), (4, 70, 200)]
    ]
    return search_answer([("payment", spans)])


@pytest.fixture()
def jaeger(
    prometheus_spans: PrometheusServer,
    shop_end: datetime,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[FakeJaeger]:
    with serve(FakeJaeger(search={"payment": _payment_traces(shop_end)})) as fake:
        monkeypatch.setenv("SLOCTL_JAEGER_URL", fake.url)
        monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", prometheus_spans.url)
        monkeypatch.setenv("SLOCTL_STORE_URL", f"sqlite:///{tmp_path / 's.db'}")
        monkeypatch.setenv("COLUMNS", "200")
        yield fake


def _json(args: list[str]) -> Any:
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_operations_come_from_span_metrics_with_known_values(
    jaeger: FakeJaeger, shop_end: datetime, shop_scenario: Scenario
) -> None:
    body = _json(["traces", "payment", "--at", shop_end.isoformat()])
    assert (body["service"], body["window_seconds"]) == ("payment", 3600)
    assert body["end"] == shop_end.isoformat()
    assert "traces" not in body and jaeger.requests == []  # no flag: Prometheus only
    charge, bank = body["operations"]
    # payment's server spans copy its HTTP series: the shop's ground truth over the hour.
    truth = shop_scenario.truth_window(
        "payment", shop_end, 3600, sample_times=span_times(shop_end)
    )
    assert truth.extrapolation_factor == 1.0  # a sample at each end of the window
    assert (charge["operation"], charge["kind"]) == ("POST /charge", "server")
    assert charge["requests"] == pytest.approx(truth.total, rel=1e-9)
    assert charge["errors"] == pytest.approx(truth.bad, rel=1e-9)
    assert charge["error_ratio"] == pytest.approx(truth.error_ratio, rel=1e-9)
    assert charge["rate_per_second"] == pytest.approx(truth.total / 3600, rel=1e-9)
    for q, key in ((0.5, "p50_seconds"), (0.95, "p95_seconds"), (0.99, "p99_seconds")):
        lower, upper = bucket_of(shop_scenario.true_quantile("payment", q, shop_end, 3600))
        assert lower < charge[key] <= upper, (q, charge[key])
    # payment's calls to its bank: constant 0.5/s, 2 % failing (conftest.BANK), by hand.
    assert (bank["operation"], bank["kind"]) == ("POST /bank", "client")
    assert bank["requests"] == pytest.approx(1800, rel=1e-9)
    assert bank["errors"] == pytest.approx(36, rel=1e-9)
    assert bank["error_ratio"] == pytest.approx(0.02, rel=1e-9)
    assert bank["p50_seconds"] == pytest.approx(0.1, rel=1e-9)
    assert bank["p95_seconds"] == pytest.approx(0.65, rel=1e-9)
    assert bank["p99_seconds"] == pytest.approx(0.93, rel=1e-9)


def test_a_shorter_window_counts_fewer_calls(jaeger: FakeJaeger, shop_end: datetime) -> None:
    body = _json(["traces", "payment", "--at", shop_end.isoformat(), "--since", "10m"])
    bank = next(o for o in body["operations"] if o["operation"] == "POST /bank")
    assert (bank["requests"], bank["window_seconds"]) == (pytest.approx(300, rel=1e-9), 600)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param(["--slow"], ["2", "3", "4", "1"], id="slowest-first"),
        pytest.param(["--errors"], ["3"], id="failing-only"),
        pytest.param(["--slow", "--limit", "2"], ["2", "3"], id="limit"),
    ],
)
def test_example_traces_from_jaeger(
    jaeger: FakeJaeger, shop_end: datetime, flags: list[str], expected: list[str]
) -> None:
    body = _json(["traces", "payment", "--at", shop_end.isoformat(), *flags])
    assert [str(row["trace_id"])[-1] for row in body["traces"]] == expected
    assert len(body["operations"]) == 2
    path, query = jaeger.requests[-1]
    assert path == "/api/v3/traces"
    assert query["query.start_time_max"] == [shop_end.strftime("%Y-%m-%dT%H:%M:%S.000000000Z")]
    assert query["query.num_traces"] == ["100"]  # searches deeper than --limit


def test_trace_rows_have_their_fields_and_links(jaeger: FakeJaeger, shop_end: datetime) -> None:
    (row,) = _json(["traces", "payment", "--at", shop_end.isoformat(), "--errors"])["traces"]
    assert row["trace_id"] == f"{3:032x}"
    assert row["root_operation"] == "POST /charge/3"
    assert (row["duration_seconds"], row["spans"], row["errors"]) == (0.2, 1, 1)
    assert row["url"] == f"{jaeger.url}/trace/{3:032x}"


def test_table_shows_operations_then_traces_with_links(
    jaeger: FakeJaeger, shop_end: datetime
) -> None:
    result = CliRunner().invoke(app, ["traces", "payment", "--at", shop_end.isoformat(), "--slow"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    bank = next(line.split() for line in lines if "POST /bank" in line)
    assert bank[2:] == ["client", "1,800", "0.5", "36", "2.00%", "100.0", "ms", "650.0", "ms",
                        "930.0", "ms"]
    assert any(f"Traces of payment, 1h before {shop_end:%Y-%m-%d %H:%M:%SZ} (Jaeger)" in line
               for line in lines)
    assert f"{jaeger.url}/trace/{2:032x}" in result.stdout
    assert "900.0 ms" in result.stdout


def test_a_service_without_span_metrics_says_how_to_fix_it(
    jaeger: FakeJaeger, shop_end: datetime
) -> None:
    at = ["--at", shop_end.isoformat()]
    result = CliRunner().invoke(app, ["traces", "inventory", *at])
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert (
        f"No span metrics of inventory in the 1h before {shop_end:%Y-%m-%d %H:%M:%SZ} "
        '(traces_span_metrics_calls_total{service_name="inventory"})'
    ) in text
    assert "span_metrics connector (collector_config/)" in text
    assert _json(["traces", "inventory", *at])["operations"] == []
    slow = CliRunner().invoke(app, ["traces", "inventory", *at, "--slow"])
    assert f"Jaeger has no traces of inventory in the 1h before {shop_end:%Y-%m-%d %H:%M:%SZ}" \
        in " ".join(slow.stdout.split())


def test_deps_json_and_table(jaeger: FakeJaeger) -> None:
    rows = _json(["deps", "--since", "2d"])
    assert rows[0] == {"parent": "Service2", "child": "Service4", "calls": 129216}
    assert len(rows) == 7
    assert jaeger.requests[-1][1]["lookback"] == ["172800000"]
    table = CliRunner().invoke(app, ["deps"])
    assert table.exit_code == 0
    assert "129,216" in table.stdout


@pytest.mark.parametrize(
    "args",
    [
        pytest.param(["traces", "payment", "--slow", "--errors"], id="slow-and-errors"),
        pytest.param(["traces", "payment", "--since", "an hour"], id="bad-since"),
        pytest.param(["traces", "payment", "--at", "yesterday"], id="bad-at"),
        pytest.param(["deps", "--since", "0"], id="zero-since"),
    ],
)
def test_bad_options_exit_2(jaeger: FakeJaeger, args: list[str]) -> None:
    assert CliRunner().invoke(app, args).exit_code == 2
    assert jaeger.requests == []


@pytest.mark.parametrize(
    ("command", "variable"),
    [
        pytest.param(["traces", "payment", "--slow"], "SLOCTL_JAEGER_URL", id="traces-jaeger"),
        pytest.param(["deps"], "SLOCTL_JAEGER_URL", id="deps"),
        pytest.param(["traces", "payment"], "SLOCTL_PROMETHEUS_URL", id="traces-prometheus"),
    ],
)
def test_an_unreachable_backend_exits_3_with_the_fix(
    prometheus_spans: PrometheusServer,
    command: list[str],
    variable: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", prometheus_spans.url)
    monkeypatch.setenv(variable, f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 3
    assert variable in result.output


def test_help_explains_the_options() -> None:
    result = CliRunner().invoke(app, ["traces", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--slow", "--errors", "--since", "--at", "--limit", "--output"):
        assert option in result.stdout
    assert "span metrics" in result.stdout
