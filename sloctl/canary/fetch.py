"""Both sides' counts over one interval: a few instant queries, run concurrently at ``at``.

Per SLI and side: an availability SLI reads its counter's total and errors, a latency SLI its
bucket increases ``by (le)`` (in seconds). A side whose total matches no series at all is "no
data" (a wrong selector, or a canary not serving yet), never zero requests.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sloctl.canary.plan import Sli
from sloctl.canary.sides import Side
from sloctl.core.samples import Sample
from sloctl.errors import BackendError
from sloctl.sources import promql
from sloctl.sources.prometheus import QueryResult
from sloctl.spec.models import HistogramLatency, MetricRatio


class Source(Protocol):
    """What a judgement needs of ``PrometheusSource``."""

    def query_many(self, queries: Sequence[str], at: datetime) -> dict[str, QueryResult]: ...


@dataclass(frozen=True)
class SideData:
    """One SLI on one side: ``total``/``bad`` (availability) or ``buckets`` (latency, seconds).
    ``None``: no series matched."""

    total: float | None = None
    bad: float | None = None
    buckets: tuple[tuple[float, float], ...] | None = None

    @property
    def found(self) -> bool:
        return self.total is not None or self.buckets is not None


@dataclass(frozen=True)
class Fetched:
    canary: tuple[SideData, ...]  # per SLI of the plan, in order
    baseline: tuple[SideData, ...]
    queries: tuple[str, ...] = field(default=())


def queries_of(sli: Sli, side: Side, window: int) -> dict[str, str]:
    """The PromQL of one SLI on one side: {"total", "bad"} or {"buckets"}."""
    ind = sli.indicator
    if isinstance(ind, MetricRatio):
        return {
            "total": promql.side_increase(
                ind.metric, ind.selector, sli.identity, side.service, side.matchers, window),
            "bad": promql.side_increase(
                ind.metric, (*ind.selector, *ind.error_selector), sli.identity, side.service,
                side.matchers, window),
        }
    return {"buckets": promql.side_increase(
        f"{ind.metric}_bucket", ind.selector, sli.identity, side.service, side.matchers, window,
        by=("le",))}


def fetch(
    source: Source, slis: Sequence[Sli], canary: Side, baseline: Side, window: int, at: datetime
) -> Fetched:
    """Every query of the judgement at ``at``; the first backend error is raised."""
    plans = [(sli, side, queries_of(sli, side, window))
             for side in (canary, baseline) for sli in slis]
    texts = [q for _, _, qs in plans for q in qs.values()]
    results = source.query_many(texts, at)
    for text in texts:
        outcome = results[text]
        if isinstance(outcome, BackendError):
            raise outcome
    data = [_side_data(sli, qs, results) for sli, _, qs in plans]
    n = len(slis)
    return Fetched(tuple(data[:n]), tuple(data[n:]), tuple(dict.fromkeys(texts)))


def _side_data(
    sli: Sli, queries: Mapping[str, str], results: Mapping[str, QueryResult]
) -> SideData:
    def samples(key: str) -> list[Sample]:
        outcome = results[queries[key]]
        assert not isinstance(outcome, BackendError)
        return outcome

    if "buckets" in queries:
        ind = sli.indicator
        assert isinstance(ind, HistogramLatency)
        rows = samples("buckets")
        if not rows:
            return SideData()
        buckets = tuple(sorted((float(s.labels.get("le", "nan")) * ind.unit, s.value)
                               for s in rows))
        return SideData(buckets=buckets)
    total = samples("total")
    if not total:
        return SideData()
    bad = samples("bad")
    return SideData(sum(s.value for s in total), sum(s.value for s in bad))
