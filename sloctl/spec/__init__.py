"""SLO specs: file formats, presets and the resolved models the engine consumes."""

from sloctl.spec.loader import load_specs, validate_paths
from sloctl.spec.models import (
    HistogramLatency,
    Indicator,
    LogRatio,
    Matcher,
    MetricRatio,
    QueryRatio,
    SLOSpec,
    Window,
)
from sloctl.spec.presets import PRESETS, HttpPreset, get_preset

__all__ = [
    "PRESETS",
    "HistogramLatency",
    "HttpPreset",
    "Indicator",
    "LogRatio",
    "Matcher",
    "MetricRatio",
    "QueryRatio",
    "SLOSpec",
    "Window",
    "get_preset",
    "load_specs",
    "validate_paths",
]
