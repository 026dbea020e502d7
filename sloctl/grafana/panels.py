"""Panels of each kind the dashboards use, built with the SDK's typed panel builders."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from grafana_foundation_sdk.builders import bargauge as bargauge_sdk
from grafana_foundation_sdk.builders import common as common_sdk
from grafana_foundation_sdk.builders import dashboard as dashboard_sdk
from grafana_foundation_sdk.builders import logs as logs_sdk
from grafana_foundation_sdk.builders import stat as stat_sdk
from grafana_foundation_sdk.builders import table as table_sdk
from grafana_foundation_sdk.builders import text as text_sdk
from grafana_foundation_sdk.builders import timeseries as timeseries_sdk
from grafana_foundation_sdk.models import common
from grafana_foundation_sdk.models import text as text_model

from sloctl.grafana.model import Json, Look, Target, prom, setup, thresholds


def stat(title: str, targets: Sequence[Target], look: Look = Look()) -> stat_sdk.Panel:
    """The last value, coloured by the thresholds, with a sparkline."""
    reduce = common_sdk.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)
    panel = (
        stat_sdk.Panel()
        .reduce_options(reduce)
        .color_mode(common.BigValueColorMode.VALUE)
        .graph_mode(common.BigValueGraphMode.AREA)
        .text_mode(common.BigValueTextMode.AUTO)
    )
    return setup(panel, title, targets, look)


def count_tile(title: str, expr: str, legend: str, colour: str = "red",
               look: Look = Look()) -> stat_sdk.Panel:
    """A tile counting something that should be zero: green at 0, ``colour`` from 1."""
    steps = thresholds(("green", None), (colour, 1))
    return stat(title, [prom(expr, legend, instant=True)], replace(look, steps=steps))


def timeseries(
    title: str, targets: Sequence[Target], look: Look = Look(), *, threshold_lines: bool = False
) -> timeseries_sdk.Panel:
    """A time series; ``threshold_lines`` draws the thresholds as dashed lines."""
    panel = timeseries_sdk.Panel()
    if threshold_lines:
        style = common_sdk.GraphThresholdsStyleConfig()
        dashed = style.mode(common.GraphThresholdsStyleMode.DASHED)
        panel = panel.thresholds_style(dashed).line_width(1).fill_opacity(5)
    return setup(panel, title, targets, look)


def table(title: str, targets: Sequence[Target], look: Look = Look()) -> table_sdk.Panel:
    return setup(table_sdk.Panel(), title, targets, look)


def bargauge(
    title: str, targets: Sequence[Target], look: Look = Look(), *, gradient: bool = False
) -> bargauge_sdk.Panel:
    """Horizontal bars, one per series."""
    mode = common.BarGaugeDisplayMode.GRADIENT if gradient else common.BarGaugeDisplayMode.BASIC
    last = common_sdk.ReduceDataOptions().calcs(["lastNotNull"]).fields("").values(False)
    panel = (
        bargauge_sdk.Panel()
        .orientation(common.VizOrientation.HORIZONTAL)
        .display_mode(mode)
        .reduce_options(last)
    )
    return setup(panel, title, targets, look)


def logs(title: str, targets: Sequence[Target], look: Look = Look()) -> logs_sdk.Panel:
    panel = (
        logs_sdk.Panel()
        .show_time(True)
        .sort_order(common.LogsSortOrder.DESCENDING)
        .wrap_log_message(True)
    )
    return setup(panel, title, targets, look)


def text(title: str, markdown: str) -> text_sdk.Panel:
    return text_sdk.Panel().title(title).mode(text_model.TextMode.MARKDOWN).content(markdown)


def alertlist(title: str, options: Json, description: str) -> dashboard_sdk.Panel:
    """Grafana's alert list (no typed builder in the SDK: the generic panel with its options)."""
    return dashboard_sdk.Panel().type("alertlist").title(title).description(description).options(
        options
    )
