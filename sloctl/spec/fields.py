"""Validated field types shared by the spec schema and the settings models.

Each validator raises ``ValueError`` with an actionable message; pydantic reports it at the
field's location.
"""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, PlainValidator

from sloctl.spec.durations import parse_duration, parse_threshold
from sloctl.spec.models import Matcher, MatchOp, Window
from sloctl.spec.presets import get_preset, split_indicator_preset

LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
METRIC_NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
SLO_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
WINDOW_PLACEHOLDER = "{{window}}"
MAX_DESCRIPTION = 1050
_MATCH_OPS: dict[str, MatchOp] = {"regex": "=~", "not": "!=", "notRegex": "!~"}


def check_label_name(value: str) -> str:
    if not LABEL_NAME_RE.fullmatch(value):
        raise ValueError(
            f"invalid label name {value!r}; Prometheus label names match "
            "[a-zA-Z_][a-zA-Z0-9_]*, e.g. service_name"
        )
    if value.startswith("__"):
        raise ValueError(f"label name {value!r} starts with '__', which Prometheus reserves")
    return value


def check_metric_name(value: str) -> str:
    if not METRIC_NAME_RE.fullmatch(value):
        raise ValueError(
            f"invalid metric name {value!r}; Prometheus metric names match "
            "[a-zA-Z_:][a-zA-Z0-9_:]*, e.g. http_requests_total"
        )
    return value


def check_slo_name(value: str) -> str:
    if len(value) > 63 or not SLO_NAME_RE.fullmatch(value):
        raise ValueError(
            f"invalid name {value!r}; use at most 63 lowercase letters, digits and '-', "
            "starting and ending with a letter or digit, e.g. checkout-latency"
        )
    return value


def check_service_name(value: str) -> str:
    if not value.strip() or value != value.strip() or any(c in value for c in "\n\r\t"):
        raise ValueError(
            f"invalid service name {value!r}; use the service's label value, e.g. order "
            "(not empty, no surrounding spaces or line breaks)"
        )
    return value


def check_objective(value: float) -> float:
    if not math.isfinite(value) or not 0 < value < 100:
        raise ValueError(
            "objective must be a percentage between 0 and 100 (exclusive), e.g. 99.5; "
            f"got {value:g}"
        )
    return value


def check_template(value: str) -> str:
    if WINDOW_PLACEHOLDER not in value:
        hint = " (not Sloth's {{.window}})" if "{{.window}}" in value else ""
        raise ValueError(
            f"query must contain {WINDOW_PLACEHOLDER}{hint} where the range goes, e.g. "
            'sum by (service) (rate(http_requests_total{code=~"5.."}[{{window}}]))'
        )
    return value


def check_description(value: str) -> str:
    if len(value) > MAX_DESCRIPTION:
        raise ValueError(f"description is {len(value)} characters; keep it to {MAX_DESCRIPTION}")
    return value


def check_preset(value: str) -> str:
    try:
        get_preset(value)
    except KeyError as exc:
        raise ValueError(str(exc)) from None
    return value


def check_indicator_preset(value: str) -> str:
    try:
        split_indicator_preset(value)
    except KeyError as exc:
        raise ValueError(str(exc)) from None
    return value


def check_line_filter(value: str) -> str:
    if not value:
        raise ValueError(
            "a line filter cannot be empty (it would match every line); use the text that marks "
            "an error line, e.g. level=error"
        )
    return value


_NOT_RE2 = re.compile(r"\(\?<?[=!]|\\[1-9]")


def check_line_regex(value: str) -> str:
    check_line_filter(value)
    _check_regex(value)
    if _NOT_RE2.search(value):
        raise ValueError(
            f"regular expression {value!r} uses lookaround or a backreference, which Loki's RE2 "
            "engine does not support; rewrite it without (?=, (?!, (?<=, (?<! and \\1"
        )
    return value


def parse_window(value: object) -> Window:
    """``"28d"``/``"4w"``/seconds -> rolling window; ``"calendar-month"`` -> calendar month."""
    if value == "calendar-month":
        return Window(None, "month")
    try:
        return Window(parse_duration(value))
    except ValueError:
        raise ValueError(
            f"invalid window {value!r}; use a rolling duration such as 28d, 30d, 4w or 7d, "
            "or calendar-month"
        ) from None


def parse_matcher(value: object) -> tuple[MatchOp, str]:
    """A selector value: ``"x"`` (equality) or ``{regex|not|notRegex: "x"}``."""
    if isinstance(value, str):
        return "=", value
    if isinstance(value, dict) and len(value) == 1:
        [(key, text)] = value.items()
        if key in _MATCH_OPS and isinstance(text, str):
            op = _MATCH_OPS[key]
            if op in ("=~", "!~"):
                _check_regex(text)
            return op, text
    raise ValueError(
        "a selector value is a string (equality) or one mapping of {regex: ...}, {not: ...} "
        f'or {{notRegex: ...}}, e.g. code: {{regex: "5.."}}; got {value!r}'
    )


def _check_regex(text: str) -> None:
    try:
        re.compile(text)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {text!r}: {exc}") from None


def matchers(selector: dict[str, tuple[MatchOp, str]] | None) -> tuple[Matcher, ...]:
    """Selector mapping -> matchers sorted by label, then operator (a canonical order)."""
    items = sorted((selector or {}).items())
    return tuple(Matcher(label, op, value) for label, (op, value) in items)


LabelName = Annotated[str, AfterValidator(check_label_name)]
MetricName = Annotated[str, AfterValidator(check_metric_name)]
SloName = Annotated[str, AfterValidator(check_slo_name)]
ServiceName = Annotated[str, AfterValidator(check_service_name)]
Objective = Annotated[float, AfterValidator(check_objective)]
QueryTemplate = Annotated[str, AfterValidator(check_template)]
Description = Annotated[str, AfterValidator(check_description)]
LineFilterText = Annotated[str, AfterValidator(check_line_filter)]
LineFilterRegex = Annotated[str, AfterValidator(check_line_regex)]
PresetName = Annotated[str, AfterValidator(check_preset)]
IndicatorPresetName = Annotated[str, AfterValidator(check_indicator_preset)]
WindowSpec = Annotated[Window, PlainValidator(parse_window)]
Threshold = Annotated[float, PlainValidator(parse_threshold)]
DurationSeconds = Annotated[int, PlainValidator(parse_duration)]
DurationOrZero = Annotated[int, PlainValidator(lambda v: parse_duration(v, allow_zero=True))]
MatcherValue = Annotated[tuple[MatchOp, str], PlainValidator(parse_matcher)]
Selector = dict[LabelName, MatcherValue]
