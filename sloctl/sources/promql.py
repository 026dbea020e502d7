"""Every PromQL query sloctl sends is built here, with label names checked and values escaped.

Queries aggregate ``by (<service label>)`` and never filter on a service: one query per signal and
window serves every SLO and service that share a metric (sloctl picks its rows client-side).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sloctl.core.windows import window_name
from sloctl.spec.models import HistogramLatency, Matcher, MetricRatio, QueryRatio
from sloctl.spec.presets import PRESETS

WINDOW_PLACEHOLDER = "{{window}}"
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_OPS = frozenset({"=", "!=", "=~", "!~"})


def escape_label_value(value: str) -> str:
    """Escape a label value for a double-quoted PromQL string."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def check_label_name(name: str) -> str:
    """Return ``name`` if it is a valid Prometheus label name, else raise ValueError."""
    if not _LABEL_NAME.match(name):
        raise ValueError(f"invalid Prometheus label name {name!r}: use [a-zA-Z_][a-zA-Z0-9_]*")
    return name


def check_metric_name(name: str) -> str:
    """Return ``name`` if it is a valid Prometheus metric name, else raise ValueError."""
    if not _METRIC_NAME.match(name):
        raise ValueError(f"invalid Prometheus metric name {name!r}: use [a-zA-Z_:][a-zA-Z0-9_:]*")
    return name


def duration(seconds: int) -> str:
    """PromQL duration literal: 300 -> '5m', 2419200 -> '28d', 1234567 -> '1234567s'."""
    return window_name(seconds)


def selector(metric: str, matchers: Iterable[Matcher] = ()) -> str:
    """``metric{a="x",b=~"y"}`` with every label value escaped."""
    parts = []
    for m in matchers:
        if m.op not in _OPS:
            raise ValueError(f"invalid matcher operator {m.op!r}")
        parts.append(f'{check_label_name(m.label)}{m.op}"{escape_label_value(m.value)}"')
    body = ",".join(parts)
    return f"{check_metric_name(metric)}{{{body}}}" if body else check_metric_name(metric)


def _by(labels: Sequence[str]) -> str:
    return ", ".join(check_label_name(label) for label in labels)


def increase_by(metric: str, matchers: Iterable[Matcher], by: Sequence[str], window: int) -> str:
    """``sum by (by) (increase(metric{matchers}[window]))``."""
    return f"sum by ({_by(by)}) (increase({selector(metric, matchers)}[{duration(window)}]))"


def render_template(template: str, window: int) -> str:
    """Substitute the window into a user PromQL template (``{{window}}`` -> ``5m``)."""
    if WINDOW_PLACEHOLDER not in template:
        raise ValueError(f"query template lacks {WINDOW_PLACEHOLDER}: {template!r}")
    return template.replace(WINDOW_PLACEHOLDER, duration(window))


def ratio_total(ind: MetricRatio, service_label: str, window: int) -> str:
    """Total events per service over ``window``."""
    return increase_by(ind.metric, ind.selector, [service_label], window)


def ratio_bad(ind: MetricRatio, service_label: str, window: int) -> str:
    """Bad events per service over ``window`` (selector plus the error matchers)."""
    return increase_by(ind.metric, (*ind.selector, *ind.error_selector), [service_label], window)


def query_ratio(ind: QueryRatio, window: int) -> tuple[str | None, str | None, str]:
    """(bad, good, total) queries of a raw-PromQL ratio indicator for ``window``."""
    bad = render_template(ind.bad, window) if ind.bad else None
    good = render_template(ind.good, window) if ind.good else None
    return bad, good, render_template(ind.total, window)


def buckets(metric: str, matchers: Iterable[Matcher], service_label: str, window: int) -> str:
    """Histogram bucket increases per service and ``le`` over ``window``."""
    return increase_by(f"{metric}_bucket", matchers, [service_label, "le"], window)


def latency_buckets(ind: HistogramLatency, service_label: str, window: int) -> str:
    """Bucket query of a latency indicator; any threshold is served by the same query."""
    return buckets(ind.metric, ind.selector, service_label, window)


def le_regex(thresholds: Iterable[float]) -> str:
    """Regex matching the ``le`` labels of ``thresholds`` and ``+Inf`` (unescaped for PromQL)."""
    values = sorted({le_value(t) for t in thresholds if t != float("inf")}, key=float)
    return "|".join([*(re.escape(v) for v in values), re.escape("+Inf")])


