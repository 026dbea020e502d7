"""The shapes of `sloctl report --since --until`: a row per SLO, the document, one line, a table.

A range's own budget left is ``1 - bad / (events x (1 - objective))``: the share of the errors
the objective allows over the range's events that were not used (negative when overspent).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.views import percent
from sloctl.report.scorecard import PeriodScorecard, SloLine

out = fmt.SafeConsole()


def range_budget_left(line: SloLine) -> float | None:
    """The share of the range's own error budget left (None without events)."""
    if not line.events or line.bad_events is None or line.objective >= 1:
        return None
    return 1 - line.bad_events / (line.events * (1 - line.objective))


def range_row(line: SloLine) -> dict[str, Any]:
    """One SLO over the range (a CSV row; JSON and YAML carry the same values)."""
    return {
        "slo_id": line.slo_id, "service": line.service, "team": line.team,
        "objective": line.objective, "attainment": line.attainment, "events": line.events,
        "bad_events": line.bad_events, "range_budget_left": range_budget_left(line),
        "window": line.window, "window_budget_spent": line.budget_spent,
        "window_budget_left": line.budget_left, "status": line.status.value,
        "reason": line.reason,
    }


def range_doc(card: PeriodScorecard, label: str, rows: Sequence[dict[str, Any]]
              ) -> dict[str, Any]:
    c = card.combined
    return {
        "range": label, "since": card.period.start, "until": card.period.end,
        "scope": card.scope.key, "measured_at": card.measured_at,
        "combined": {"slos": c.slos, "met": c.met, "breached": c.breached,
                     "attainment": c.sli, "objective": c.objective,
                     "range_budget_left": c.budget_left, "events": c.events,
                     "bad_events": c.bad_events},
        "slos": list(rows), "notes": list(card.notes),
    }


def _attainment(ratio: float | None) -> str:
    return "unknown" if ratio is None else f"{round(ratio * 100, 3):g} %"


def range_line(card: PeriodScorecard, label: str) -> str:
    """``report last 30d: 5 SLOs, 4 met, 1 breached; attainment 99.93 % ...``."""
    c = card.combined
    text = (f"report {label} ({card.scope.key}): {c.slos} SLOs, {c.met} met, {c.breached} "
            f"breached; attainment {_attainment(c.sli)}, budget left {percent(c.budget_left)}")
    worst = next((s for s in card.slos if s.attainment is not None), None)
    if worst is not None and c.slos > 1:
        text += (f"; worst {worst.slo_id} {_attainment(worst.attainment)} "
                 f"(objective {_attainment(worst.objective)})")
    return text


def print_range(card: PeriodScorecard, label: str, rows: Sequence[dict[str, Any]]) -> None:
    """The human table: one line per SLO (worst first), then the combined line and notes."""
    table = Table(box=box.SIMPLE_HEAD, title=f"SLOs over {label} ({card.period_label})",
                  title_justify="left")
    for name in ("SLO", "objective", "attainment", "events", "bad", "range budget left",
                 "window budget spent", "window budget left", "status"):
        table.add_column(name, justify="left" if name in ("SLO", "status") else "right")
    for r in rows:
        table.add_row(
            r["slo_id"], _attainment(r["objective"]), _attainment(r["attainment"]),
            _count(r["events"]), _count(r["bad_events"]), percent(r["range_budget_left"]),
            percent(r["window_budget_spent"]), percent(r["window_budget_left"]), r["status"],
        )
    out.print(table)
    c = card.combined
    out.print(f"combined: {c.met} of {c.slos} SLOs met, attainment {_attainment(c.sli)} "
              f"(objective {_attainment(c.objective)}), budget left {percent(c.budget_left)}")
    for note in card.notes:
        out.print(f"note: {note}")


def _count(value: float | None) -> str:
    return "unknown" if value is None else f"{value:,.0f}"
