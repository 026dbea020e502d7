"""Every PromQL query sloctl sends is built here, with label names checked and values escaped.

Queries aggregate ``by (<service label>)`` and never filter on a service: one query per signal and
window serves every SLO and service that share a metric (sloctl picks its rows client-side).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from sloctl.core.windows import window_name
from sloctl.spec.models import (
    TARGET_INFO,
    TARGET_INFO_JOIN,
    HistogramLatency,
    Matcher,
    MetricRatio,
    QueryRatio,
    ServiceIdentity,
)
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


def range_of(window: int, at: int | None = None) -> str:
    """``[5m]``, or ``[30m] @ 1764000000`` for a range ending at unix second ``at``."""
    return f"[{duration(window)}]" + ("" if at is None else f" @ {int(at)}")


def increase_by(
    metric: str, matchers: Iterable[Matcher], by: Sequence[str], window: int,
    at: int | None = None,
) -> str:
    """``sum by (by) (increase(metric{matchers}[window]))``; ``at`` pins the range's end."""
    return f"sum by ({_by(by)}) (increase({selector(metric, matchers)}{range_of(window, at)}))"


Identity = ServiceIdentity | str  # a bare label name: series carry it, no target_info join


def identity_of(identity: Identity) -> ServiceIdentity:
    """A label name means "the series carry it"."""
    return identity if isinstance(identity, ServiceIdentity) else ServiceIdentity(identity)


def target_info_join(
    label: str, window: int, service: str | None = None, at: int | None = None
) -> str:
    """``on (job, instance) group_left (label) max by (job, instance, label) (...)``.

    Every target seen in the window (``last_over_time``), so counts of instances that are gone
    by the evaluation instant are kept. With ``service``, only that service's targets are joined
    and no label is copied (per-service rule expressions).
    """
    on = _by(TARGET_INFO_JOIN)
    svc = check_label_name(label)
    if service is None:
        info = f"last_over_time({TARGET_INFO}{range_of(window, at)})"
        return f"on ({on}) group_left ({svc}) max by ({on}, {svc}) ({info})"
    sel = selector(TARGET_INFO, (Matcher(svc, "=", service),))
    return f"on ({on}) group_left () max by ({on}) (last_over_time({sel}{range_of(window, at)}))"


def increase_by_service(
    metric: str,
    matchers: Iterable[Matcher],
    identity: Identity,
    window: int,
    extra_by: Sequence[str] = (),
    at: int | None = None,
) -> str:
    """``sum by (<service label>, extra) (increase(metric{matchers}[window]))``, for all services
    (``at``: the range ends at that unix second instead of the evaluation instant).

    With a ``target_info`` identity, series that carry the label are summed as they are and the
    others take the label from ``target_info``; the two parts select disjoint series.
    """
    ident = identity_of(identity)
    label, matchers = ident.label, tuple(matchers)
    by = [label, *extra_by]
    if not ident.target_info:
        return increase_by(metric, matchers, by, window, at)
    direct = increase_by(metric, (*matchers, Matcher(label, "!=", "")), by, window, at)
    bare = selector(metric, (*matchers, Matcher(label, "=", "")))
    joined = (
        f"sum by ({_by(by)}) (increase({bare}{range_of(window, at)}) "
        f"* {target_info_join(label, window, at=at)})"
    )
    return f"{direct} or {joined}"


def render_template(template: str, window: int, at: int | None = None) -> str:
    """Substitute the window into a user PromQL template (``{{window}}`` -> ``5m``).

    With ``at`` the range ends at that unix second: every ``{{window}}`` must then be a range
    selector's (``[{{window}}]``), which becomes ``[5m] @ <at>``.
    """
    if WINDOW_PLACEHOLDER not in template:
        raise ValueError(f"query template lacks {WINDOW_PLACEHOLDER}: {template!r}")
    if at is None:
        return template.replace(WINDOW_PLACEHOLDER, duration(window))
    ranged = f"[{WINDOW_PLACEHOLDER}]"
    if template.count(WINDOW_PLACEHOLDER) != template.count(ranged):
        raise ValueError(
            f"cannot pin {template!r} to an interval: write {WINDOW_PLACEHOLDER} only as a "
            f"range selector's length, {ranged}"
        )
    return template.replace(ranged, range_of(window, at))


