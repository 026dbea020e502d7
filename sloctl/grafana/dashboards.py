"""The sloctl dashboards: golden signals, SLO overview, SLO error budget, alerts and incidents,
DORA, each a module built with Grafana's typed builders.

Raw-metric queries use the OpenTelemetry names as they land in Prometheus; SLO queries use the
Sloth-compatible recording rules of rules/generated (``slo:*`` with ``sloth_*`` labels); the
``sloctl_*`` series are what ``sloctl serve`` exposes on ``/metrics``.
"""

from __future__ import annotations

from sloctl.grafana.alerts import alerts
from sloctl.grafana.dora_dashboard import dora
from sloctl.grafana.golden import golden_signals
from sloctl.grafana.model import Json
from sloctl.grafana.overview import slo_overview
from sloctl.grafana.slo import slo_detail


def all_dashboards() -> dict[str, Json]:
    """Every dashboard by file name (``<uid>.json``)."""
    boards = (golden_signals(), slo_overview(), slo_detail(), alerts(), dora())
    return {f"{d['uid']}.json": d for d in boards}
