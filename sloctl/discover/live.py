"""Check SLO specs against a live Prometheus: series for the SLO's service, with its identity,
and latency thresholds that are bucket bounds. Shared by ``sloctl validate --live`` and
``sloctl rules generate`` (``bounds_only``).

Requests are cached per metric and selector, so SLOs that share a histogram share its reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sloctl.discover.bounds import BoundCheck, check_bound
from sloctl.discover.fetch import Reader
from sloctl.discover.fixes import bucket_fix
from sloctl.discover.identity import Resolved, Target, resolve, target_services
from sloctl.errors import BackendQueryError
from sloctl.sources import promql
from sloctl.spec.models import (
    TARGET_INFO,
    HistogramLatency,
    LogRatio,
    Matcher,
    QueryRatio,
    SLOSpec,
)

MAX_LISTED = 10  # services named in a "not found" message


class LiveStatus(StrEnum):
    OK = "ok"
    NO_DATA = "no_data"  # no series for the SLO's service
    NOT_A_BOUND = "not_a_bound"  # latency threshold is not a bucket bound
    QUERY_ERROR = "query_error"  # Prometheus rejected the SLO's own PromQL
    SKIPPED = "skipped"  # not a Prometheus SLI (logs), or not checked in this mode


@dataclass(frozen=True)
class LiveResult:
    """The live verdict on one SLO."""

    spec: SLOSpec
    status: LiveStatus
    message: str = ""
    check: BoundCheck | None = None
    fix: str = ""

    @property
    def problem(self) -> bool:
        return self.status in (LiveStatus.NO_DATA, LiveStatus.NOT_A_BOUND,
                               LiveStatus.QUERY_ERROR)


class LiveChecker:
    """Checks specs on one Prometheus (through a :class:`Reader`); raises ``BackendError`` when
    Prometheus is unreachable or answers garbage."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader
        self._rows: dict[tuple[str, tuple[Matcher, ...], str, bool], list[dict[str, str]]] = {}
        self._labels: dict[tuple[str, tuple[Matcher, ...]], set[str]] = {}
        self._info: dict[str, dict[Target, str]] = {}

    def check(self, specs: Sequence[SLOSpec], *, bounds_only: bool = False) -> list[LiveResult]:
        """One result per spec, in order. ``bounds_only``: latency SLOs' bounds only; an SLO
        without series is then SKIPPED (nothing to check), not a problem."""
        return [self.check_one(spec, bounds_only=bounds_only) for spec in specs]

    def check_one(self, spec: SLOSpec, *, bounds_only: bool = False) -> LiveResult:
        ind = spec.indicator
        if isinstance(ind, LogRatio):
            return LiveResult(spec, LiveStatus.SKIPPED, "log-based SLI (Loki): not checked")
        if isinstance(ind, HistogramLatency):
            return self._latency(spec, ind, bounds_only)
        if bounds_only:
            return LiveResult(spec, LiveStatus.SKIPPED, "not a latency SLI")
        if isinstance(ind, QueryRatio):
            return self._query(spec, ind)
        return self._series(spec, ind.metric, ind.selector)

    def _latency(self, spec: SLOSpec, ind: HistogramLatency, bounds_only: bool) -> LiveResult:
        bucket = f"{ind.metric}_bucket"
        found = self._services(spec, bucket, ind.selector, buckets=True)
        series = found.services.get(spec.service)
        if series is None:
            why = self._why_missing(spec, bucket, ind.selector, found)
            if bounds_only:
                return LiveResult(spec, LiveStatus.SKIPPED, f"bounds not checked: {why}")
            return LiveResult(spec, LiveStatus.NO_DATA, why)
        check = check_bound(ind.metric, ind.unit, ind.threshold, series.le_by_target)
        if check.ok:
            les = ", ".join(f'le="{le}"' for le in check.matching)
            return LiveResult(spec, LiveStatus.OK, f"threshold is a bucket bound ({les})", check)
        fix = bucket_fix(ind.metric, ind.unit, check.bounds, ind.threshold)
        return LiveResult(spec, LiveStatus.NOT_A_BOUND, check.message(), check, str(fix))

    def _series(
        self, spec: SLOSpec, metric: str, selector: tuple[Matcher, ...]
    ) -> LiveResult:
        found = self._services(spec, metric, selector, buckets=False)
        if spec.service in found.services:
            return LiveResult(spec, LiveStatus.OK, "series found")
        return LiveResult(spec, LiveStatus.NO_DATA, self._why_missing(spec, metric, selector,
                                                                       found))

    def _query(self, spec: SLOSpec, ind: QueryRatio) -> LiveResult:
        query = promql.render_template(ind.total, self.reader.span.lookback)
        try:
            rows = self.reader.query_labels(query)
        except BackendQueryError as exc:
            return LiveResult(spec, LiveStatus.QUERY_ERROR, f"totalQuery failed: {exc}")
        if ind.ungrouped:  # Sloth, OpenSLO: the query selects the SLO's series itself
            if rows:
                return LiveResult(spec, LiveStatus.OK, "the total query returns series")
            lookback = promql.duration(self.reader.span.lookback)
            return LiveResult(spec, LiveStatus.NO_DATA,
                              f"the total query returns no series over the last {lookback}")
        services = sorted({r.get(spec.service_label, "") for r in rows} - {""})
        if spec.service in services:
            return LiveResult(spec, LiveStatus.OK, "totalQuery returns the service")
        return LiveResult(spec, LiveStatus.NO_DATA, (
            f"totalQuery over the last {promql.duration(self.reader.span.lookback)} returns no "
            f'series with {spec.service_label}="{spec.service}"; {_seen(services)}'))

    def _services(
        self, spec: SLOSpec, metric: str, selector: tuple[Matcher, ...], *, buckets: bool
    ) -> Resolved:
        label = spec.service_label
        key = (metric, selector, label, buckets)
        if key not in self._rows:
            self._rows[key] = self.reader.service_rows(metric, selector, label, buckets=buckets)
        info = self._target_info(label) if spec.service_from_target_info else {}
        return resolve(self._rows[key], info, label, join=spec.service_from_target_info,
                       job_fallback=False)

    def _target_info(self, label: str) -> dict[Target, str]:
        if label not in self._info:
            self._info[label] = target_services(self.reader.target_info(label), label)
        return self._info[label]

    def _label_names(self, metric: str, selector: tuple[Matcher, ...]) -> set[str]:
        key = (metric, selector)
        if key not in self._labels:
            self._labels[key] = self.reader.label_names(metric, selector)
        return self._labels[key]

    def _why_missing(
        self, spec: SLOSpec, metric: str, selector: tuple[Matcher, ...], found: Resolved
    ) -> str:
        """Why the SLO's service has no series, and what to do."""
        over = f"over the last {promql.duration(self.reader.span.lookback)}"
        shown = promql.selector(metric, selector)
        label = spec.service_label
        if not self._label_names(metric, selector):
            if selector and self._label_names(metric, ()):
                return (f"{metric} has series, but none match {shown} {over}; fix the "
                        "selector (run `sloctl discover` to see the labels)")
            return (f"no series named {metric} {over}; check the metric name, or run "
                    "`sloctl discover` to see which conventions this Prometheus holds")
        labels = self._label_names(metric, selector)
        if label not in labels and not spec.service_from_target_info:
            return (f"the series of {shown} have no label {label} (labels: "
                    f"{', '.join(sorted(labels - {'__name__'}))}); set serviceLabel to the "
                    f"label that names the service, or serviceFrom: {TARGET_INFO} when only "
                    f"{TARGET_INFO} carries it (`sloctl discover` tells which)")
        how = spec.identity.describe()
        return (f'no series of {shown} for {label}="{spec.service}" ({how}) {over}; '
                f"{_seen(sorted(found.services))}")


def _seen(services: Sequence[str]) -> str:
    if not services:
        return "no service at all"
    listed = ", ".join(services[:MAX_LISTED])
    more = f" and {len(services) - MAX_LISTED} more" if len(services) > MAX_LISTED else ""
    return f"services seen: {listed}{more}"
