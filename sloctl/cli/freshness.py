"""How old a reading command's data is: the age of the last evaluation, and the stale limit.

Every command that reads evaluations says how old they are (stderr in table form, a field in
JSON/YAML, part of the ``line`` summary) and exits ``EXIT_STALE`` (5) when the evaluation is older
than ``--max-age`` (default 3 evaluation intervals; ``0`` turns the check off). With ``--at``
the age is counted from that instant: the evaluation found is that much older than asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

import typer

from sloctl.core.alert_rules import STALE_INTERVALS
from sloctl.core.humanize import duration_text
from sloctl.errors import EXIT_BREACH, EXIT_STALE

__all__ = ["STALE_INTERVALS", "Freshness", "MaxAgeOption", "age_text", "exit_code", "warning"]
MaxAgeOption = Annotated[str | None, typer.Option(
    "--max-age", help="Exit 5 when the last evaluation is older than this (default 3 evaluation "
    "intervals; a duration such as 10m; 0 turns the check off).", show_default=False)]


@dataclass(frozen=True)
class Freshness:
    """The last evaluation's instant, its age at ``reference`` and the limit (None: no check)."""

    evaluated_at: datetime
    reference: datetime
    limit_seconds: float | None

    @property
    def age_seconds(self) -> float:
        return max(0.0, (self.reference - self.evaluated_at).total_seconds())

    @property
    def stale(self) -> bool:
        return self.limit_seconds is not None and self.age_seconds > self.limit_seconds

    def text(self) -> str:
        """``data 40 s old`` (``stale`` appended past the limit)."""
        stale = f", stale (limit {age_text(self.limit_seconds or 0)})" if self.stale else ""
        return f"data {age_text(self.age_seconds)} old{stale}"

    def json(self) -> dict[str, object]:
        return {
            "evaluated_at": self.evaluated_at,
            "data_age_seconds": round(self.age_seconds, 3),
            "max_age_seconds": self.limit_seconds,
            "stale": self.stale,
        }


def age_text(seconds: float) -> str:
    """``40 s``, ``12 min``, ``3.0 h``, ``2.1 d``."""
    return duration_text(seconds)


def exit_code(fresh: Freshness | None, code: int) -> int:
    """``code`` of the command, or 5 when the data is stale (a ``--fail-on`` match, 1, wins:
    a breach or a firing alert was seen, however old the data)."""
    if fresh is not None and fresh.stale and code != EXIT_BREACH:
        return EXIT_STALE
    return code


def warning(fresh: Freshness) -> str:
    """The stderr line of a table output (Rich markup)."""
    at = fresh.evaluated_at.strftime("%Y-%m-%d %H:%M:%SZ")
    if not fresh.stale:
        return f"[dim]{fresh.text()} (last evaluation {at})[/]"
    return (f"[bold red]stale data:[/] the last evaluation ({at}) is "
            f"{age_text(fresh.age_seconds)} old, over the limit of "
            f"{age_text(fresh.limit_seconds or 0)}; is `sloctl serve` running? "
            "(--max-age changes the limit)")
