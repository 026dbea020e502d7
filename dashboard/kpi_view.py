"""The Overview's KPI tiles, from a stored weekly scorecard: the email's digits (``fmt``, and
the email's choices: availability to 0.001 pp, "9 of 10" SLOs).

No Streamlit here. Each tile: a traffic light and the goal in its label, the value, the change
against the previous period (word and arrow, not colour alone), the goal, sample size and
detail in its help, and its 12-period trend for the sparkline (in the tile's display unit).
Unknown values read ``n/a``, never 0 or 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import sloctl.report.fmt as fmt
from sloctl.report.scorecard import Kpi, PeriodScorecard, ServiceLine

# the traffic light: an icon whose shape says it too (Streamlit's bundled Material Symbols)
LIGHTS = {True: ":green[:material/check_circle:]", False: ":red[:material/cancel:]",
          None: ":gray[:material/help:]"}
GOAL_WORDS = {True: "met", False: "missed", None: "unknown"}
CHANGE_COLOURS = {"better": "green", "worse": "red"}
ALERT_SIGNALS = ("error_ratio", "latency_p95")  # the default alert rules' signals


@dataclass(frozen=True)
class KpiTile:
    label: str
    value: str
    delta: str | None
    color: str  # a st.metric delta_color
    help: str
    trend: tuple[float, ...]  # oldest first, in the unit the value is written in; () for none
    note: str | None = None  # the goal, beside the delta (the label's icon: met or missed)


def scaled(unit: str, value: float | None) -> float | None:
    """A value in the unit tiles and charts draw it in: percent, minutes, per day."""
    if value is None:
        return None
    if unit in ("ratio", "sli"):
        return value * 100
    if unit == "seconds":
        return value / 60
    return value


def kpi_value(kpi: Kpi) -> str:
    """The KPI's value as the email writes it (availability to 0.001 pp, SLOs "9 of 10")."""
    if kpi.key == "slos_met" and kpi.value is not None:
        return f"{fmt.count(kpi.value)} of {kpi.n}"
    if kpi.key == "availability":
        return fmt.attainment(kpi.value)
    return fmt.value(kpi.unit, kpi.value)


def kpi_delta(kpi: Kpi) -> str:
    """The KPI's change as the email writes it."""
    unit = {"availability": "sli", "slos_met": "count"}.get(kpi.key, kpi.unit)
    return fmt.delta(unit, kpi.change)


def kpi_tile(kpi: Kpi) -> KpiTile:
    previous = fmt.attainment(kpi.change.previous) if kpi.key == "availability" \
        else fmt.value(kpi.unit, kpi.change.previous)
    parts = [f"Goal {kpi.goal}: {GOAL_WORDS[kpi.goal_met]}." if kpi.goal else "No goal.",
             f"Previous period: {previous}."]
    if kpi.detail:
        parts.append(kpi.detail[0].upper() + kpi.detail[1:] + ".")
    return KpiTile(
        label=f"{LIGHTS[kpi.goal_met]} {kpi.title}",
        value=kpi_value(kpi),
        delta=kpi_delta(kpi),
        color=CHANGE_COLOURS.get(kpi.change.direction or "", "gray"),
        help=" ".join(parts),
        trend=tuple(v for v in (scaled(kpi.unit, x) for x in kpi.trend) if v is not None),
        note=f"goal {kpi.goal}" if kpi.goal else None,
    )


def _alert_verdict(service: ServiceLine) -> bool | None:
    flags = [s.goal_met for s in service.signals if s.signal in ALERT_SIGNALS]
    if any(f is False for f in flags):
        return False
    return None if not flags or any(f is None for f in flags) else True


def alert_rules_tile(card: PeriodScorecard) -> KpiTile:
    """Services whose week stayed inside the default alert rules (errors and p95)."""
    verdicts = {s.service: _alert_verdict(s) for s in card.services}
    inside = sum(1 for v in verdicts.values() if v is True)
    outside = [s for s in card.services if verdicts[s.service] is False]
    unknown = sorted(name for name, v in verdicts.items() if v is None)
    goals = {s.signal: s.goal for line in card.services for s in line.signals if s.goal}
    rule = ", ".join(f"{fmt.SIGNAL_TITLES[k].lower()} {goals[k]}" for k in ALERT_SIGNALS
                     if k in goals) or "error ratio and p95 latency"
    met = None if not verdicts or (unknown and not outside) else not outside
    missed = [
        f"{s.service} {fmt.SIGNAL_TITLES[sig.signal].lower()} "
        f"{fmt.value(fmt.SIGNAL_UNITS[sig.signal], sig.value)}"
        for s in outside for sig in s.signals
        if sig.signal in ALERT_SIGNALS and sig.goal_met is False
    ]
    parts = [f"Goal: every service inside the alert rules ({rule}): {GOAL_WORDS[met]}."]
    if missed:
        parts.append("Outside: " + ", ".join(missed) + ".")
    if unknown:
        parts.append("No data: " + ", ".join(unknown) + ".")
    return KpiTile(
        label=f"{LIGHTS[met]} Services inside the alert rules",
        value=f"{inside}/{len(verdicts)}" if verdicts else fmt.UNKNOWN,
        delta=f"{len(outside)} outside" if outside else "none outside",
        color="red" if outside else "gray",
        help=" ".join(parts),
        trend=(),
        note=f"goal {rule}",
    )


def tiles(card: PeriodScorecard) -> list[KpiTile]:
    """The scorecard's KPIs in the email's order, then the alert rules' tile."""
    return [*(kpi_tile(k) for k in card.kpis), alert_rules_tile(card)]