def ratio_total(ind: MetricRatio, identity: Identity, window: int, at: int | None = None) -> str:
    """Total events per service over ``window``."""
    return increase_by_service(ind.metric, ind.selector, identity, window, at=at)


def ratio_bad(ind: MetricRatio, identity: Identity, window: int, at: int | None = None) -> str:
    """Bad events per service over ``window`` (selector plus the error matchers)."""
    matchers = (*ind.selector, *ind.error_selector)
    return increase_by_service(ind.metric, matchers, identity, window, at=at)


def query_ratio(
    ind: QueryRatio, window: int, at: int | None = None
) -> tuple[str | None, str | None, str]:
    """(bad, good, total) queries of a raw-PromQL ratio indicator for ``window``."""
    bad = render_template(ind.bad, window, at) if ind.bad else None
    good = render_template(ind.good, window, at) if ind.good else None
    return bad, good, render_template(ind.total, window, at)


def buckets(
    metric: str, matchers: Iterable[Matcher], identity: Identity, window: int,
    at: int | None = None,
) -> str:
    """Histogram bucket increases per service and ``le`` over ``window``."""
    return increase_by_service(f"{metric}_bucket", matchers, identity, window, ["le"], at=at)


def latency_buckets(
    ind: HistogramLatency, identity: Identity, window: int, at: int | None = None
) -> str:
    """Bucket query of a latency indicator; any threshold is served by the same query."""
    return buckets(ind.metric, ind.selector, identity, window, at)


def le_pattern(bound: float) -> str:
    """RE2 matching every way a client writes the ``le`` of ``bound`` (unescaped for PromQL).

    Prometheus 2.x stores ``le`` as written: ``0.3``, ``0.30``, ``300``, ``300.0`` (the OTel SDK),
    ``1e+06`` (Go's ``%g``). The pattern matches the plain decimal with any trailing zeros after
    its point, and the exponent spellings of the same number.
    """
    if bound == float("inf"):
        return re.escape("+Inf")
    text = format(Decimal(repr(float(bound))).normalize(), "f")
    whole, _, fraction = text.partition(".")
    plain = re.escape(whole) + (rf"\.{fraction}0*" if fraction else r"(\.0*)?")
    spellings = {plain}
    for exp in (f"{float(bound):g}", repr(float(bound))):
        if "e" in exp:
            spellings.add(re.escape(exp))
    return "|".join(sorted(spellings))


def le_regex(bounds: Iterable[float]) -> str:
    """RE2 matching the ``le`` labels of ``bounds`` and ``+Inf``, whatever their spelling."""
    values = sorted({float(b) for b in bounds if b != float("inf")})
    return "|".join([*(le_pattern(v) for v in values), re.escape("+Inf")])


def threshold_buckets(
    metric: str, matchers: Iterable[Matcher], identity: Identity, window: int,
    bounds: Iterable[float],
) -> str:
    """Only the buckets at ``bounds`` (in the histogram's unit) and +Inf: all a latency SLI
    needs when its threshold is a bucket bound (a fraction of the series of the histogram)."""
    le = Matcher("le", "=~", le_regex(bounds))
    return increase_by_service(f"{metric}_bucket", (*matchers, le), identity, window, ["le"])


def latency_total_metric(ind: HistogramLatency) -> str:
    """The ``_count`` series of a latency indicator's histogram."""
    return f"{ind.metric}_count"


COVERAGE_STEPS = 100  # coverage resolution: 1 % of each window
COVERAGE_LABEL = "sloctl_window"


