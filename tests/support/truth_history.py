"""Small generated histories with exact ground truth, for promtool and a real Prometheus 2.42.

A history is a list of metric families (counters and classic histograms with ``le`` written
exactly as given: ``"0.3"``, ``"0.30"``, ``"300.0"``...). Every series counts at a constant rate
while its service is active and is sampled on a fixed grid (``Life``): it can start late, stop
early (no more samples), have a scrape gap (no samples for a while, the counter keeps counting)
or go idle (still sampled, the counter stays flat). Counters are 0 at their first sample.

Besides the OpenMetrics text for ``promtool tsdb create-blocks-from openmetrics`` (timestamps in
seconds, one family after the other, ``# EOF``), the history answers, without Prometheus:

- ``true_increase``: the events the generator counted in ``(at - window, at]``;
- ``increase``: what Prometheus 2.42's ``sum(increase(x[window]))`` returns at ``at``, computed
  from the samples with Prometheus' own extrapolation (``extrapolated_increase``). With a sample
  on both edges of the window the two are equal;
- ``coverage``: what sloctl's coverage query (``sloctl.sources.promql.coverage``) returns.

Each takes ``backend``: ``"prometheus"`` (2.42, the default) or ``"victoriametrics"`` (1.79, which
``write_import`` feeds: Prometheus text with millisecond timestamps).

Prometheus 2.42 semantics replicated here (promql/engine.go and functions.go of v2.42.0):

- a range selector ``x[w]`` evaluated at ``t`` holds the samples with ``t - w <= ts <= t``
  (closed on both sides; Prometheus 3 made it left-open);
- ``increase`` needs two samples; with ``first``/``last`` the samples in the range:
  ``delta = last.v - first.v`` (plus the value before each counter reset),
  ``to_start = first.t - (t - w)``, ``to_end = t - last.t``,
  ``sampled = last.t - first.t``, ``avg = sampled / (n - 1)``; for a counter with
  ``delta > 0`` and ``first.v >= 0``, ``to_start = min(to_start, sampled * first.v / delta)``
  (the counter's zero point); then each edge adds its distance to the sampled interval when
  that distance is ``< 1.1 * avg``, else ``avg / 2``; the result is
  ``delta * extended / sampled``;
- a subquery ``expr[w:s]`` at ``t`` evaluates ``expr`` at every multiple of ``s`` (unix time)
  in ``[t - w, t]``;
- ``last_over_time(x[l])`` at ``s`` has a value when a sample lies in ``[s - l, s]``.

VictoriaMetrics 1.79 semantics replicated here (app/vmselect/promql/rollup.go of v1.79):

- a range ``x[w]`` at ``t`` holds the samples with ``t - w < ts <= t`` (left-open), subqueries
  included: a subquery at a multiple of its step has one step fewer than on Prometheus 2;
- ``increase`` is never extrapolated: ``last - prev`` with ``prev`` the last sample at or before
  ``t - w`` if it lies within ``max_prev`` of ``t - w`` (the scrape interval plus 1/8 of it for
  intervals above 32 s: 67.5 s for 60 s). Without such a sample (a new series, or a gap across
  the window's start) the first sample in the range counts from 0 when it is below
  ``10 x (its increase to the next sample + 1)`` (an increase of 0 counts as 10), else the range
  starts at it (its own increase is lost). With ``prev`` and no sample in the range: 0.
"""

from __future__ import annotations

import bisect
import itertools
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

INF = "+Inf"
COVERAGE_STEPS = 100  # as sloctl.sources.promql.COVERAGE_STEPS

LabelMatch = Mapping[str, "str | re.Pattern[str]"]


@dataclass(frozen=True)
class Life:
    """When a service's series exist and count.

    Samples every ``step`` seconds from ``start`` to ``stop`` (both included). ``gaps`` are
    ``(last sample before, first sample after)`` pairs: no sample lies strictly between them,
    while the counters keep counting (a scrape outage). From ``idle_from`` on the counters stay
    flat but are still sampled (a service without requests); before ``busy_from`` too (a burst
    of events that starts later, e.g. during an outage).
    """

    start: int
    stop: int
    step: int = 60
    gaps: tuple[tuple[int, int], ...] = ()
    idle_from: int | None = None
    busy_from: int | None = None

    def __post_init__(self) -> None:
        if self.stop < self.start or self.step <= 0:
            raise ValueError(f"bad life {self}: need start <= stop and step > 0")
        for before, after in self.gaps:
            if not self.start <= before < after <= self.stop:
                raise ValueError(f"gap {(before, after)} must lie inside {self}")

    def times(self) -> list[int]:
        """Sample timestamps (unix seconds)."""
        return [
            t for t in range(self.start, self.stop + 1, self.step)
            if not any(before < t < after for before, after in self.gaps)
        ]

    def active_seconds(self, t: float) -> float:
        """Seconds during which the counters counted, from ``start`` to ``t``."""
        end = t if self.idle_from is None else min(t, self.idle_from)
        begin = self.start if self.busy_from is None else max(self.start, self.busy_from)
        return max(end - begin, 0.0)


