"""`sloctl logs` end to end against the fake Loki: table, JSON, filters, trace ids, exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.sources.loki import to_ns
from tests.support.fake_loki import FakeLoki, FakeStream

S = 10**9
TRACE = "00000000000000004bf92f3577b34da6"  # a 64-bit trace id: also written in its 16-hex form
OTHER = "a3ce929d0e0e47364bf92f3577b34da6"


@pytest.fixture()
def loki() -> Iterator[FakeLoki]:
    now = to_ns(datetime.now(UTC))
    streams = [
        FakeStream(
            {"service_name": "checkout", "env": "prod"},
            [
                (now - 10 * S, "level=info paid order=7", {"trace_id": TRACE}),
                (now - 20 * S, "level=error card declined trace=4BF92F3577B34DA6", {}),
                (now - 30 * S, "level=info cart loaded", {"trace_id": OTHER}),
                (now - 40 * S, '{"level":"ERROR","msg":"db timeout"}', {}),
                (now - 7200 * S, "level=error too old", {}),
            ],
        ),
        FakeStream(
            {"service_name": "cart", "env": "prod"},
            [
                (now - 15 * S, f"level=error trace_id={TRACE}", {}),
            ],
        ),
    ]
    with FakeLoki(streams) as server:
        yield server


@pytest.fixture()
def cli(loki: FakeLoki, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.chdir(tmp_path)  # no sloctl.yaml
    monkeypatch.setenv("SLOCTL_LOKI_URL", loki.url)
    monkeypatch.setenv("COLUMNS", "200")
    return CliRunner()


def lines_of(stdout: str) -> list[str]:
    return [e["line"] for e in json.loads(stdout)["entries"]]


def test_table_newest_first(cli: CliRunner) -> None:
    r = cli.invoke(app, ["logs", "checkout"])
    assert r.exit_code == 0, r.output
    rows = [line for line in r.stdout.splitlines() if "env=prod" in line]
    assert len(rows) == 4
    assert f"env=prod trace_id={TRACE}" in rows[0] and "service_name=" not in r.stdout
    assert (
        r.stdout.index("paid order=7")
        < r.stdout.index("card declined")
        < r.stdout.index("cart loaded")
        < r.stdout.index("db timeout")
    )
    assert "too old" not in r.stdout and "time (UTC)" in r.stdout


def test_json_errors_only(cli: CliRunner) -> None:
    r = cli.invoke(app, ["logs", "checkout", "--errors", "--output", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert [e["line"] for e in doc["entries"]] == [
        "level=error card declined trace=4BF92F3577B34DA6",
        '{"level":"ERROR","msg":"db timeout"}',
    ]
    assert doc["entries"][0]["labels"] == {"service_name": "checkout", "env": "prod"}
    assert doc["truncated"] is False and doc["service"] == "checkout"
    assert doc["queries"][0].startswith('{service_name="checkout"} |~ "(?i)')


@pytest.mark.parametrize(
    "given", [TRACE, "4bf92f3577b34da6", "0x" + TRACE.upper()], ids=["32-hex", "16-hex", "0x-upper"]
)
def test_trace_finds_text_and_structured_metadata(cli: CliRunner, given: str) -> None:
    r = cli.invoke(app, ["logs", "checkout", "--trace", given, "-o", "json"])
    assert r.exit_code == 0, r.output
    assert lines_of(r.stdout) == [
        "level=info paid order=7",  # trace_id structured metadata only
        "level=error card declined trace=4BF92F3577B34DA6",  # 16-hex form in the text
    ]


def test_trace_with_errors_and_correlation_id(cli: CliRunner) -> None:
    r = cli.invoke(app, ["logs", "checkout", "--trace", TRACE, "--errors", "-o", "json"])
    assert lines_of(r.stdout) == ["level=error card declined trace=4BF92F3577B34DA6"]
    r = cli.invoke(app, ["logs", "checkout", "--correlation-id", "order=7", "-o", "json"])
    assert lines_of(r.stdout) == ["level=info paid order=7"]


def test_limit_and_since(cli: CliRunner) -> None:
    r = cli.invoke(app, ["logs", "checkout", "--limit", "2", "-o", "json"])
    doc = json.loads(r.stdout)
    assert [e["line"] for e in doc["entries"]] == [
        "level=info paid order=7",
        "level=error card declined trace=4BF92F3577B34DA6",
    ]
    assert doc["truncated"] is True
    r = cli.invoke(app, ["logs", "checkout", "--since", "3h", "--errors", "-o", "json"])
    assert lines_of(r.stdout)[-1] == "level=error too old"


def test_hostile_service_name_matches_nothing(cli: CliRunner, loki: FakeLoki) -> None:
    r = cli.invoke(app, ["logs", 'x"} or {env=~".+', "-o", "json"])
    assert r.exit_code == 0, r.output
    assert lines_of(r.stdout) == []
    assert loki.requests[-1].params["query"] == ['{service_name="x\\"} or {env=~\\".+"}']


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "--since 'soon': not a time sloctl reads"),
        (["--trace", "xyz"], "invalid trace id 'xyz'"),
        (["--trace", TRACE, "--correlation-id", "a"], "not both"),
    ],
    ids=["bad-since", "bad-trace", "trace-and-correlation"],
)
def test_usage_errors_exit_2(cli: CliRunner, args: list[str], message: str) -> None:
    r = cli.invoke(app, ["logs", "checkout", *args])
    assert r.exit_code == 2
    assert message in " ".join(r.output.split()).replace("│", "").replace("  ", " ")


def test_unreachable_loki_exits_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeLoki([]) as server:
        url = server.url
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SLOCTL_LOKI_URL", url)
    r = CliRunner().invoke(app, ["logs", "checkout"])
    assert r.exit_code == 3
    assert "cannot connect to" in r.output and "SLOCTL_LOKI_URL" in r.output


def test_tenant_from_environment(
    cli: CliRunner, loki: FakeLoki, monkeypatch: pytest.MonkeyPatch
) -> None:
    loki.tenant = "team-a"
    assert cli.invoke(app, ["logs", "checkout"]).exit_code == 3  # 401 no org id
    monkeypatch.setenv("SLOCTL_LOKI_TENANT", "team-a")
    r = cli.invoke(app, ["logs", "checkout", "-o", "json"])
    assert r.exit_code == 0 and len(lines_of(r.stdout)) == 4
