"""Is a latency threshold a bucket bound of a histogram? One answer for discover, validate --live
and rules generate (pure: no I/O).

A threshold is a bound when every target of the service has an ``le`` that the engine's and the
rules' matcher (:func:`sloctl.sources.promql.le_pattern`) accepts for it, in the histogram's
unit: 0.3 s is ``le="0.3"`` of a ``_seconds`` histogram and ``le="300"`` or ``"300.0"`` of a
``_milliseconds`` one.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from sloctl.discover.identity import Target
from sloctl.sources.promql import le_pattern, number
from sloctl.spec.models import in_unit


def parse_le(text: str) -> float | None:
    """The number an ``le`` label stands for (``"+Inf"`` -> inf); None when it is not one."""
    if text.strip() in ("+Inf", "Inf", "+inf", "inf"):
        return math.inf
    try:
        return float(Decimal(text.strip()))
    except (InvalidOperation, ValueError):
        return None


def finite_bounds(spellings: Iterable[str]) -> tuple[float, ...]:
    """The finite bounds among ``le`` spellings, sorted, each once."""
    values = {parse_le(s) for s in spellings}
    return tuple(sorted(v for v in values if v is not None and math.isfinite(v)))


def is_spelling_of(le: str, bound: float) -> bool:
    """Whether Prometheus' ``le=~`` matcher of ``bound`` matches this ``le`` spelling."""
    return re.fullmatch(le_pattern(bound), le) is not None


@dataclass(frozen=True)
class BoundCheck:
    """The bounds of one service's histogram and whether the threshold is one of them."""

    metric: str  # histogram base name
    unit: float  # seconds per histogram unit
    threshold: float  # seconds
    bounds: tuple[float, ...]  # finite bounds of any target, in the histogram's unit
    spellings: tuple[str, ...]  # the raw le values, as Prometheus stores them
    matching: tuple[str, ...]  # the le spellings that stand for the threshold
    missing_on: tuple[Target, ...]  # targets without the bound (all of them when not found)

    @property
    def bound(self) -> float:
        """The threshold in the histogram's unit (0.3 s -> 300 for milliseconds)."""
        return in_unit(self.threshold, self.unit)

    @property
    def ok(self) -> bool:
        return bool(self.matching) and not self.missing_on

    @property
    def unit_name(self) -> str:
        return unit_label(self.unit)

    def describe_bounds(self) -> str:
        """``0.005, 0.01, ..., 10 (s)``: the bounds in the histogram's unit."""
        return f"{', '.join(number(b) for b in self.bounds)} ({self.unit_name})"

    def nearest(self) -> tuple[float | None, float | None]:
        """The bounds just below and above the threshold, in seconds."""
        below = [b for b in self.bounds if b < self.bound]
        above = [b for b in self.bounds if b > self.bound]
        def seconds(value: float) -> float:
            return float(Decimal(repr(value)) * Decimal(repr(self.unit)))

        return (seconds(below[-1]) if below else None, seconds(above[0]) if above else None)

    def message(self) -> str:
        """What is wrong, in one paragraph (empty when the threshold is a bound everywhere)."""
        if self.ok:
            return ""
        wanted = f"bound {number(self.bound)} in {self.unit_name}"
        head = f"{format_seconds(self.threshold)} ({wanted}) is not a bucket bound of {self.metric}"
        if self.matching:
            where = "; ".join(str(t) for t in self.missing_on)
            head = (f"{format_seconds(self.threshold)} ({wanted}) is a bucket bound of "
                    f"{self.metric} only on some targets; missing on {where}")
        below, above = self.nearest()
        options = " or ".join(format_seconds(b) for b in (below, above) if b is not None)
        near = f"; nearest bounds: {options}" if options else ""
        return f"{head}. Bounds: {self.describe_bounds()}{near}."


def check_bound(
    metric: str, unit: float, threshold: float, le_by_target: Mapping[Target, Iterable[str]]
) -> BoundCheck:
    """Check ``threshold`` (seconds) against the ``le`` spellings of each target."""
    bound = in_unit(threshold, unit)
    per_target = {t: set(les) for t, les in le_by_target.items()}
    spellings = set().union(*per_target.values()) if per_target else set()
    matching = sorted(le for le in spellings if is_spelling_of(le, bound))
    missing = tuple(
        sorted(t for t, les in per_target.items() if not any(le in les for le in matching))
    )
    return BoundCheck(
        metric=metric,
        unit=unit,
        threshold=threshold,
        bounds=finite_bounds(spellings),
        spellings=tuple(sorted(spellings, key=_le_order)),
        matching=tuple(matching),
        missing_on=missing,
    )


def unit_label(unit: float) -> str:
    """``s``, ``ms``, ``us`` or ``ns`` for a unit in seconds."""
    return {1.0: "s", 0.001: "ms", 0.000001: "us", 0.000000001: "ns"}.get(unit, f"x{unit:g} s")


def format_seconds(seconds: float) -> str:
    """``300ms``, ``1s``, ``2.5s``: how a threshold is written in a spec."""
    if seconds < 1:
        return f"{number(float(in_unit(seconds, 0.001)))}ms"
    return f"{number(seconds)}s"


def _le_order(le: str) -> tuple[float, str]:
    value = parse_le(le)
    return (math.inf if value is None else value, le)
