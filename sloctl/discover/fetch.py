"""Read what discover and the live checks need from Prometheus, with bounded requests.

Every request names the metrics it is about (``match[]`` or a selector): which of the known
names exist, the label names of one metric, the ``target_info`` series that carry a service
name, and one ``group by`` row per service target (and ``le``) over the lookback, so an answer
grows with the number of targets and bucket bounds, never with routes or status codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sloctl.sources import promql
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.models import TARGET_INFO, TARGET_INFO_JOIN, Matcher

DEFAULT_LOOKBACK = 3600  # seconds


@dataclass(frozen=True)
class Span:
    """The time range looked at: ``lookback`` seconds up to ``at``."""

    at: datetime
    lookback: int = DEFAULT_LOOKBACK

    @property
    def start(self) -> datetime:
        return self.at - timedelta(seconds=self.lookback)


class Reader:
    """The few metadata reads of discover and ``validate --live`` on one Prometheus."""

    def __init__(self, source: PrometheusSource, span: Span) -> None:
        self.source = source
        self.span = span

    @property
    def url(self) -> str:
        return self.source.url

    def present_names(self, names: Iterable[str]) -> set[str]:
        """Which of ``names`` have series in the span (one request)."""
        names = list(names)
        if not names:
            return set()
        match = [promql.any_of_names(names)]
        found = self.source.label_values("__name__", match, self.span.start, self.span.at)
        return set(found) & set(names)

    def label_names(self, metric: str, matchers: Sequence[Matcher] = ()) -> set[str]:
        """Label names on ``metric{matchers}`` in the span (empty: no such series)."""
        match = [promql.selector(metric, matchers)]
        return set(self.source.label_names(match, self.span.start, self.span.at))

    def target_info(self, label: str) -> list[dict[str, str]]:
        """``target_info`` series that carry ``label`` (job, instance and the rest)."""
        match = [promql.selector(TARGET_INFO, (Matcher(label, "!=", ""),))]
        return self.source.series(match, self.span.start, self.span.at)

    def rows(
        self, metric: str, matchers: Sequence[Matcher], by: Sequence[str]
    ) -> list[dict[str, str]]:
        """One label set (of ``by``) per distinct group of ``metric{matchers}`` in the span."""
        query = promql.group_over(metric, matchers, by, self.span.lookback)
        return [dict(s.labels) for s in self.source.query(query, self.span.at)]

    def service_rows(
        self, metric: str, matchers: Sequence[Matcher], label: str, *, buckets: bool
    ) -> list[dict[str, str]]:
        """Rows by service label, job and instance (and ``le`` for bucket series)."""
        job, instance = TARGET_INFO_JOIN
        by = [label, job, instance, *(["le"] if buckets else [])]
        return self.rows(metric, matchers, by)

    def query_labels(self, query: str) -> list[dict[str, str]]:
        """The label sets a PromQL query returns at the span's end."""
        return [dict(s.labels) for s in self.source.query(query, self.span.at)]

    def metadata(self, metric: str) -> list[dict[str, str]]:
        return self.source.metadata(metric)