@dataclass(frozen=True)
class Series:
    """One counter-like series: ``per_minute`` events a minute while its life is active."""

    name: str
    labels: tuple[tuple[str, str], ...]
    per_minute: float
    life: Life

    def value(self, t: float) -> float:
        """The counter at ``t`` (exact for whole minutes: ``per_minute * minutes``)."""
        return self.per_minute * self.life.active_seconds(t) / 60

    def samples(self) -> list[tuple[int, float]]:
        return [(t, self.value(t)) for t in self.life.times()]

    def matches(self, name: str, match: LabelMatch) -> bool:
        """Same name and every label matcher holds (a string: equality; a pattern: fullmatch)."""
        if self.name != name:
            return False
        labels = dict(self.labels)
        for label, want in match.items():
            got = labels.get(label, "")
            if isinstance(want, re.Pattern):
                if not want.fullmatch(got):
                    return False
            elif got != want:
                return False
        return True


@dataclass(frozen=True)
class Family:
    """A metric family: ``kind`` counter (samples ``<name>_total``) or histogram."""

    name: str
    kind: Literal["counter", "histogram"]
    series: tuple[Series, ...]

    def __post_init__(self) -> None:
        allowed = (
            {f"{self.name}_total"} if self.kind == "counter"
            else {f"{self.name}_bucket", f"{self.name}_count", f"{self.name}_sum"}
        )
        stray = {s.name for s in self.series} - allowed
        if stray:
            raise ValueError(f"family {self.name} ({self.kind}) cannot hold {sorted(stray)}")


