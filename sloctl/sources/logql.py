"""Every LogQL query sloctl sends is built here, escaped exactly like PromQL (``promql``).

Label names are checked, label values and line-filter texts are written as double-quoted strings
with backslashes, quotes and line breaks escaped, so no service name, trace id or filter text can
end a string and inject query syntax. Backtick (raw) strings are never emitted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

from sloctl.sources.promql import check_label_name, duration, escape_label_value
from sloctl.spec.models import LogRatio, Matcher
from sloctl.spec.stream_selector import parse_stream_selector

LineOp = Literal["|=", "!=", "|~", "!~"]
_MATCH_OPS = frozenset({"=", "!=", "=~", "!~"})
_LINE_OPS = frozenset({"|=", "!=", "|~", "!~"})
ANY_VALUE = ".+"  # a matcher Loki accepts as "not empty-compatible"


def quote(text: str) -> str:
    """A LogQL double-quoted string literal of ``text`` (Go escapes; also CR and tab)."""
    escaped = escape_label_value(text).replace("\r", "\\r").replace("\t", "\\t")
    return f'"{escaped}"'


def stream_selector(matchers: Iterable[Matcher]) -> str:
    """``{a="x",b=~"y"}``; Loki needs at least one matcher that rejects the empty value."""
    parts = []
    for m in matchers:
        if m.op not in _MATCH_OPS:
            raise ValueError(f"invalid matcher operator {m.op!r}; use =, !=, =~ or !~")
        parts.append(f"{check_label_name(m.label)}{m.op}{quote(m.value)}")
    if not parts:
        raise ValueError(
            'a LogQL stream selector needs at least one label matcher, e.g. {service_name="x"}'
        )
    return "{" + ",".join(parts) + "}"


def line_filter(op: LineOp, text: str) -> str:
    """`` |= "text"`` (contains), ``!=``, ``|~`` (RE2 regex) or ``!~``."""
    if op not in _LINE_OPS:
        raise ValueError(f"invalid line filter operator {op!r}; use |=, !=, |~ or !~")
    return f" {op} {quote(text)}"


def label_filter(label: str, op: Literal["=", "!=", "=~", "!~"], value: str) -> str:
    """`` | label="value"``: filters on a parsed label or structured metadata (e.g. trace_id)."""
    if op not in _MATCH_OPS:
        raise ValueError(f"invalid label filter operator {op!r}; use =, !=, =~ or !~")
    return f" | {check_label_name(label)}{op}{quote(value)}"


def one_of(values: Iterable[str]) -> str:
    """An RE2 alternation matching exactly one of ``values`` (each regex-escaped)."""
    unique = sorted(set(values))
    if not unique:
        raise ValueError("one_of needs at least one value")
    return "|".join(re.escape(v) for v in unique)


def service_matchers(
    service_label: str, services: Iterable[str] | None, selector: Sequence[Matcher] = ()
) -> tuple[Matcher, ...]:
    """``selector`` plus the service matcher: one service (=), several (=~ a|b) or any (.+)."""
    names = sorted(set(services)) if services is not None else []
    if len(names) == 1:
        svc = Matcher(service_label, "=", names[0])
    else:
        svc = Matcher(service_label, "=~", one_of(names) if names else ANY_VALUE)
    return (*selector, svc)


def log_query(
    matchers: Iterable[Matcher], filters: Iterable[tuple[LineOp, str]] = (), pipeline: str = ""
) -> str:
    """A log query: stream selector, then line filters, then a pipeline built here."""
    return stream_selector(matchers) + "".join(line_filter(op, t) for op, t in filters) + pipeline


def count_by(service_label: str, query: str, window: int) -> str:
    """``sum by (<service label>) (count_over_time(<query> [<window>]))``."""
    label = check_label_name(service_label)
    return f"sum by ({label}) (count_over_time({query} [{duration(window)}]))"


def error_filters(ind: LogRatio) -> tuple[tuple[LineOp, str], ...]:
    """The line filter that marks an error line of a log SLI."""
    if ind.error_regex is not None:
        return (("|~", ind.error_regex),)
    if ind.error_filter is not None:
        return (("|=", ind.error_filter),)
    raise ValueError("a log SLI needs errorFilter or errorRegex")


def log_ratio_total(
    ind: LogRatio, service_label: str, services: Iterable[str] | None, window: int
) -> str:
    """Lines per service over ``window`` (every line of the selector)."""
    sel = service_matchers(service_label, services, ind.selector)
    return count_by(service_label, log_query(sel), window)


def log_ratio_bad(
    ind: LogRatio, service_label: str, services: Iterable[str] | None, window: int
) -> str:
    """Error lines per service over ``window`` (selector plus the error line filter)."""
    sel = service_matchers(service_label, services, ind.selector)
    return count_by(service_label, log_query(sel, error_filters(ind)), window)


def deployment_lines(selector: str) -> str:
    """The log query of deployment event lines: the configured selector, re-escaped."""
    return stream_selector(parse_stream_selector(selector))


__all__ = ["parse_stream_selector"]
