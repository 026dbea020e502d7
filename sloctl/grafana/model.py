"""Small builders of Grafana dashboard JSON (schema 39): targets, panels, variables, links.

Panels get their ``id`` and ``gridPos`` from :class:`Layout`, which fills rows of 24 columns left
to right, so a dashboard is a list of panels in reading order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sloctl.grafana.datasources import JAEGER, LOKI, PROMETHEUS

Json = dict[str, Any]

SCHEMA_VERSION = 39
TAG = "sloctl"
SCORECARD_URL = "http://127.0.0.1:8501"
GRID_WIDTH = 24

REF_IDS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def prom(expr: str, legend: str = "", *, instant: bool = False, table: bool = False) -> Json:
    """A PromQL target (``refId`` is filled in by the panel)."""
    return {
        "datasource": PROMETHEUS,
        "expr": expr,
        "legendFormat": legend or "__auto",
        "instant": instant,
        "range": not instant,
        "format": "table" if table else "time_series",
        "editorMode": "code",
    }


def loki(expr: str) -> Json:
    """A LogQL target."""
    return {"datasource": LOKI, "expr": expr, "queryType": "range", "editorMode": "code"}


def jaeger_search(service: str, limit: int = 20) -> Json:
    """A Jaeger trace search for one service."""
    return {"datasource": JAEGER, "queryType": "search", "service": service, "limit": limit}


def _with_ref_ids(targets: Sequence[Json]) -> list[Json]:
    return [{**t, "refId": REF_IDS[i]} for i, t in enumerate(targets)]


def thresholds(*steps: tuple[str, float | None]) -> Json:
    """Absolute threshold steps, e.g. ``("red", None), ("green", 0.25)`` (first value None)."""
    return {"mode": "absolute", "steps": [{"color": c, "value": v} for c, v in steps]}


def panel(
    kind: str,
    title: str,
    targets: Sequence[Json] = (),
    *,
    description: str = "",
    unit: str | None = None,
    decimals: int | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    steps: Json | None = None,
    links: Sequence[Json] = (),
    options: Json | None = None,
    custom: Json | None = None,
    transformations: Sequence[Json] = (),
    datasource: Json | None = None,
) -> Json:
    """One panel without placement; ``links`` become data links on every field."""
    defaults: Json = {}
    if unit is not None:
        defaults["unit"] = unit
    if decimals is not None:
        defaults["decimals"] = decimals
    if min_value is not None:
        defaults["min"] = min_value
    if max_value is not None:
        defaults["max"] = max_value
    if steps is not None:
        defaults["thresholds"] = steps
    if links:
        defaults["links"] = list(links)
    if custom is not None:
        defaults["custom"] = custom
    out: Json = {"type": kind, "title": title}
    if description:
        out["description"] = description
    ds = datasource or (targets[0]["datasource"] if targets else None)
    if ds is not None:
        out["datasource"] = ds
    if targets:
        out["targets"] = _with_ref_ids(targets)
    out["fieldConfig"] = {"defaults": defaults, "overrides": []}
    out["options"] = options or {}
    if transformations:
        out["transformations"] = list(transformations)
    return out


def threshold_lines() -> Json:
    """Field ``custom`` options that draw the thresholds as dashed lines on a time series."""
    return {"thresholdsStyle": {"mode": "dashed"}, "lineWidth": 1, "fillOpacity": 5}


def stat_options() -> Json:
    return {
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "colorMode": "value",
        "graphMode": "area",
        "textMode": "auto",
    }


def table_merge(renames: dict[str, str]) -> list[Json]:
    """Transformations merging instant table queries into one row per label set."""
    return [
        {"id": "merge", "options": {}},
        {
            "id": "organize",
            "options": {"excludeByName": {"Time": True}, "renameByName": renames},
        },
    ]


def text(title: str, markdown: str) -> Json:
    return panel("text", title, options={"mode": "markdown", "content": markdown})


def row(title: str) -> Json:
    return {"type": "row", "title": title, "collapsed": False, "panels": []}


def dashboard_url(uid: str, variables: dict[str, str] | None = None) -> str:
    """Relative link to another dashboard keeping the time range, e.g. ``/d/uid?var-x=$x&...``."""
    query = [f"var-{k}={v}" for k, v in (variables or {}).items()]
    query.append("${__url_time_range}")
    return f"/d/{uid}?" + "&".join(query)


def data_link(title: str, uid: str, variables: dict[str, str] | None = None) -> Json:
    return {"title": title, "url": dashboard_url(uid, variables)}


def dashboard_links() -> list[Json]:
    """Links in every dashboard's header: the other sloctl dashboards and the scorecard."""
    return [
        {
            "type": "dashboards",
            "title": "sloctl",
            "tags": [TAG],
            "asDropdown": False,
            "includeVars": False,
            "keepTime": True,
            "targetBlank": False,
            "icon": "external link",
            "tooltip": "",
            "url": "",
        },
        {
            "type": "link",
            "title": "Scorecard",
            "tags": [],
            "asDropdown": False,
            "includeVars": False,
            "keepTime": False,
            "targetBlank": True,
            "icon": "doc",
            "tooltip": "sloctl's Streamlit scorecard",
            "url": "${scorecard}",
        },
    ]


def query_var(name: str, label: str, query: str, *, hide: bool = False) -> Json:
    """A Prometheus query variable (``label_values(...)``), refreshed on time range change."""
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": PROMETHEUS,
        "definition": query,
        "query": {"query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "refresh": 2,
        "sort": 1,
        "multi": False,
        "includeAll": False,
        "hide": 2 if hide else 0,
        "current": {},
        "options": [],
        "regex": "",
    }


def scorecard_var() -> Json:
    """Hidden constant holding the scorecard URL (edit it in the dashboard settings)."""
    return {
        "name": "scorecard",
        "label": "Scorecard URL",
        "type": "constant",
        "query": SCORECARD_URL,
        "hide": 2,
        "current": {"text": SCORECARD_URL, "value": SCORECARD_URL},
        "options": [{"text": SCORECARD_URL, "value": SCORECARD_URL, "selected": True}],
    }


class Layout:
    """Places panels in reading order: ids 1, 2, ... and ``gridPos`` rows of 24 columns."""

    def __init__(self) -> None:
        self.panels: list[Json] = []
        self._x = 0
        self._y = 0
        self._row_height = 0

    def add(self, item: Json, w: int = 12, h: int = 8) -> Layout:
        if item["type"] == "row":
            self._newline()
            w, h = GRID_WIDTH, 1
        elif self._x + w > GRID_WIDTH:
            self._newline()
        placed = {
            "id": len(self.panels) + 1,
            "gridPos": {"h": h, "w": w, "x": self._x, "y": self._y},
        }
        self.panels.append({**placed, **item})
        self._x += w
        self._row_height = max(self._row_height, h)
        if item["type"] == "row":
            self._newline()
        return self

    def extend(self, items: Iterable[tuple[Json, int, int]]) -> Layout:
        for item, w, h in items:
            self.add(item, w, h)
        return self

    def _newline(self) -> None:
        if self._x:
            self._y += self._row_height
        self._x = 0
        self._row_height = 0


def dashboard(
    uid: str, title: str, description: str, layout: Layout, variables: Sequence[Json] = ()
) -> Json:
    """A complete dashboard: header links, the scorecard variable and the laid-out panels."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "links": dashboard_links(),
        "templating": {"list": [*variables, scorecard_var()]},
        "annotations": {"list": []},
        "panels": layout.panels,
    }
