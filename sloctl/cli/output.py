"""Output formats of the reading commands: ``-o table|json|yaml|csv|line``.

Each reading command hands ``emit`` the same data in the shapes the formats need: ``doc`` (the
JSON document; YAML is the same document), ``rows`` (flat records, one CSV line each), ``line``
(a one-line summary for a chat bot) and ``table`` (prints the human tables). JSON and YAML carry
exactly the same values; CSV has a header row and leaves unknown values empty; the line has no
newline nor control character. Credentials are masked in every format.

A listing whose JSON document is an array may also give ``stream``, the same items as an
iterable: JSON is then written item by item as it yields them (``write_json_stream``: constant
memory, output from the first row, the same bytes as the document's JSON).
"""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer

from sloctl.errors import SloctlError

Row = Mapping[str, Any]


class Format(StrEnum):
    table = "table"
    json = "json"
    yaml = "yaml"
    csv = "csv"
    line = "line"


FORMAT_HELP = "table, json, yaml, csv (one row per item) or line (a one-line summary)."
ReadOutputOption = Annotated[Format, typer.Option("--output", "-o", help=FORMAT_HELP)]


class OutputError(SloctlError):
    """A format this command cannot produce."""


def emit(
    output: Format,
    *,
    doc: Callable[[], Any],
    table: Callable[[], None],
    rows: Callable[[], Sequence[Row]] | None = None,
    line: Callable[[], str] | None = None,
    stream: Callable[[], Iterable[Any]] | None = None,
) -> None:
    """Print the command's data in ``output`` (each shape is built only when asked for; JSON
    from ``stream`` when given, whose items must be those of the array ``doc``)."""
    if output is Format.table:
        table()
    elif output is Format.json and stream is not None:
        write_json_stream(stream())
    elif output is Format.json:
        from sloctl.cli.fmt import write_json

        write_json(doc())
    elif output is Format.yaml:
        _write(to_yaml(doc()).rstrip("\n"))
    elif output is Format.csv:
        if rows is None:
            raise OutputError("this command has no csv output; use table, json or yaml")
        _write(to_csv(rows()).rstrip("\n"))
    else:
        if line is None:
            raise OutputError("this command has no line output; use table, json or yaml")
        from sloctl.cli.fmt import escape_controls

        _write(escape_controls(" ".join(line().split())))


def to_json(doc: Any) -> str:
    """JSON of dataclasses, datetimes and enums (``fmt.to_json``: unknown values are null)."""
    from sloctl.cli.fmt import to_json as fmt_json

    return fmt_json(doc)


def write_json_stream(items: Iterable[Any]) -> int:
    """Print ``items`` as a JSON array, each item as soon as ``items`` yields it, masked; the
    text is ``to_json(list(items))``'s, line for line. Returns how many were written."""
    from sloctl.redact import redact

    out = sys.stdout
    out.write("[")
    count = 0
    for count, item in enumerate(items, start=1):
        text = "  " + to_json(item).replace("\n", "\n  ")  # JSON strings hold no raw newline
        out.write(("\n" if count == 1 else ",\n") + redact(text))
    out.write("\n]\n" if count else "]\n")
    out.flush()
    return count


def to_yaml(doc: Any) -> str:
    """The JSON document as YAML (same keys and values, block style, keys in order)."""
    import yaml

    return yaml.safe_dump(json.loads(to_json(doc)), sort_keys=False, allow_unicode=True)


def to_csv(rows: Sequence[Row]) -> str:
    """CSV with a header of every key in first-seen order; None is empty, lists join with ';'."""
    import io

    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buffer.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ";".join(_cell(v) for v in value)
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write(text: str) -> None:
    """``text`` on stdout with every credential masked (``sloctl.redact``)."""
    from sloctl.redact import redact

    sys.stdout.write(redact(text) + "\n")
    sys.stdout.flush()
