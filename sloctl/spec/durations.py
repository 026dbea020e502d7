"""Parse the durations and latency thresholds people write in specs and settings.

Durations use Prometheus' units (``5m``, ``1h30m``, ``28d``, ``2w``) or a plain number of seconds;
thresholds use ``ms``/``s``/``m`` or a plain number of seconds. Errors are ``ValueError`` with a
message that says what is accepted, so callers can wrap them in ``SpecError``/``SettingsError``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_RE = re.compile(r"(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")
_THRESHOLD_RE = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ms|s|m)?")
_THRESHOLD_UNITS = {"ms": Decimal("0.001"), "s": Decimal(1), "m": Decimal(60), None: Decimal(1)}

DURATION_HELP = 'use a whole number of seconds (300) or Prometheus units, e.g. "5m", "1h30m", "28d"'
THRESHOLD_HELP = 'use seconds (0.3) or a duration with a unit, e.g. "300ms", "0.3s", "1s"'


def parse_duration(value: object, *, allow_zero: bool = False) -> int:
    """Whole seconds of ``"5m"``, ``"300s"``, ``"1h30m"``, ``"28d"``, ``"2w"``, ``300``, ``"300"``.

    Units must appear largest first (w, d, h, m, s), as in Prometheus. Zero is rejected unless
    ``allow_zero``; negative and fractional values are always rejected.
    """
    seconds = _duration_seconds(value)
    if seconds is None:
        raise ValueError(f"invalid duration {value!r}; {DURATION_HELP}")
    if seconds < 0 or (seconds == 0 and not allow_zero):
        bound = "zero or positive" if allow_zero else "positive"
        raise ValueError(f"duration must be {bound}; got {value!r}; {DURATION_HELP}")
    return seconds


def _duration_seconds(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = _DURATION_RE.fullmatch(text)
    if not text or match is None:
        return None
    parts = zip(match.groups(), _UNIT_SECONDS.values(), strict=True)
    return sum(int(number) * size for number, size in parts if number is not None)


def parse_threshold(value: object) -> float:
    """Seconds of a latency threshold: ``"300ms"`` -> 0.3, ``"0.3s"`` -> 0.3, ``0.3`` -> 0.3.

    Must be positive. Decimal arithmetic keeps ``"300ms"`` exactly equal to ``0.3``.
    """
    seconds: Decimal | None = None
    if isinstance(value, int | float) and not isinstance(value, bool):
        seconds = Decimal(str(value))
    elif isinstance(value, str):
        match = _THRESHOLD_RE.fullmatch(value.strip())
        if match is not None:
            try:
                seconds = Decimal(match.group(1)) * _THRESHOLD_UNITS[match.group(2)]
            except InvalidOperation:  # pragma: no cover - the regex only admits decimals
                seconds = None
    if seconds is None:
        raise ValueError(f"invalid latency threshold {value!r}; {THRESHOLD_HELP}")
    if not seconds.is_finite() or seconds <= 0:
        raise ValueError(f"latency threshold must be positive; got {value!r}; {THRESHOLD_HELP}")
    return float(seconds)