def coverage_step(window: int) -> int:
    """The subquery step of a window's coverage: 1/100 of the window, at least 1 s."""
    return max(window // COVERAGE_STEPS, 1)


def presence(
    metric: str, matchers: Iterable[Matcher], identity: Identity, lookback: int
) -> str:
    """One series per service that had a sample in the last ``lookback`` seconds."""
    ident = identity_of(identity)
    label, matchers = check_label_name(ident.label), tuple(matchers)
    look = duration(lookback)
    if not ident.target_info:
        return f"max by ({label}) (last_over_time({selector(metric, matchers)}[{look}]))"
    direct = selector(metric, (*matchers, Matcher(label, "!=", "")))
    bare = selector(metric, (*matchers, Matcher(label, "=", "")))
    return (
        f"max by ({label}) (last_over_time({direct}[{look}])) or max by ({label}) "
        f"(last_over_time({bare}[{look}]) * {target_info_join(label, lookback)})"
    )


def coverage(
    metric: str,
    matchers: Iterable[Matcher],
    identity: Identity,
    windows: Sequence[int],
    lookback: int = 120,
) -> str:
    """Per service and window: how many of the window's 100 steps had data.

    One query for all windows, each tagged with a ``sloctl_window`` label (seconds). A step has
    data when a sample lies within ``max(step, lookback)`` before it (``lookback``: two scrape
    intervals), so a gap anywhere in the window lowers the count, not only a late start.
    Coverage is ``count / (window / step)``, capped at 1 (a window can hold 101 aligned steps).
    """
    parts = []
    for w in windows:
        step = coverage_step(w)
        present = presence(metric, matchers, identity, max(step, lookback))
        sub = f"count_over_time(({present})[{duration(w)}:{duration(step)}])"
        parts.append(f'label_replace({sub}, "{COVERAGE_LABEL}", "{w}", "", "")')
    return " or ".join(parts)


def template_coverage(
    template: str, service_label: str, windows: Sequence[int], *, ungrouped: bool = False
) -> str:
    """Coverage of a raw PromQL total template: steps where its 5m form returns the service
    (``ungrouped``: returns anything; its rows are summed into one series first)."""
    check_label_name(service_label)
    five = render_template(template, 300)
    if ungrouped:
        five = f"sum({five})"
    parts = []
    for w in windows:
        step = coverage_step(w)
        sub = f"count_over_time(({five})[{duration(w)}:{duration(step)}])"
        parts.append(f'label_replace({sub}, "{COVERAGE_LABEL}", "{w}", "", "")')
    return " or ".join(parts)


def rate_template(template: str, window: int) -> str:
    """A user or preset template such as the saturation query, rendered for ``window``."""
    return template.replace(WINDOW_PLACEHOLDER, duration(window))


def group_over(
    metric: str, matchers: Iterable[Matcher], by: Sequence[str], lookback: int
) -> str:
    """``group by (by) (last_over_time(metric{matchers}[lookback]))``: one row per distinct
    label set seen in the lookback (``sloctl discover``, ``validate --live``)."""
    labels = list(dict.fromkeys(by))
    body = f"last_over_time({selector(metric, matchers)}[{duration(lookback)}])"
    return f"group by ({_by(labels)}) ({body})"


def any_of_names(names: Iterable[str]) -> str:
    """``{__name__=~"a|b"}``: a series selector for any of these metric names (match[])."""
    regex = "|".join(re.escape(check_metric_name(n)) for n in names)
    return f'{{__name__=~"{escape_label_value(regex)}"}}'


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


def service_rate(
    metric: str,
    matchers: Iterable[Matcher],
    identity: Identity,
    service: str,
    window: int,
    by: Sequence[str] = (),
) -> str:
    """``sum(rate(metric{matchers, <label>="service"}[window]))`` of one service (rules).

    With a ``target_info`` identity, the series without the label that belong to the service's
    targets are added through ``target_info``: ``(direct or joined)``.
    """
    ident = identity_of(identity)
    matchers = tuple(matchers)
    direct = sum_rate(metric, (service_matcher(ident.label, service), *matchers), window, by)
    if not ident.target_info:
        return direct
    grouping = f" by ({_by(by)}) " if by else ""
    bare = selector(metric, (*matchers, Matcher(check_label_name(ident.label), "=", "")))
    joined = (
        f"sum{grouping}(rate({bare}[{prom_duration(window)}]) "
        f"* {target_info_join(ident.label, window, service)})"
    )
    return f"({direct} or {joined})"


def service_present(
    metric: str, matchers: Iterable[Matcher], identity: Identity, service: str
) -> str:
    """``sum(metric{matchers, <label>="service"})``: non-empty while the service has series."""
    ident = identity_of(identity)
    matchers = tuple(matchers)
    direct = f"sum({selector(metric, (service_matcher(ident.label, service), *matchers))})"
    if not ident.target_info:
        return direct
    bare = selector(metric, (*matchers, Matcher(check_label_name(ident.label), "=", "")))
    info = selector(TARGET_INFO, (Matcher(ident.label, "=", service),))
    joined = f"sum({bare} * on ({_by(TARGET_INFO_JOIN)}) group_left () {info})"
    return f"{direct} or {joined}"


def ratio_sli_error(ind: MetricRatio, identity: Identity, service: str, window: int) -> str:
    """Error ratio of one service over ``window``: bad rate / total rate, other labels summed."""
    bad = service_rate(ind.metric, (*ind.selector, *ind.error_selector), identity, service, window)
    total = service_rate(ind.metric, ind.selector, identity, service, window)
    return f"({bad})\n/\n({total})"


def query_sli_error(ind: QueryRatio, identity: Identity, service: str, window: int) -> str:
    """Error ratio of one service from raw templates: bad/total, or 1 - good/total."""
    bad, good, total = query_ratio(ind, window)

    label = identity_of(identity).label

    def one(expr: str) -> str:
        if ind.ungrouped:  # the query selects the SLO's series itself
            return f"sum({expr})"
        return f"sum({only_service(expr, label, service)})"

    if bad is not None:
        return f"({one(bad)})\n/\n({one(total)})"
    assert good is not None
    return f"1 - (({one(good)})\n/\n({one(total)}))"


def latency_sli_error(ind: HistogramLatency, identity: Identity, service: str, window: int) -> str:
    """Share of one service's requests slower than the threshold: (count - bucket) / count.

    The threshold, in the histogram's unit, must be a bucket bound (``le`` matched whatever its
    spelling); Prometheus rules cannot interpolate between buckets as sloctl's engine does.
    """
    total = service_rate(latency_total_metric(ind), ind.selector, identity, service, window)
    le = Matcher("le", "=~", le_pattern(ind.bound))
    fast = service_rate(f"{ind.metric}_bucket", (*ind.selector, le), identity, service, window)
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


# --- Canary judgement (sloctl canary): one side of one service, canary or baseline. ---


def side_increase(
    metric: str,
    matchers: Iterable[Matcher],
    identity: Identity,
    service: str,
    side: Iterable[Matcher],
    window: int,
    by: Sequence[str] = (),
) -> str:
    """``sum [by (by)] (increase(metric{<label>="service", matchers, side}[window]))``.

    ``side`` holds the matchers of the canary or the baseline (``version="v2"``). With a
    ``target_info`` identity, series without the service label count through ``target_info``
    of the service, which then also carries the side's labels (resource attributes such as
    ``service_version``, or the target labels of Kubernetes discovery).
    """
    ident = identity_of(identity)
    matchers, side = tuple(matchers), tuple(side)
    grouping = f" by ({_by(by)})" if by else ""
    window_range = f"[{duration(window)}]"
    own = (service_matcher(ident.label, service), *matchers, *side)
    direct = f"sum{grouping} (increase({selector(metric, own)}{window_range}))"
    if not ident.target_info:
        return direct
    bare = selector(metric, (*matchers, Matcher(ident.label, "=", "")))
    info = selector(TARGET_INFO, (service_matcher(ident.label, service), *side))
    on = _by(TARGET_INFO_JOIN)
    joined = (
        f"sum{grouping} (increase({bare}{window_range}) * on ({on}) group_left () "
        f"max by ({on}) (last_over_time({info}{window_range})))"
    )
    return f"{direct} or {joined}"