def threshold_buckets(
    metric: str, matchers: Iterable[Matcher], service_label: str, window: int,
    thresholds: Iterable[float],
) -> str:
    """Only the buckets at ``thresholds`` and +Inf: all a latency SLI needs when the
    thresholds are bucket bounds (a fraction of the series of the full histogram)."""
    le = Matcher("le", "=~", le_regex(thresholds))
    return increase_by(f"{metric}_bucket", (*matchers, le), [service_label, "le"], window)


def latency_total_metric(ind: HistogramLatency) -> str:
    """The ``_count`` series of a latency indicator's histogram."""
    return f"{ind.metric}_count"


def coverage(
    metric: str, matchers: Iterable[Matcher], service_label: str, windows: Sequence[int]
) -> str:
    """Oldest sample timestamp per service and window, for the data coverage of each window.

    One query for all windows: each window's subquery runs at 1/100 of the window's length and
    is tagged with a ``sloctl_window`` label (seconds), so coverage is accurate to 1 %. Each step
    looks back one full step (``last_over_time``), so sparse samples are not missed.
    """
    sel = selector(metric, matchers)
    svc = check_label_name(service_label)
    parts = []
    for w in windows:
        step = duration(max(w // 100, 1))
        inner = f"timestamp(last_over_time({sel}[{step}]))"
        sub = f"min by ({svc}) (min_over_time({inner}[{duration(w)}:{step}]))"
        parts.append(f'label_replace({sub}, "sloctl_window", "{w}", "", "")')
    return " or ".join(parts)


def rate_template(template: str, window: int) -> str:
    """A user or preset template such as the saturation query, rendered for ``window``."""
    return template.replace(WINDOW_PLACEHOLDER, duration(window))


# --- Rule generation (sloctl rules generate): per-service rule expressions. ---

_YEAR = 365 * 86400
_WEEK = 7 * 86400


def prom_duration(seconds: int) -> str:
    """Prometheus' own duration spelling (Go ``model.Duration.String``), as Sloth names windows.

    Years and weeks only when exact: 2419200 -> '4w', 604800 -> '1w', 2592000 -> '30d',
    90000 -> '1d1h', 300 -> '5m'.
    """
    if seconds <= 0:
        return "0s"
    out = ""
    for unit, size, exact in (
        ("y", _YEAR, True),
        ("w", _WEEK, True),
        ("d", 86400, False),
        ("h", 3600, False),
        ("m", 60, False),
        ("s", 1, False),
    ):
        if exact and seconds % size:
            continue
        count, seconds = divmod(seconds, size)
        if count:
            out += f"{count}{unit}"
    return out


def number(value: float) -> str:
    """Shortest exact PromQL literal of a float: 0.005 -> '0.005', 6.0 -> '6', 14.4 -> '14.4'."""
    text = repr(float(value))
    return text.removesuffix(".0")


def le_value(bound: float) -> str:
    """A bucket bound as client libraries write the ``le`` label: 0.3 -> '0.3', 1.0 -> '1'."""
    return "+Inf" if bound == float("inf") else number(bound)


def sum_rate(metric: str, matchers: Iterable[Matcher], window: int, by: Sequence[str] = ()) -> str:
    """``sum(rate(metric{matchers}[window]))``, or ``sum by (...)`` when ``by`` is given."""
    grouping = f" by ({_by(by)}) " if by else ""
    return f"sum{grouping}(rate({selector(metric, matchers)}[{prom_duration(window)}]))"


def only_service(expr: str, service_label: str, service: str) -> str:
    """Keep the series of ``expr`` whose ``service_label`` equals ``service`` (escaped).

    For raw PromQL templates grouped by the service label, which cannot take an extra matcher.
    """
    label = check_label_name(service_label)
    value = escape_label_value(service).replace("$", "$$")  # label_replace expands $1
    return f'({expr}) and on ({label}) label_replace(vector(1), "{label}", "{value}", "", "")'


def service_matcher(service_label: str, service: str) -> Matcher:
    """``service_label="service"``, the per-service filter of generated rules."""
    return Matcher(check_label_name(service_label), "=", service)


def ratio_sli_error(ind: MetricRatio, service_label: str, service: str, window: int) -> str:
    """Error ratio of one service over ``window``: bad rate / total rate, other labels summed."""
    svc = (service_matcher(service_label, service), *ind.selector)
    bad = sum_rate(ind.metric, (*svc, *ind.error_selector), window)
    total = sum_rate(ind.metric, svc, window)
    return f"({bad})\n/\n({total})"


def query_sli_error(ind: QueryRatio, service_label: str, service: str, window: int) -> str:
    """Error ratio of one service from raw templates: bad/total, or 1 - good/total."""
    bad, good, total = query_ratio(ind, window)

    def one(expr: str) -> str:
        return f"sum({only_service(expr, service_label, service)})"

    if bad is not None:
        return f"({one(bad)})\n/\n({one(total)})"
    assert good is not None
    return f"1 - (({one(good)})\n/\n({one(total)}))"


def latency_sli_error(ind: HistogramLatency, service_label: str, service: str, window: int) -> str:
    """Share of one service's requests slower than the threshold: (count - bucket) / count.

    The threshold must be a bucket bound of the histogram (``le`` spelled as by ``le_value``);
    Prometheus rules cannot interpolate between buckets as sloctl's engine does.
    """
    svc = (service_matcher(service_label, service), *ind.selector)
    total = sum_rate(latency_total_metric(ind), svc, window)
    le = Matcher("le", "=", le_value(ind.threshold))
    fast = sum_rate(f"{ind.metric}_bucket", (*svc, le), window)
    return f"(\n  {total}\n  -\n  {fast}\n)\n/\n({total})"


def histogram_quantile_of(
    quantile: float, metric: str, matchers: Iterable[Matcher], by: Sequence[str], window: int
) -> str:
    """``histogram_quantile(q, sum by (le, ...) (rate(metric_bucket{...}[window])))``."""
    return (
        f"histogram_quantile({number(quantile)}, "
        f"{sum_rate(f'{metric}_bucket', matchers, window, by=('le', *by))})"
    )


def build_info_versions(metric: str, labels: Sequence[str]) -> str:
    """``max by (labels) (metric)``: one series per service, version (and commit, environment).

    ``metric`` is a metric name (``target_info``) or else an RE2 regex on the name
    (``.*_build_info``); with a regex the series also keep ``__name__``, so two build-info
    metrics of one service are told apart.
    """
    if _METRIC_NAME.match(metric):
        return f"max by ({_by(labels)}) ({metric})"
    sel = f'{{__name__=~"{escape_label_value(metric)}"}}'
    return f"max by (__name__, {_by(labels)}) ({sel})"


# --- Span metrics: the collector's span_metrics connector (the "spanmetrics" preset). ---
# Used by the HTTP-vs-spans comparison after each cycle (grouped by service, like the cycle's
# queries) and by `sloctl traces SERVICE` (one service, grouped by operation).

SPAN_OPERATION_LABELS = ("service_name", "span_name", "span_kind")


def _span_errors() -> Matcher:
    preset = PRESETS["spanmetrics"]
    return Matcher(preset.status_label, "=~", preset.error_regex)


def span_calls_by_service(window: int, *, errors: bool = False) -> str:
    """Server-span calls (``errors``: failed ones) per ``service_name`` over ``window``.

    ``sum by (service_name) (increase(traces_span_metrics_calls_total{span_kind=
    "SPAN_KIND_SERVER"[, status_code=~"STATUS_CODE_ERROR"]}[5m]))``.
    """
    preset = PRESETS["spanmetrics"]
    matchers = (*preset.base_selector, *((_span_errors(),) if errors else ()))
    return increase_by(preset.counter, matchers, [preset.service_label], window)


def span_calls_by_operation(service: str, window: int, *, errors: bool = False) -> str:
    """Calls (``errors``: failed ones) of each span name and kind of one service over ``window``.

    Filters on the service (escaped): this serves one command about one service, not a cycle.
    """
    preset = PRESETS["spanmetrics"]
    matchers = (
        service_matcher(preset.service_label, service),
        *((_span_errors(),) if errors else ()),
    )
    return increase_by(preset.counter, matchers, SPAN_OPERATION_LABELS, window)


def span_quantile_by_operation(quantile: float, service: str, window: int) -> str:
    """``histogram_quantile`` of each span name and kind of one service over ``window``."""
    preset = PRESETS["spanmetrics"]
    return histogram_quantile_of(
        quantile,
        preset.histogram,
        (service_matcher(preset.service_label, service),),
        SPAN_OPERATION_LABELS,
        window,
    )
