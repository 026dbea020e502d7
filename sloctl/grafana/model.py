"""Small helpers over Grafana's typed builders (grafana-foundation-sdk, Grafana 11.6 schema):
queries, shared panel settings, variables, links, and :class:`Board`, which numbers panels and
places them in rows of 24 columns, left to right, so a dashboard is a list of panels in reading
order.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import dashboard as sdk
from grafana_foundation_sdk.builders import loki as loki_sdk
from grafana_foundation_sdk.builders import prometheus as prom_sdk
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.cog.runtime import UnknownDataquery
from grafana_foundation_sdk.models import dashboard as model
from grafana_foundation_sdk.models import loki as loki_model
from grafana_foundation_sdk.models import prometheus as prom_model

from sloctl.grafana.datasources import JAEGER, LOKI, PROMETHEUS

Json = dict[str, Any]

TAG = "sloctl"
SCORECARD_URL = "http://127.0.0.1:8501"
GRID_WIDTH = 24
REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ALL = ".*"  # the value of "All": no filter, so series of unlisted services still show
THIS_MONTH = "now/M"  # panel time override: the calendar month so far


def prom(
    expr: str, legend: str = "", *, instant: bool = False, table: bool = False
) -> prom_sdk.Dataquery:
    """A PromQL target on ``${datasource}`` (``refId`` is set by the panel)."""
    query = (
        prom_sdk.Dataquery()
        .datasource(PROMETHEUS)
        .expr(expr)
        .legend_format(legend or "__auto")
        .editor_mode(prom_model.QueryEditorMode.CODE)
    )
    fmt = prom_model.PromQueryFormat.TABLE if table else prom_model.PromQueryFormat.TIME_SERIES
    query = query.format(fmt)
    return query.instant() if instant else query.range()


def loki(expr: str) -> loki_sdk.Dataquery:
    """A LogQL range target on ``${loki}``."""
    return (
        loki_sdk.Dataquery()
        .datasource(LOKI)
        .expr(expr)
        .query_type("range")
        .editor_mode(loki_model.QueryEditorMode.CODE)
    )


class JaegerSearch(cogbuilder.Builder[cogvariants.Dataquery]):
    """A Jaeger trace search on ``${jaeger}`` (the SDK has no Jaeger builder)."""

    def __init__(self, service: str, limit: int = 20) -> None:
        self._data: Json = {
            "datasource": JAEGER.to_json(),
            "queryType": "search",
            "service": service,
            "limit": limit,
        }

    def ref_id(self, ref_id: str) -> Self:
        self._data["refId"] = ref_id
        return self

    def build(self) -> cogvariants.Dataquery:
        return UnknownDataquery(dict(self._data))


Target = prom_sdk.Dataquery | loki_sdk.Dataquery | JaegerSearch


class PanelBuilder(Protocol):
    """What every panel builder of the SDK has (stat, timeseries, table, ...)."""

    def id(self, id_val: int) -> Self: ...
    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def grid_pos(self, grid_pos: model.GridPos) -> Self: ...
    def datasource(self, datasource: model.DataSourceRef) -> Self: ...
    def with_target(self, target: cogbuilder.Builder[cogvariants.Dataquery]) -> Self: ...
    def unit(self, unit: str) -> Self: ...
    def decimals(self, decimals: float) -> Self: ...
    def min(self, min_val: float) -> Self: ...
    def max(self, max_val: float) -> Self: ...
    def thresholds(self, thresholds: cogbuilder.Builder[model.ThresholdsConfig]) -> Self: ...
    def data_links(self, links: list[cogbuilder.Builder[model.DashboardLink]]) -> Self: ...
    def transformations(self, transformations: list[model.DataTransformerConfig]) -> Self: ...
    def time_from(self, time_from: str) -> Self: ...
    def build(self) -> model.Panel: ...


P = TypeVar("P", bound=PanelBuilder)


@dataclass(frozen=True)
class Look:
    """Settings shared by panels of any kind; ``time_from`` overrides the dashboard's range."""

    description: str = ""
    unit: str | None = None
    decimals: int | None = None
    min: float | None = None
    max: float | None = None
    steps: sdk.ThresholdsConfig | None = None
    links: Sequence[sdk.DashboardLink] = ()
    transformations: Sequence[model.DataTransformerConfig] = ()
    time_from: str | None = None
    datasource: model.DataSourceRef | None = None


def setup(panel: P, title: str, targets: Sequence[Target] = (), look: Look = Look()) -> P:
    """``panel`` with its title, targets (refIds A, B, ...), datasource and ``look``."""
    panel = panel.title(title)
    if look.description:
        panel = panel.description(look.description)
    datasource = look.datasource or (PROMETHEUS if targets else None)
    if datasource is not None:
        panel = panel.datasource(datasource)
    for ref, target in zip(REF_IDS, targets, strict=False):
        panel = panel.with_target(target.ref_id(ref))
    if look.unit is not None:
        panel = panel.unit(look.unit)
    if look.decimals is not None:
        panel = panel.decimals(look.decimals)
    if look.min is not None:
        panel = panel.min(look.min)
    if look.max is not None:
        panel = panel.max(look.max)
    if look.steps is not None:
        panel = panel.thresholds(look.steps)
    if look.links:
        panel = panel.data_links(list(look.links))
    if look.transformations:
        panel = panel.transformations(list(look.transformations))
    if look.time_from is not None:
        panel = panel.time_from(look.time_from)
    return panel


