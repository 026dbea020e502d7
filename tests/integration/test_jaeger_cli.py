"""`sloctl traces` and `sloctl deps` against a local fake Jaeger (typer's CliRunner)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from tests.support.fake_jaeger import FakeJaeger, otlp_span, search_answer, serve
from tests.support.processes import free_port

MS = 1_000_000


def _checkout_traces() -> bytes:
    """Traces 1..4 of checkout, one minute apart (1 oldest), 40/900/200/70 ms; 3 fails (503)."""
    t0 = (int(time.time()) - 1800) * 1_000_000_000  # inside the default --since 1h
    spans = [
        otlp_span(
            f"{n:032x}",
            f"{n:016x}",
            f"POST /pay/{n}",
            kind=2,
            start_ns=t0 + n * 60_000 * MS,
            duration_ns=ms * MS,
            attributes={"http.response.status_code": code},
        )
        for n, ms, code in [(1, 40, 200), (2, 900, 200), (3, 200, 503), (4, 70, 200)]
    ]
    return search_answer([("checkout", spans)])


@pytest.fixture()
def jaeger(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeJaeger]:
    with serve(FakeJaeger(search={"checkout": _checkout_traces()})) as fake:
        monkeypatch.setenv("SLOCTL_JAEGER_URL", fake.url)
        monkeypatch.setenv("SLOCTL_STORE_URL", f"sqlite:///{tmp_path / 's.db'}")
        monkeypatch.setenv("COLUMNS", "200")
        yield fake


def _json(args: list[str]) -> list[dict[str, object]]:
    result = CliRunner().invoke(app, [*args, "--output", "json"])
    assert result.exit_code == 0, result.output
    data: list[dict[str, object]] = json.loads(result.stdout)
    return data


def _ids(rows: list[dict[str, object]]) -> list[str]:
    return [str(row["trace_id"])[-1] for row in rows]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        pytest.param([], ["4", "3", "2", "1"], id="newest-first"),
        pytest.param(["--slow"], ["2", "3", "4", "1"], id="slowest-first"),
        pytest.param(["--errors"], ["3"], id="failing-only"),
        pytest.param(["--slow", "--limit", "2"], ["2", "3"], id="limit"),
    ],
)
def test_traces_json(jaeger: FakeJaeger, flags: list[str], expected: list[str]) -> None:
    assert _ids(_json(["traces", "checkout", *flags])) == expected


def test_traces_json_row_fields(jaeger: FakeJaeger) -> None:
    row = _json(["traces", "checkout", "--errors"])[0]
    assert row["trace_id"] == f"{3:032x}"
    assert row["root_operation"] == "POST /pay/3"
    assert (row["duration_seconds"], row["spans"], row["errors"]) == (0.2, 1, 1)
    assert row["url"] == f"{jaeger.url}/trace/{3:032x}"


def test_traces_table_shows_ids_durations_and_links(jaeger: FakeJaeger) -> None:
    result = CliRunner().invoke(app, ["traces", "checkout", "--slow"])
    assert result.exit_code == 0, result.output
    assert f"{2:032x}" in result.stdout
    assert "900.0 ms" in result.stdout
    assert f"{jaeger.url}/trace/{2:032x}" in result.stdout
    query = jaeger.requests[-1][1]
    assert query["query.num_traces"] == ["100"]  # --slow searches deeper than --limit


def test_traces_of_an_unknown_service_says_so(jaeger: FakeJaeger) -> None:
    result = CliRunner().invoke(app, ["traces", "nobody"])
    assert result.exit_code == 0
    assert "No traces of nobody" in result.stdout
    assert _json(["traces", "nobody"]) == []


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
        pytest.param(["traces", "checkout", "--slow", "--errors"], id="slow-and-errors"),
        pytest.param(["traces", "checkout", "--since", "an hour"], id="bad-since"),
        pytest.param(["deps", "--since", "0"], id="zero-since"),
    ],
)
def test_bad_options_exit_2(jaeger: FakeJaeger, args: list[str]) -> None:
    assert CliRunner().invoke(app, args).exit_code == 2
    assert jaeger.requests == []


@pytest.mark.parametrize("command", [["traces", "checkout"], ["deps"]], ids=["traces", "deps"])
def test_unreachable_jaeger_exits_3_with_the_fix(
    command: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLOCTL_JAEGER_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("COLUMNS", "300")
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 3
    assert "SLOCTL_JAEGER_URL" in result.output


def test_help_explains_the_options() -> None:
    result = CliRunner().invoke(app, ["traces", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for option in ("--slow", "--errors", "--since", "--limit", "--output"):
        assert option in result.stdout
