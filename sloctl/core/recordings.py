"""Names of the recorded series and their labels, Sloth-compatible, defined once.

``sloctl rules generate`` writes these recordings, the Grafana generator queries them, and the
CLI links to them: every name here is used by all three, so a rename happens in one place.
Sloth's dashboards (e.g. Grafana 14348) read the same names and labels.
"""

from __future__ import annotations

from collections.abc import Mapping

SLI_ERROR_PREFIX = "slo:sli_error:ratio_rate"  # + Prometheus duration: ..._rate5m, ..._rate4w
OBJECTIVE = "slo:objective:ratio"
ERROR_BUDGET = "slo:error_budget:ratio"
TIME_PERIOD_DAYS = "slo:time_period:days"
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"
PERIOD_BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
SLO_INFO = "sloth_slo_info"

# Labels of every recorded series of one SLO (and of its alerts).
SLOTH_ID = "sloth_id"
SLOTH_SERVICE = "sloth_service"
SLOTH_SLO = "sloth_slo"
SLOTH_WINDOW = "sloth_window"  # only on the SLI recordings
SLO_LABELS: tuple[str, str, str] = (SLOTH_ID, SLOTH_SERVICE, SLOTH_SLO)
# On SLO_INFO only: the spec's window ("28d", ..., or CALENDAR_MONTH, which the period recordings
# follow as a rolling 30 d and Grafana's calendar-month panels select by this label).
SLOCTL_WINDOW = "sloctl_window"
CALENDAR_MONTH = "calendar-month"


def sloth_id(service: str, name: str) -> str:
    """``<service>-<name>``, Sloth's SLO id."""
    return f"{service}-{name}"


def slo_labels(service: str, name: str, user_labels: Mapping[str, str] = {}) -> dict[str, str]:
    """The labels of every recorded series of one SLO: its spec labels, then Sloth's (these win)."""
    labels = dict(user_labels)
    labels.update(
        {SLOTH_ID: sloth_id(service, name), SLOTH_SERVICE: service, SLOTH_SLO: name}
    )
    return labels
