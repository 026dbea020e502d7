"""An OpenSLO v1 SLI (``ratioMetric`` on Prometheus) as an ungrouped ``QueryRatio``.

Each metric's ``metricSource.spec.query`` becomes a ``{{window}}`` template: a query that has
the range already (``{{window}}``, or Sloth's ``{{.window}}``) is kept; a plain counter
(``metric{...}`` or ``sum(metric{...})``, as OpenSLO's examples write them) is read as
``sum(increase(metric{...}[{{window}}]))``. ``raw`` (a precomputed ratio) needs the range in
the query. ``thresholdMetric`` (time-slice SLIs) is not supported.
"""

from __future__ import annotations

from collections.abc import Mapping

from sloctl.errors import SpecProblem
from sloctl.spec.documents import Loc, SourceDocument
from sloctl.spec.fields import WINDOW_PLACEHOLDER
from sloctl.spec.models import QueryRatio
from sloctl.spec.openslo_schema import DataSourceDocument, MetricSpec, RatioMetric, SLISpec
from sloctl.spec.query_templates import GO_WINDOW, counter_increase, error_ratio, from_go_template

PROMETHEUS = "prometheus"
QUERY_EXAMPLE = 'sum(http_requests_total{job="api"}) or sum(rate(http_requests_total[{{window}}]))'


class IndicatorReader:
    """Reads SLIs of one document; ``data_sources`` are the DataSources of the whole file set."""

    def __init__(self, doc: SourceDocument, data_sources: Mapping[str, DataSourceDocument]):
        self.doc = doc
        self.data_sources = data_sources
        self.problems: list[SpecProblem] = []

    def problem(self, loc: Loc, message: str) -> None:
        self.problems.append(self.doc.problem(loc, message))

    def indicator(self, sli: SLISpec, loc: Loc) -> QueryRatio | None:
        """The SLI at ``loc`` (its ``spec``) as a ratio, or None with problems recorded."""
        if sli.threshold_metric is not None:
            self.problem(
                (*loc, "thresholdMetric"),
                "thresholdMetric SLIs are not supported: they are judged per time slice "
                "(Timeslices budgets); sloctl counts events. Use a ratioMetric (good or bad, "
                "and total)",
            )
            return None
        ratio = sli.ratio_metric
        if ratio is None:
            self.problem(loc, "set ratioMetric with good (or bad) and total")
            return None
        return self._ratio(ratio, (*loc, "ratioMetric"))

    def _ratio(self, ratio: RatioMetric, loc: Loc) -> QueryRatio | None:
        counts = [name for name in ("good", "bad", "total") if getattr(ratio, name) is not None]
        if ratio.raw is not None or ratio.raw_type is not None:
            return self._raw(ratio, loc, counts)
        if (ratio.good is None) == (ratio.bad is None):
            got = "both" if ratio.good is not None else "neither"
            self.problem(loc, f"set exactly one of good or bad (with total); got {got}")
            return None
        if ratio.total is None:
            self.problem(loc, "required field 'total' is missing: the query of all events")
            return None
        part = "good" if ratio.good is not None else "bad"
        counted = ratio.good if ratio.good is not None else ratio.bad
        assert counted is not None
        events = self._template(counted, (*loc, part), ratio.counter)
        total = self._template(ratio.total, (*loc, "total"), ratio.counter)
        if events is None or total is None:
            return None
        if part == "good":
            return QueryRatio(total=total, bad=None, good=events, ungrouped=True)
        return QueryRatio(total=total, bad=events, good=None, ungrouped=True)

    def _raw(self, ratio: RatioMetric, loc: Loc, counts: list[str]) -> QueryRatio | None:
        if counts:
            self.problem(loc, f"raw cannot be combined with {', '.join(counts)}; use one form")
            return None
        if ratio.raw is None or ratio.raw_type is None:
            missing = "raw" if ratio.raw is None else "rawType"
            self.problem(loc, f"required field {missing!r} is missing: raw needs rawType "
                              "(success or failure) and raw (the ratio's query)")
            return None
        query = self._query(ratio.raw, (*loc, "raw"))
        if query is None:
            return None
        if WINDOW_PLACEHOLDER not in query and not GO_WINDOW.search(query):
            self.problem(
                (*loc, "raw", "metricSource", "spec", "query"),
                f"a raw ratio query must contain {WINDOW_PLACEHOLDER} where the range goes, "
                "so each window gets its own ratio",
            )
            return None
        template = _templated(query)
        if template is None:
            self.problem((*loc, "raw", "metricSource", "spec", "query"),
                         "only the {{window}} template variable is supported")
            return None
        expr = template if ratio.raw_type == "failure" else f"1 - ({template})"
        return error_ratio(expr)

    def _template(self, metric: MetricSpec, loc: Loc, counter: bool | None) -> str | None:
        query = self._query(metric, loc)
        if query is None:
            return None
        at = (*loc, "metricSource", "spec", "query")
        if WINDOW_PLACEHOLDER in query or GO_WINDOW.search(query):
            template = _templated(query)
            if template is None:
                self.problem(at, "only the {{window}} template variable is supported")
            return template
        if counter is False:
            self.problem(
                at,
                "counter: false (a gauge of events per interval) is only supported with the "
                f"range in the query: put {WINDOW_PLACEHOLDER} where it goes, e.g. "
                "sum(sum_over_time(events[{{window}}]))",
            )
            return None
        increase = counter_increase(query)
        if increase is None:
            self.problem(
                at,
                f"cannot tell how to count this query over a window: use a plain counter "
                f"(metric{{...}} or sum(metric{{...}})), or put {WINDOW_PLACEHOLDER} where the "
                f"range goes, e.g. {QUERY_EXAMPLE}",
            )
        return increase

    def _query(self, metric: MetricSpec, loc: Loc) -> str | None:
        source, at = metric.metric_source, (*loc, "metricSource")
        kind = source.type
        if source.metric_source_ref is not None:
            data_source = self.data_sources.get(source.metric_source_ref)
            if data_source is None:
                self.problem((*at, "metricSourceRef"),
                             f"metricSourceRef {source.metric_source_ref!r} names no DataSource "
                             "in the loaded files; define it or set type: Prometheus")
                return None
            kind = kind or data_source.spec.type
        if kind is None:
            self.problem(at, "set type: Prometheus (or metricSourceRef to a DataSource)")
            return None
        if kind.lower() != PROMETHEUS:
            self.problem((*at, "type"),
                         f"only Prometheus metric sources are supported; got {kind!r}")
            return None
        query = source.spec.get("query")
        if not isinstance(query, str) or not query.strip():
            self.problem((*at, "spec", "query"),
                         f"required: the PromQL query as a string, e.g. {QUERY_EXAMPLE}")
            return None
        return query.strip()


def _templated(query: str) -> str | None:
    """``{{window}}`` or Sloth's ``{{.window}}`` kept as ``{{window}}``; None with others."""
    try:
        return from_go_template(query)
    except ValueError:
        return None
