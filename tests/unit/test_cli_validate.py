"""``sloctl validate`` through typer's CliRunner on a tiny app that registers the command."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from sloctl.cli.validate import register
from sloctl.errors import EXIT_USAGE

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "sloctl" / "demo" / "specs" / "shop.yaml"
BAD = (
    "apiVersion: sloctl/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: order\n"
    "  objective: 100\n  window: 28x\n  indicator: {preset: otel-http-availability}\n"
)


def make_app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Test app."""

    register(app)
    return app


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(make_app(), ["validate", *args])
    return result.exit_code, result.output


def test_valid_specs_print_ok_and_a_table() -> None:
    code, output = run(str(DEMO))
    assert code == 0
    assert output.splitlines()[-1] == "OK: 11 SLOs in 1 file"
    assert "order/checkout-latency" in output
    assert "calendar-month" in output
    assert "latency <= 300ms" in output
    assert "latency <= 1s" in output


def test_problems_are_listed_with_summary_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BAD)
    (tmp_path / "b.yaml").write_text(BAD.replace("window: 28x", "window: 28d"))
    code, output = run(str(tmp_path / "a.yaml"), str(tmp_path / "b.yaml"), str(tmp_path / "x"))
    assert code == EXIT_USAGE
    objective = (
        "spec.objective: objective must be a percentage between 0 and 100 (exclusive), e.g. "
        "99.5; got 100"
    )
    assert output.splitlines() == [
        f"{tmp_path / 'x'}: no such file or folder; check the path",
        f"{tmp_path / 'a.yaml'}:6: {objective}",
        f"{tmp_path / 'a.yaml'}:7: spec.window: invalid window '28x'; use a rolling duration such "
        "as 28d, 30d, 4w or 7d, or calendar-month",
        f"{tmp_path / 'b.yaml'}:6: {objective}",
        "4 problems in 3 files",
    ]


def test_brackets_in_paths_are_not_rich_markup(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec:\n  services: [a, a]\n"
    )
    code, output = run(str(tmp_path / "s.yaml"))
    assert code == EXIT_USAGE
    assert output.splitlines() == [
        f"{tmp_path / 's.yaml'}:4: spec.services[1]: service 'a' is listed twice (also "
        "spec.services[0]); remove one",
        "1 problem in 1 file",
    ]


def test_json_output_on_success() -> None:
    code, output = run(str(DEMO), "--output", "json")
    assert code == 0
    data = json.loads(output)
    assert data["ok"] is True
    assert data["problems"] == []
    assert len(data["slos"]) == 11
    assert data["slos"][0] == {
        "id": "order/availability",
        "service": "order",
        "name": "availability",
        "objective": 99.5,
        "window": "28d",
        "indicator": "ratio",
        "source": str(DEMO),
        "line": 11,
    }


def test_json_output_on_problems(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(BAD)
    code, output = run("-o", "json", str(tmp_path / "a.yaml"))
    assert code == EXIT_USAGE
    data = json.loads(output)
    assert data["ok"] is False
    assert [(p["file"], p["line"], p["path"]) for p in data["problems"]] == [
        (str(tmp_path / "a.yaml"), 6, "spec.objective"),
        (str(tmp_path / "a.yaml"), 7, "spec.window"),
    ]


def test_help_teaches_what_is_checked() -> None:
    result = CliRunner().invoke(make_app(), ["validate", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "{{window}}" in result.output
    assert "Example: sloctl validate rules/slos/" in result.output
