"""Dashboard uids and the data links between dashboards (a clicked series opens its SLO or
service, keeping the time range)."""

from __future__ import annotations

from grafana_foundation_sdk.builders.dashboard import DashboardLink

from sloctl.grafana.model import data_link

GOLDEN_UID = "sloctl-golden-signals"
OVERVIEW_UID = "sloctl-slo-overview"
SLO_UID = "sloctl-slo"
ALERTS_UID = "sloctl-alerts"
DORA_UID = "sloctl-dora"


def to_slo(labels: str) -> DashboardLink:
    """To one SLO's dashboard from a series (``labels="__field.labels"``) or a table row
    (``labels="__data.fields"``) that carries ``sloth_service`` and ``sloth_slo``."""
    return data_link(
        f"Error budget of ${{{labels}.sloth_id}}",
        SLO_UID,
        {"service": f"${{{labels}.sloth_service}}", "slo": f"${{{labels}.sloth_slo}}"},
    )


def to_service(field: str) -> DashboardLink:
    """To the golden signals of the service in table column ``field``."""
    return data_link(
        f"Golden signals of ${{__data.fields.{field}}}",
        GOLDEN_UID,
        {"service": f"${{__data.fields.{field}}}"},
    )


def to_selected_services() -> DashboardLink:
    """To the golden signals of the services selected in ``$service`` (every value kept)."""
    return DashboardLink("Golden signals of $service").url(
        f"/d/{GOLDEN_UID}?${{service:queryparam}}&${{__url_time_range}}"
    )


TO_SLO_SERIES = to_slo("__field.labels")
TO_SLO_ROW = to_slo("__data.fields")
TO_ALERTS = data_link("Alerts and incidents", ALERTS_UID)
TO_OVERVIEW = data_link("SLO overview", OVERVIEW_UID)