def _labels(labels: Mapping[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(labels.items())


def counter(name: str, labels: Mapping[str, str], per_minute: float, life: Life) -> Series:
    """A ``<name>_total`` series (``name`` without ``_total``)."""
    return Series(f"{name}_total", _labels(labels), per_minute, life)


def histogram(
    name: str,
    labels: Mapping[str, str],
    buckets: Sequence[tuple[str, float]],
    life: Life,
    mean: float,
) -> list[Series]:
    """A classic histogram: ``buckets`` are ``(le as written, requests a minute <= le)``,
    cumulative, the last one ``+Inf`` (the request rate); ``_sum`` grows by ``mean`` a request."""
    if not buckets or buckets[-1][0] != INF:
        raise ValueError("the last bucket must be +Inf")
    counts = [count for _, count in buckets]
    if any(b < a for a, b in itertools.pairwise(counts)):
        raise ValueError(f"bucket counts must be cumulative: {buckets}")
    total = buckets[-1][1]
    out = [
        Series(f"{name}_bucket", _labels({**labels, "le": le}), count, life)
        for le, count in buckets
    ]
    out.append(Series(f"{name}_count", _labels(labels), total, life))
    out.append(Series(f"{name}_sum", _labels(labels), total * mean, life))
    return out


def extrapolated_increase(
    samples: Sequence[tuple[int, float]], at: int, window: int
) -> float | None:
    """Prometheus 2.42's ``increase(x[window])`` at ``at`` of one series (see the module doc).

    ``None`` when fewer than two samples lie in ``[at - window, at]`` (no result).
    """
    points = [(t, v) for t, v in samples if at - window <= t <= at]
    if len(points) < 2:
        return None
    (first_t, first_v), (last_t, last_v) = points[0], points[-1]
    delta = last_v - first_v
    for (_, before), (_, after) in itertools.pairwise(points):
        if after < before:  # counter reset
            delta += before
    to_start: float = first_t - (at - window)
    to_end: float = at - last_t
    sampled = last_t - first_t
    average = sampled / (len(points) - 1)
    if delta > 0 and first_v >= 0:
        to_start = min(to_start, sampled * (first_v / delta))
    threshold = average * 1.1
    extended = float(sampled)
    extended += to_start if to_start < threshold else average / 2
    extended += to_end if to_end < threshold else average / 2
    return delta * (extended / sampled)


Backend = Literal["prometheus", "victoriametrics"]


def vm_max_prev(scrape_interval: float) -> float:
    """How far before a window's start VictoriaMetrics 1.79 looks for the previous sample
    (``getMaxPrevInterval``)."""
    for limit, extra in ((2, 4.0), (4, 2.0), (8, 1.0), (16, 0.5), (32, 0.25)):
        if scrape_interval <= limit:
            return scrape_interval * (1 + extra)
    return scrape_interval * (1 + 1 / 8)


def vm_increase(
    samples: Sequence[tuple[int, float]], at: int, window: int, scrape_interval: float = 60.0
) -> float | None:
    """VictoriaMetrics 1.79's ``increase(x[window])`` at ``at`` of one series without counter
    resets (see the module doc). ``None``: no sample in the range and none before it."""
    start = at - window
    inside = [(t, v) for t, v in samples if start < t <= at]
    before = [(t, v) for t, v in samples if start - vm_max_prev(scrape_interval) < t <= start]
    if before:
        return inside[-1][1] - before[-1][1] if inside else 0.0
    if not inside:
        return None
    first = inside[0][1]
    step_up = inside[1][1] - first if len(inside) > 1 else 0.0
    if step_up == 0:
        step_up = 10.0
    if abs(first) < 10 * (abs(step_up) + 1):
        return inside[-1][1]  # counts from 0
    return inside[-1][1] - first


def coverage_step(window: int) -> int:
    """As ``sloctl.sources.promql.coverage_step``: 1/100 of the window, at least 1 s."""
    return max(window // COVERAGE_STEPS, 1)


def coverage_count(
    times: Sequence[int], at: int, window: int, lookback: int, backend: Backend = "prometheus"
) -> int:
    """Steps of sloctl's coverage subquery ``[window:step]`` at ``at`` that see a sample within
    ``max(step, lookback)`` before them (``times`` sorted). The steps are the multiples of
    ``step`` in ``[at - window, at]`` (Prometheus 2), in ``(at - window, at]`` (VictoriaMetrics).
    """
    step = coverage_step(window)
    look = max(step, lookback)
    first = -((at - window) // -step) * step  # first multiple of step >= at - window
    if backend == "victoriametrics" and first == at - window:
        first += step  # left-open
    # a step sees the samples in [s - look, s] (Prometheus 2), (s - look, s] (VictoriaMetrics:
    # its lookbehind is left-open as its ranges are)
    seen_from = bisect.bisect_right if backend == "victoriametrics" else bisect.bisect_left
    count = 0
    for s in range(first, at + 1, step):
        i = seen_from(times, s - look)
        if i < len(times) and times[i] <= s:
            count += 1
    return count


@dataclass(frozen=True)
class History:
    """Families written in this order; the truth of every query the tests make."""

    families: tuple[Family, ...]

    def series(self, name: str, match: LabelMatch | None = None) -> list[Series]:
        return [s for f in self.families for s in f.series if s.matches(name, match or {})]

    def _matching(self, name: str, match: LabelMatch) -> list[Series]:
        found = self.series(name, match)
        if not found:
            raise LookupError(f"no generated series {name}{dict(match)}")
        return found

    def true_increase(self, name: str, match: LabelMatch, at: int, window: int) -> float:
        """Events the generator counted in ``(at - window, at]``, summed over matching series."""
        return sum(s.value(at) - s.value(at - window) for s in self._matching(name, match))

    def increase(
        self, name: str, match: LabelMatch, at: int, window: int,
        backend: Backend = "prometheus",
    ) -> float | None:
        """``sum(increase(name{match}[window]))`` at ``at`` on ``backend``; None: no result."""
        one = extrapolated_increase if backend == "prometheus" else vm_increase
        parts = [one(s.samples(), at, window) for s in self._matching(name, match)]
        known = [p for p in parts if p is not None]
        return sum(known) if known else None

    def coverage_count(
        self, name: str, match: LabelMatch, at: int, window: int, lookback: int,
        backend: Backend = "prometheus",
    ) -> int:
        """Steps with data of sloctl's coverage query for the matching series (any of them)."""
        times = sorted({t for s in self._matching(name, match) for t in s.life.times()})
        return coverage_count(times, at, window, lookback, backend)

    def coverage(
        self, name: str, match: LabelMatch, at: int, window: int, lookback: int,
        backend: Backend = "prometheus",
    ) -> float:
        """sloctl's coverage of one window: ``count / (window / step)``, capped at 1."""
        count = self.coverage_count(name, match, at, window, lookback, backend)
        return min(count / (window / coverage_step(window)), 1.0)

    @property
    def end(self) -> int:
        """The last sample time of the whole history."""
        return max(s.life.times()[-1] for f in self.families for s in f.series)

    def write(self, path: Path) -> int:
        """OpenMetrics text for promtool; returns the number of samples written."""
        written = 0
        with path.open("w", encoding="utf-8", newline="\n") as out:
            for family in self.families:
                out.write(f"# TYPE {family.name} {family.kind}\n")
                for s in family.series:
                    prefix = f"{s.name}{{{_render_labels(s.labels)}}} "
                    samples = s.samples()
                    out.writelines(f"{prefix}{_number(v)} {t}\n" for t, v in samples)
                    written += len(samples)
            out.write("# EOF\n")
        return written


    def import_text(self) -> str:
        """The samples as Prometheus text with millisecond timestamps, for VictoriaMetrics'
        ``/api/v1/import/prometheus`` (no ``# TYPE`` lines needed, no ``# EOF``)."""
        lines = []
        for family in self.families:
            for s in family.series:
                prefix = f"{s.name}{{{_render_labels(s.labels)}}} "
                lines += [f"{prefix}{_number(v)} {t * 1000}\n" for t, v in s.samples()]
        return "".join(lines)

    @property
    def sample_count(self) -> int:
        return sum(len(s.life.times()) for f in self.families for s in f.series)


def _render_labels(labels: Iterable[tuple[str, str]]) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return ",".join(f'{k}="{escape(v)}"' for k, v in labels)


def _number(value: float) -> str:
    """Whole numbers without a fraction, others as the shortest exact float."""
    if math.isfinite(value) and value == int(value):
        return str(int(value))
    return repr(value)