def thresholds(*steps: tuple[str, float | None]) -> sdk.ThresholdsConfig:
    """Absolute threshold steps, e.g. ``("red", None), ("green", 0.25)`` (first value None)."""
    return (
        sdk.ThresholdsConfig()
        .mode(model.ThresholdsMode.ABSOLUTE)
        .steps([model.Threshold(value=v, color=c) for c, v in steps])
    )


def table_merge(renames: dict[str, str]) -> list[model.DataTransformerConfig]:
    """Transformations merging instant table queries into one row per label set."""
    return [
        model.DataTransformerConfig(id_val="merge", options={}),
        model.DataTransformerConfig(
            id_val="organize",
            options={"excludeByName": {"Time": True}, "renameByName": renames},
        ),
    ]


def dashboard_url(uid: str, variables: dict[str, str] | None = None) -> str:
    """Relative link to another dashboard keeping the time range, e.g. ``/d/uid?var-x=$x&...``."""
    query = [f"var-{k}={v}" for k, v in (variables or {}).items()]
    query.append("${__url_time_range}")
    return f"/d/{uid}?" + "&".join(query)


def data_link(title: str, uid: str, variables: dict[str, str] | None = None) -> sdk.DashboardLink:
    """A data link (on every field of a panel) to another dashboard."""
    return sdk.DashboardLink(title).url(dashboard_url(uid, variables))


def dashboard_links() -> list[cogbuilder.Builder[model.DashboardLink]]:
    """Links in every dashboard's header: the other sloctl dashboards and the scorecard."""
    return [
        sdk.DashboardLink("sloctl")
        .type(model.DashboardLinkType.DASHBOARDS)
        .tags([TAG])
        .keep_time(True)
        .icon("external link"),
        sdk.DashboardLink("Scorecard")
        .type(model.DashboardLinkType.LINK)
        .url("${scorecard}")
        .target_blank(True)
        .icon("doc")
        .tooltip("sloctl's Streamlit scorecard"),
    ]


def query_var(
    name: str, label: str, query: str, *, multi: bool = False, hide: bool = False
) -> sdk.QueryVariable:
    """A ``label_values(...)`` variable on ``${datasource}``, refreshed on time range change;
    ``multi`` adds multi-select and "All" (``.*``): queries use ``=~"$name"``."""
    var = (
        sdk.QueryVariable(name)
        .label(label)
        .datasource(PROMETHEUS)
        .query({"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"})
        .refresh(model.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(model.VariableSort.ALPHABETICAL_ASC)
        .multi(multi)
        .include_all(multi)
    )
    if multi:
        var = var.all_value(ALL).current(model.VariableOption(text="All", value="$__all"))
    if hide:
        var = var.hide(model.VariableHide.HIDE_VARIABLE)
    return var


def scorecard_var() -> sdk.ConstantVariable:
    """Hidden constant holding the scorecard URL (edit it in the dashboard settings)."""
    return sdk.ConstantVariable("scorecard").label("Scorecard URL").value(SCORECARD_URL)


class Layout:
    """Positions in reading order: rows of 24 columns, a panel that does not fit starts a line."""

    def __init__(self) -> None:
        self._x = 0
        self._y = 0
        self._row_height = 0

    def place(self, w: int, h: int) -> model.GridPos:
        if self._x + w > GRID_WIDTH:
            self.newline()
        pos = model.GridPos(h=h, w=w, x=self._x, y=self._y)
        self._x += w
        self._row_height = max(self._row_height, h)
        return pos

    def newline(self) -> None:
        if self._x:
            self._y += self._row_height
        self._x = 0
        self._row_height = 0


class _Built(cogbuilder.Builder[model.Panel]):
    """A panel already built, for ``Dashboard.with_panel``."""

    def __init__(self, panel: model.Panel) -> None:
        self._panel = panel

    def build(self) -> model.Panel:
        return self._panel


class Board:
    """One dashboard: header links, variables (the scorecard's last), numbered, placed panels."""

    def __init__(
        self,
        uid: str,
        title: str,
        description: str,
        *,
        time_from: str,
        variables: Sequence[cogbuilder.Builder[model.VariableModel]] = (),
    ) -> None:
        self.sdk = (
            sdk.Dashboard(title)
            .uid(uid)
            .description(description)
            .tags([TAG])
            .editable()
            .tooltip(model.DashboardCursorSync.CROSSHAIR)
            .timezone("browser")
            .time(time_from, "now")
            .refresh("1m")
            .links(dashboard_links())
            .variables([*variables, scorecard_var()])
        )
        self.layout = Layout()
        self._ids = 0

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def add(self, panel: PanelBuilder, w: int = 12, h: int = 8) -> Board:
        placed = panel.id(self._next_id()).grid_pos(self.layout.place(w, h))
        self.sdk.with_panel(_Built(placed.build()))
        return self

    def row(self, title: str) -> Board:
        self.layout.newline()
        row = sdk.Row(title).id(self._next_id()).grid_pos(self.layout.place(GRID_WIDTH, 1))
        self.sdk.with_row(row.collapsed(False))
        self.layout.newline()
        return self

    def json(self) -> Json:
        """The dashboard as plain JSON values."""
        data: Json = json.loads(json.dumps(self.sdk.build(), cls=JSONEncoder))
        return data
