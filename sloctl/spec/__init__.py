"""SLO specs: file formats, presets and the resolved models the engine consumes.

The names below are imported on first use (PEP 562): importing one submodule, such as
``sloctl.spec.durations``, does not load every spec format (the CLI's start-up time).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
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

_WHERE = {
    "load_specs": "loader", "validate_paths": "loader",
    "HistogramLatency": "models", "Indicator": "models", "LogRatio": "models", "Matcher": "models",
    "MetricRatio": "models", "QueryRatio": "models", "SLOSpec": "models", "Window": "models",
    "PRESETS": "presets", "HttpPreset": "presets", "get_preset": "presets",
}

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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'sloctl.spec' has no attribute {name!r}")
    return getattr(importlib.import_module(f"sloctl.spec.{module}"), name)
