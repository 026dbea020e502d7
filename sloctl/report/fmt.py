"""How the report writes its figures: one function per unit, shared by the email's HTML and
text parts, the app and the tests (which compare the email's digits with the stored scorecard).

Unknown values are written ``n/a`` (never 0 or 100 %). Changes carry a word and an arrow, so
their meaning never rests on colour alone (dark mode may invert colours).
"""

from __future__ import annotations

from sloctl.core.humanize import duration_text
from sloctl.report.scorecard import Change

UNKNOWN = "n/a"
ARROWS = {"better": "▲", "worse": "▼", "same": "=", "up": "▲", "down": "▼"}


def percent(ratio: float | None, digits: int = 2) -> str:
    """0.99512 -> ``99.51 %``."""
    return UNKNOWN if ratio is None else f"{ratio * 100:.{digits}f} %"


def attainment(ratio: float | None) -> str:
    """An SLI, precise enough to tell 99.95 % from 99.949 %: ``99.512 %``."""
    return percent(ratio, 3)


def duration(seconds: float | None) -> str:
    """``45 s``, ``25 min``, ``1.5 h``, ``2.1 d``."""
    if seconds is None:
        return UNKNOWN
    return duration_text(seconds)


def latency(seconds: float | None) -> str:
    """``245 ms`` below 10 s, else seconds."""
    if seconds is None:
        return UNKNOWN
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def count(value: float | None) -> str:
    """``1,234,567``."""
    return UNKNOWN if value is None else f"{value:,.0f}"


def value(unit: str, v: float | None) -> str:
    """A figure in its unit: ratio, seconds, per_day, per_day_per_service, count, req_s,
    latency."""
    if unit == "ratio":
        return percent(v)
    if unit == "sli":
        return attainment(v)
    if unit == "seconds":
        return duration(v)
    if unit in ("per_day", "per_day_per_service"):
        return UNKNOWN if v is None else f"{v:.2f}/day"
    if unit == "count":
        return count(v)
    if unit == "req_s":
        return UNKNOWN if v is None else f"{v:,.2f} req/s"
    if unit == "latency":
        return latency(v)
    return UNKNOWN if v is None else f"{v:g}"


def delta(unit: str, c: Change) -> str:
    """The change as ``▲ +0.012 pp better`` (``n/a`` without a previous value)."""
    if c.delta is None or c.direction is None:
        return "no previous value" if c.previous is None else UNKNOWN
    arrow = ARROWS.get(c.direction, "")
    if c.direction == "same":
        return f"{arrow} unchanged"
    if unit in ("ratio", "sli"):
        digits = 3 if unit == "sli" else 2
        if round(c.delta * 100, digits) == 0:
            return f"{ARROWS['same']} unchanged at {10 ** -digits:g} pp"
        amount = f"{c.delta * 100:+.{digits}f} pp"
    elif unit == "seconds":
        amount = ("+" if c.delta > 0 else "-") + duration(abs(c.delta))
    elif unit == "latency":
        amount = ("+" if c.delta > 0 else "-") + latency(abs(c.delta))
    elif unit in ("per_day", "per_day_per_service"):
        amount = f"{c.delta:+.2f}/day"
    elif unit == "req_s":
        amount = f"{c.delta:+,.2f} req/s"
    else:
        amount = f"{c.delta:+,.0f}"
    word = {"better": " better", "worse": " worse"}.get(c.direction, "")
    return f"{arrow} {amount}{word}"


SIGNAL_UNITS = {"traffic": "req_s", "error_ratio": "ratio", "latency_p50": "latency",
                "latency_p95": "latency", "latency_p99": "latency", "saturation": ""}
SIGNAL_TITLES = {"traffic": "Traffic", "error_ratio": "Errors", "latency_p50": "p50",
                 "latency_p95": "p95", "latency_p99": "p99", "saturation": "Saturation"}
