"""``-o table|json|yaml|csv|line`` (``sloctl.cli.output``): one document, every format."""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import yaml

from sloctl.cli.output import Format, OutputError, emit, to_csv

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Thing:
    name: str
    ratio: float | None
    at: datetime


DOC = {"things": [Thing("a", 0.25, AT), Thing("b", None, AT)], "count": 2}
ROWS = [{"name": "a", "ratio": 0.25, "ok": True, "tags": ("x", "y")},
        {"name": "b\nc", "ratio": None, "ok": False, "extra": 1}]


def run(output: Format, capsys: pytest.CaptureFixture[str], **kinds: object) -> str:
    printed: list[str] = []
    emit(output, doc=lambda: DOC, table=lambda: printed.append("table"),
         rows=lambda: ROWS, line=lambda: "3 SLOs breaching,\n 1 alert\x1b[31m firing",
         **kinds)  # type: ignore[arg-type]
    return "".join(printed) + capsys.readouterr().out


def test_json_and_yaml_carry_the_same_document(capsys: pytest.CaptureFixture[str]) -> None:
    as_json = json.loads(run(Format.json, capsys))
    assert as_json == {
        "things": [{"name": "a", "ratio": 0.25, "at": "2026-11-20T14:00:00+00:00"},
                   {"name": "b", "ratio": None, "at": "2026-11-20T14:00:00+00:00"}],
        "count": 2,
    }
    assert yaml.safe_load(run(Format.yaml, capsys)) == as_json


def test_csv_has_every_column_in_first_seen_order(capsys: pytest.CaptureFixture[str]) -> None:
    text = run(Format.csv, capsys)
    assert list(csv.reader(io.StringIO(text))) == [
        ["name", "ratio", "ok", "tags", "extra"],
        ["a", "0.25", "true", "x;y", ""],
        ["b\nc", "", "false", "", "1"],
    ]
    assert to_csv([]) == "\n"


def test_line_is_one_line_without_control_characters(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(Format.line, capsys) == "3 SLOs breaching, 1 alert\\x1b[31m firing\n"


def test_table_prints_the_tables_only(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(Format.table, capsys) == "table"


def test_credentials_are_masked_in_every_format(capsys: pytest.CaptureFixture[str]) -> None:
    doc = {"url": "http://bob:s3cret@prom:9090"}
    emit(Format.json, doc=lambda: doc, table=lambda: None)
    assert "s3cret" not in capsys.readouterr().out


@pytest.mark.parametrize("output", [Format.csv, Format.line])
def test_a_format_the_command_lacks_is_a_usage_error(output: Format) -> None:
    with pytest.raises(OutputError, match=f"^this command has no {output.value} output; use "
                                          "table, json or yaml$"):
        emit(output, doc=lambda: {}, table=lambda: None)
