"""Small formatting helpers shared by the CLI commands (colours, units, JSON, safe text).

Text printed through ``SafeConsole`` (every command's console) is safe: credentials masked
(``sloctl.redact``) and control characters from stored data (ESC, NUL, C1, bidi overrides)
escaped as ``\\x1b``-style text, so a webhook label cannot drive the operator's terminal.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from enum import Enum
from typing import Any

from rich.console import Console
from rich.text import Text

from sloctl.core.alerts import AlertState
from sloctl.core.slo import SLOStatus
from sloctl.redact import escape_controls, redact, safe

__all__ = ["SafeConsole", "escape_controls", "safe", "write_json"]


class SafeConsole(Console):
    """A rich Console whose every printed string (tables' cells included) goes through
    ``safe``."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(safe(text), **kwargs)


def pct(x: float | None, digits: int = 3) -> str:
    """0.99512 -> '99.512%'; None -> 'unknown'."""
    return "unknown" if x is None else f"{x * 100:.{digits}f}%"


def num(x: float | None, digits: int = 2) -> str:
    return "unknown" if x is None else f"{x:.{digits}f}"


def seconds_ms(x: float | None) -> str:
    return "unknown" if x is None else f"{x * 1000:.0f} ms"


def minutes(x: float | None) -> str:
    if x is None:
        return "unknown"
    sign = "-" if x < 0 else ""
    m = abs(x)
    if m >= 1440:
        return f"{sign}{m / 1440:.1f} d"
    if m >= 120:
        return f"{sign}{m / 60:.1f} h"
    return f"{sign}{m:.0f} min"


def budget_style(remaining: float | None) -> str:
    if remaining is None:
        return "dim"
    if remaining <= 0:
        return "bold red"
    if remaining < 0.25:
        return "yellow"
    return "green"


def burn_style(burn: float | None, factor: float = 1.0) -> str:
    if burn is None:
        return "dim"
    if burn > 14.4:
        return "bold red"
    if burn > factor:
        return "yellow"
    return "green"


STATE_STYLE = {
    AlertState.FIRING: "bold red",
    AlertState.PENDING: "yellow",
    AlertState.RESOLVED: "cyan",
    AlertState.INACTIVE: "green",
}


def when(at: datetime | None) -> str:
    return "-" if at is None else at.strftime("%Y-%m-%d %H:%M:%SZ")


def _default(o: Any) -> Any:
    if dataclasses.is_dataclass(o) and not isinstance(o, type):
        doc = {f.name: getattr(o, f.name) for f in dataclasses.fields(o)}
        if isinstance(o, SLOStatus):
            doc["no_data"] = o.no_data  # the SLO's selectors match no series: it is blind
        return doc
    if isinstance(o, datetime):
        return o.isoformat()
    if isinstance(o, Enum):
        return o.value
    if isinstance(o, (set, frozenset, tuple)):
        return list(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def to_json(obj: Any) -> str:
    """JSON of dataclasses, datetimes and enums (NaN-free: unknown values are null)."""
    return json.dumps(obj, default=_default, indent=2, allow_nan=False)


JSON_BATCH_CHARS = 1 << 16


def write_json(obj: Any) -> None:
    """Print ``to_json(obj)`` to stdout as it is encoded, masked, as plain text: no colouring
    or wrapping, and never the whole text in memory (an evaluation of 10,000 services is 155 MB
    of JSON). The encoder yields every JSON string whole, so masking batches of its pieces
    masks what masking the whole text would."""
    out = sys.stdout
    batch: list[str] = []
    size = 0
    for piece in json.JSONEncoder(default=_default, indent=2, allow_nan=False).iterencode(obj):
        batch.append(piece)
        size += len(piece)
        if size >= JSON_BATCH_CHARS:
            out.write(redact("".join(batch)))
            batch.clear()
            size = 0
    out.write(redact("".join(batch)) + "\n")
    out.flush()

