"""A deterministic synthetic request history with known ground truth (the "shop" demo).

Model
-----
Each service receives requests at a diurnal rate ``r(t) = rate * (1 + A*sin(2*pi*(t - 9h)/1d))``
(peak at 15:00 UTC). Time is split into *pieces* by incidents; inside a piece the error ratio
and the latency distribution (lognormal) are constant. Rates continue past ``end`` (open-ended
incidents keep going), so a live exporter can carry on after the backfilled history.

Every counter is an exact, pure function of the sample time ``t`` (unix seconds)::

    counter(t) = floor( sum over pieces i of  w_i * (R(clip(t, a_i, b_i)) - R(a_i)) )

where ``R`` is the closed-form integral of ``r`` from the scenario start and ``w_i`` is the share
of requests the series counts in piece ``i`` (status code share times bucket fraction). Counters
start at 0 at ``start``, never reset and never decrease; ``bucket(le) <= bucket(next le) <= count``
holds exactly (the same float expression with monotone weights). ``_sum`` and the CPU counter
are rounded to milliseconds.

Ground truth and Prometheus
---------------------------
``increase(x[W])`` evaluated at ``at`` looks at the samples in ``[at - W, at]`` (Prometheus 2.x,
the version Debian ships; Prometheus 3 made ranges left-open, ``(at - W, at]``: pass
``left_open=True``). It takes ``last - first`` and extrapolates it by a factor that depends only
on the sample timestamps, unless a series' first value is tiny next to its increase (then
Prometheus stops the extrapolation at zero: windows starting near the scenario start, or rare
series such as the 5xx bucket at 5 ms). Every series is written at every sample time, so the
factor is the same for all series and ratios such as ``increase(bad) / increase(total)`` equal
``Truth.bad / Truth.total`` exactly. :meth:`Scenario.truth_window` returns the raw differences
and :meth:`Truth.extrapolation_factor` the factor, so absolute values can be checked too.
:meth:`Scenario.true_quantile` is the quantile of the underlying latency mixture, which
``histogram_quantile`` approximates inside the same bucket.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import pairwise

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

HISTOGRAM = "http_server_request_duration_seconds"
CPU_FAMILY = "process_cpu_seconds"
CPU_COUNTER = "process_cpu_seconds_total"
METHOD = "GET"
CODES: tuple[str, ...] = ("200", "500")
BAD_CODE = "500"
# Finite bucket bounds (seconds); +Inf is implied. 0.3 is a bound, 0.4 is not.
BUCKETS: tuple[float, ...] = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0)
ERROR_RATIO_ALERT = 0.005  # default error-ratio alert threshold (5m window)
LATENCY_ALERT = 0.3  # default p95 alert threshold in seconds (5m window)
DAY = 86400.0
_OMEGA = 2.0 * math.pi / DAY
_PHASE = 9 * 3600.0  # sin() crosses zero upwards at 09:00 UTC, peaks at 15:00 UTC


def format_le(bound: float) -> str:
    """The ``le`` label value as Prometheus client libraries write it: 0.3 -> '0.3', 1 -> '1'."""
    return "+Inf" if math.isinf(bound) else f"{bound:g}"


LE_LABELS: tuple[str, ...] = (*(format_le(b) for b in BUCKETS), "+Inf")


def bucket_of(value: float) -> tuple[float, float]:
    """The histogram bucket ``(lower, upper]`` holding ``value``."""
    lower = 0.0
    for upper in (*BUCKETS, math.inf):
        if value <= upper:
            return lower, upper
        lower = upper
    raise AssertionError("unreachable: +Inf holds every value")


def _to_seconds(t: datetime | float) -> float:
    if isinstance(t, datetime):
        if t.tzinfo is None:
            raise ValueError(f"naive datetime {t!r}: pass a timezone-aware UTC datetime")
        return t.timestamp()
    return float(t)


def _seconds(d: timedelta | float) -> float:
    return d.total_seconds() if isinstance(d, timedelta) else float(d)


@dataclass(frozen=True)
class Lognormal:
    """Lognormal latency distribution in seconds, given by its median and log-sigma."""

    median: float
    sigma: float

    @classmethod
    def from_p95(cls, p95: float, sigma: float = 0.6) -> Lognormal:
        return cls(p95 / math.exp(1.6448536269514722 * sigma), sigma)

    def scaled(self, factor: float) -> Lognormal:
        return Lognormal(self.median * factor, self.sigma)

    def cdf(self, x: float) -> float:
        if x <= 0:
            return 0.0
        if math.isinf(x):
            return 1.0
        z = (math.log(x) - math.log(self.median)) / self.sigma
        return 0.5 * math.erfc(-z / math.sqrt(2.0))

    @property
    def mean(self) -> float:
        return self.median * math.exp(self.sigma**2 / 2.0)


@dataclass(frozen=True)
class Incident:
    """A period with a different error ratio and/or slower latency. ``end=None``: open-ended."""

    start: datetime
    end: datetime | None
    error_ratio: float | None = None  # None keeps the service's base error ratio
    latency_multiplier: float = 1.0


@dataclass(frozen=True)
class ServiceProfile:
    """Traffic model of one service."""

    name: str
    rate: float  # mean requests per second
    diurnal_amplitude: float  # 0 <= A < 1
    error_ratio: float  # share of 5xx outside incidents
    latency: Lognormal
    cpu_rate: float  # CPU seconds per second (constant)
    incidents: tuple[Incident, ...] = ()


@dataclass(frozen=True)
class SeriesKey:
    """One exported series: sample name plus labels (``code``/``le`` only where they apply)."""

    metric: str
    service: str
    code: str | None = None
    le: str | None = None

    def labels(self) -> dict[str, str]:
        out = {"service_name": self.service}
        if self.code is not None:
            out["http_request_method"] = METHOD
            out["http_response_status_code"] = self.code
        if self.le is not None:
            out["le"] = self.le
        return out

    def render(self) -> str:
        """``name{label="value",...}`` as in the exposition formats."""
        inner = ",".join(f'{k}="{v}"' for k, v in self.labels().items())
        return f"{self.metric}{{{inner}}}"


@dataclass(frozen=True)
class _Piece:
    start: float
    end: float  # may be inf
    error_ratio: float
    latency: Lognormal
    fractions: tuple[float, ...]  # cumulative share <= each of LE_LABELS (last is 1.0)


@dataclass(frozen=True)
class Sampling:
    """Sample times: ``history_step`` seconds, then ``recent_step`` for the last ``recent_hours``.

    The same times are used for every series; pass them to :meth:`Scenario.truth_window`.
    """

    history_step: int = 300
    recent_step: int = 60
    recent_hours: float = 72.0

    def times(self, scenario: Scenario) -> FloatArray:
        """Sorted unix seconds from ``start`` (counters 0) to ``end``, both included."""
        start, end = scenario.start_s, scenario.end_s
        span = min(self.recent_hours * 3600.0, end - start)
        recent = end - np.arange(0.0, span + 0.5, float(self.recent_step))[::-1]
        old = np.arange(start, recent[0], float(self.history_step))
        return np.concatenate([old, recent[recent >= start]]).astype(np.float64)


@dataclass(frozen=True)
class Truth:
    """Exact counter differences between the first and the last sample of a range selection."""

    service: str
    at: float
    window: float
    first: float  # timestamp of the first sample in the window
    last: float  # timestamp of the last sample in the window
    samples: int  # number of samples in the window
    total: float
    bad: float
    below: Mapping[str, float] = field(repr=False)  # le label -> requests <= le (all codes)

    def good_below(self, threshold: float) -> float:
        """Requests (all codes) with latency <= ``threshold``; it must be a bucket bound."""
        le = format_le(threshold)
        if le not in self.below:
            raise ValueError(f"{threshold} is not a bucket bound; use one of {list(LE_LABELS)}")
        return self.below[le]

    @property
    def error_ratio(self) -> float:
        return self.bad / self.total

    def latency_ratio(self, threshold: float) -> float:
        """Share of requests slower than ``threshold``."""
        return 1.0 - self.good_below(threshold) / self.total

    @property
    def extrapolation_factor(self) -> float:
        """Prometheus' ``increase()`` factor for these samples (no zero clamp): increase = d * f."""
        sampled = self.last - self.first
        avg = sampled / (self.samples - 1)
        threshold = avg * 1.1
        to_start = self.first - (self.at - self.window)
        to_end = self.at - self.last
        span = sampled
        span += to_start if to_start < threshold else avg / 2
        span += to_end if to_end < threshold else avg / 2
        return span / sampled


@dataclass(frozen=True)
class Scenario:
    """Services plus the history interval ``[start, end]``; see the module docstring."""

    start: datetime
    end: datetime
    services: tuple[ServiceProfile, ...]

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("Scenario start/end must be timezone-aware UTC datetimes")
        if self.end <= self.start:
            raise ValueError(f"Scenario end {self.end} must be after start {self.start}")
        names = [s.name for s in self.services]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate service names in {names}")

    @property
    def start_s(self) -> float:
        return self.start.timestamp()

    @property
    def end_s(self) -> float:
        return self.end.timestamp()

    @property
    def service_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.services)

    def profile(self, service: str) -> ServiceProfile:
        try:
            return self._profiles[service]
        except KeyError:
            known = list(self.service_names)
            raise KeyError(f"unknown service {service!r}; known: {known}") from None

    # --- series --------------------------------------------------------------------------
    def series_of(self, service: str) -> list[SeriesKey]:
        """The 29 series of one service, in exposition order."""
        keys: list[SeriesKey] = []
        for code in CODES:
            keys += [SeriesKey(f"{HISTOGRAM}_bucket", service, code, le) for le in LE_LABELS]
            keys.append(SeriesKey(f"{HISTOGRAM}_sum", service, code))
            keys.append(SeriesKey(f"{HISTOGRAM}_count", service, code))
        keys.append(SeriesKey(CPU_COUNTER, service))
        return keys

    def series(self) -> list[SeriesKey]:
        return [k for s in self.service_names for k in self.series_of(s)]

    def values(
        self, service: str, times: Sequence[float] | FloatArray
    ) -> dict[SeriesKey, FloatArray]:
        """Every series of ``service`` at ``times`` (unix seconds)."""
        t = np.asarray(times, dtype=np.float64)
        prof = self.profile(service)
        pieces = self._pieces[service]
        deltas = self._deltas(prof, t)
        out: dict[SeriesKey, FloatArray] = {}
        for code in CODES:
            shares = [p.error_ratio if code == BAD_CODE else 1.0 - p.error_ratio for p in pieces]
            for j, le in enumerate(LE_LABELS):
                acc = np.zeros_like(t)
                for share, p, d in zip(shares, pieces, deltas, strict=True):
                    acc = acc + (share * p.fractions[j]) * d
                out[SeriesKey(f"{HISTOGRAM}_bucket", service, code, le)] = np.floor(acc)
            total = np.zeros_like(t)
            for share, p, d in zip(shares, pieces, deltas, strict=True):
                total = total + (share * p.latency.mean) * d
            out[SeriesKey(f"{HISTOGRAM}_sum", service, code)] = np.round(total, 3)
            inf_key = SeriesKey(f"{HISTOGRAM}_bucket", service, code, "+Inf")
            out[SeriesKey(f"{HISTOGRAM}_count", service, code)] = out[inf_key]
        out[SeriesKey(CPU_COUNTER, service)] = self.cpu_values(service, t)
        return out

    def cpu_values(self, service: str, times: Sequence[float] | FloatArray) -> FloatArray:
        """``process_cpu_seconds_total`` of ``service`` at ``times``: a constant CPU rate."""
        t = np.asarray(times, dtype=np.float64)
        return np.round(self.profile(service).cpu_rate * np.maximum(t - self.start_s, 0.0), 3)

    def counter(self, key: SeriesKey, t: datetime | float) -> float:
        """Value of one series at time ``t``."""
        return float(self.values(key.service, [_to_seconds(t)])[key][0])

    # --- ground truth --------------------------------------------------------------------
    def truth_window(
        self,
        service: str,
        at: datetime | float,
        window: timedelta | float,
        *,
        sample_times: Sequence[float] | FloatArray,
        left_open: bool = False,
    ) -> Truth:
        """Counter differences as ``increase(x[window])`` at ``at`` sees the given samples.

        The range holds the samples in ``[at - window, at]`` (Prometheus 2.x) or, with
        ``left_open=True``, in ``(at - window, at]`` (Prometheus 3).
        """
        at_s, win = _to_seconds(at), _seconds(window)
        ts = np.asarray(sample_times, dtype=np.float64)
        after_start = ts > at_s - win if left_open else ts >= at_s - win
        inside = ts[after_start & (ts <= at_s)]
        if inside.size < 2:
            raise ValueError(
                f"fewer than 2 samples within {win}s before {at_s}: "
                "widen the window or sample finer"
            )
        first, last = float(inside[0]), float(inside[-1])
        vals = self.values(service, [first, last])

        def diff(metric: str, code: str, le: str | None = None) -> float:
            v = vals[SeriesKey(f"{HISTOGRAM}_{metric}", service, code, le)]
            return float(v[1] - v[0])

        below = {le: sum(diff("bucket", c, le) for c in CODES) for le in LE_LABELS}
        return Truth(
            service=service,
            at=at_s,
            window=win,
            first=first,
            last=last,
            samples=int(inside.size),
            total=sum(diff("count", c) for c in CODES),
            bad=diff("count", BAD_CODE),
            below=below,
        )

    def expected_error_ratio(
        self, service: str, at: datetime | float, window: timedelta | float
    ) -> float:
        """Error ratio of the model (no rounding) over ``(at - window, at]``."""
        weights = self._window_weights(service, at, window)
        pieces = self._pieces[service]
        return sum(w * p.error_ratio for w, p in zip(weights, pieces, strict=True)) / sum(weights)

    def true_quantile(
        self, service: str, q: float, at: datetime | float, window: timedelta | float
    ) -> float:
        """Quantile ``q`` of the latency mixture over ``(at - window, at]`` (request-weighted).

        :func:`bucket_of` tells which bucket it falls into.
        """
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile {q} must be in (0, 1)")
        weights = self._window_weights(service, at, window)
        pieces = self._pieces[service]
        total = sum(weights)

        def cdf(x: float) -> float:
            return sum(w * p.latency.cdf(x) for w, p in zip(weights, pieces, strict=True)) / total

        lo, hi = math.log(1e-6), math.log(1e4)
        for _ in range(200):
            mid = (lo + hi) / 2.0
            if cdf(math.exp(mid)) < q:
                lo = mid
            else:
                hi = mid
        return math.exp(hi)

    def breaching(self, at: datetime | float) -> dict[str, set[str]]:
        """Services whose 5m error ratio > 0.005 and whose 5m p95 > 0.3 s at ``at``."""
        errors = {
            s
            for s in self.service_names
            if self.expected_error_ratio(s, at, 300) > ERROR_RATIO_ALERT
        }
        slow = {
            s for s in self.service_names if self.true_quantile(s, 0.95, at, 300) > LATENCY_ALERT
        }
        return {"error_ratio": errors, "latency_p95": slow}

    # --- internals -----------------------------------------------------------------------
    @cached_property
    def _profiles(self) -> dict[str, ServiceProfile]:
        return {s.name: s for s in self.services}

    @cached_property
    def _pieces(self) -> dict[str, tuple[_Piece, ...]]:
        return {s.name: _build_pieces(s, self.start_s) for s in self.services}

    def _integral(self, prof: ServiceProfile, t: FloatArray) -> FloatArray:
        """Requests from ``start`` to ``t`` (closed form of the diurnal rate), elementwise."""
        k = prof.diurnal_amplitude / _OMEGA
        c0 = math.cos(_OMEGA * ((self.start_s - _PHASE) % DAY))
        return prof.rate * ((t - self.start_s) + k * (c0 - _cos_phase(t)))

    def _deltas(self, prof: ServiceProfile, t: FloatArray) -> list[FloatArray]:
        """Requests inside each piece up to ``t``: ``R(clip(t, a, b)) - R(a)``."""
        r_t = self._integral(prof, t)
        out: list[FloatArray] = []
        for piece in self._pieces[prof.name]:
            r_a = float(self._integral(prof, np.array([piece.start]))[0])
            d = np.where(t <= piece.start, 0.0, r_t - r_a)
            if math.isfinite(piece.end):
                r_b = float(self._integral(prof, np.array([piece.end]))[0])
                d = np.where(t >= piece.end, r_b - r_a, d)
            out.append(d)
        return out

    def _window_weights(
        self, service: str, at: datetime | float, window: timedelta | float
    ) -> list[float]:
        at_s = _to_seconds(at)
        t = np.array([max(at_s - _seconds(window), self.start_s), at_s])
        return [float(d[1] - d[0]) for d in self._deltas(self.profile(service), t)]


_COS_CACHE: dict[bytes, FloatArray] = {}


def _cos_phase(t: FloatArray) -> FloatArray:
    """cos of the diurnal phase, via math.cos per element so any array length gives equal bits.

    The last few sample-time arrays are cached: all services share them.
    """
    key = t.tobytes()
    hit = _COS_CACHE.get(key)
    if hit is not None:
        return hit
    phase = np.mod(t - _PHASE, DAY) * _OMEGA
    out = np.fromiter((math.cos(x) for x in phase.tolist()), dtype=np.float64, count=phase.size)
    if t.size > 16:
        _COS_CACHE.clear()  # keep one large array only
        _COS_CACHE[key] = out
    return out


def _build_pieces(prof: ServiceProfile, start: float) -> tuple[_Piece, ...]:
    """Split time into pieces with constant error ratio and latency; later incidents win."""
    bounds = {start, math.inf}
    for inc in prof.incidents:
        bounds.add(max(start, inc.start.timestamp()))
        if inc.end is not None:
            bounds.add(max(start, inc.end.timestamp()))
    edges = sorted(bounds)
    pieces: list[_Piece] = []
    for a, b in pairwise(edges):
        err, lat = prof.error_ratio, prof.latency
        for inc in prof.incidents:
            inc_end = math.inf if inc.end is None else inc.end.timestamp()
            if inc.start.timestamp() <= a and b <= inc_end:
                err = prof.error_ratio if inc.error_ratio is None else inc.error_ratio
                lat = prof.latency.scaled(inc.latency_multiplier)
        fractions = (*(lat.cdf(b_) for b_ in BUCKETS), 1.0)
        pieces.append(_Piece(a, b, err, lat, fractions))
    return tuple(pieces)


def _healthy(
    name: str, rate: float, p95: float, cpu: float, *incidents: Incident
) -> ServiceProfile:
    return ServiceProfile(
        name=name,
        rate=rate,
        diurnal_amplitude=0.5,
        error_ratio=0.001,
        latency=Lognormal.from_p95(p95),
        cpu_rate=cpu,
        incidents=tuple(incidents),
    )


def shop_scenario(end: datetime, *, history: timedelta = timedelta(days=30)) -> Scenario:
    """The five-service shop with known trouble at ``end``.

    - payment: 1.2 % errors from ``end - 2d`` on (open-ended), 0.15 % before; p95 160 ms.
    - inventory: p95 450 ms from ``end - 1d`` on (open-ended), 150 ms before.
    - order: 25 % errors for 30 min starting ``end - 20h`` (inside the 1d/3d/28d windows, outside
      the 6h and shorter ones, so burn rates see it but no multiwindow alert fires at ``end``).
    - notification, user: healthy (0.1 % errors, p95 120 ms).
    Healthy services stay below 0.5 % errors and 0.3 s p95 in every 5m window.
    """
    end = end.astimezone(UTC)
    order_incident = Incident(
        end - timedelta(hours=20), end - timedelta(hours=19, minutes=30), 0.25
    )
    payment = ServiceProfile(
        name="payment",
        rate=20.0,
        diurnal_amplitude=0.5,
        error_ratio=0.0015,
        latency=Lognormal.from_p95(0.16),
        cpu_rate=0.8,
        incidents=(Incident(end - timedelta(days=2), None, error_ratio=0.012),),
    )
    inventory = _healthy(
        "inventory",
        60.0,
        0.15,
        1.5,
        Incident(end - timedelta(days=1), None, latency_multiplier=3.0),
    )
    services = (
        _healthy("order", 40.0, 0.14, 1.2, order_incident),
        inventory,
        payment,
        _healthy("notification", 15.0, 0.12, 0.3),
        _healthy("user", 50.0, 0.12, 0.9),
    )
    return Scenario(start=end - history, end=end, services=services)


def synthetic_scenario(
    n_services: int, end: datetime, *, history: timedelta = timedelta(days=30)
) -> Scenario:
    """``n_services`` services svc-0001... for benchmarks; every 10th one breaches at ``end``.

    Service ``i`` (1-based) breaches the error ratio (2 %) when ``i % 20 == 1`` and the p95
    latency (x3, about 0.45 s) when ``i % 20 == 11``, both from ``end - 1d`` on (open-ended).
    """
    end = end.astimezone(UTC)
    since = end - timedelta(days=1)
    services: list[ServiceProfile] = []
    for i in range(1, n_services + 1):
        incidents: tuple[Incident, ...] = ()
        if i % 20 == 1:
            incidents = (Incident(since, None, error_ratio=0.02),)
        elif i % 20 == 11:
            incidents = (Incident(since, None, latency_multiplier=3.0),)
        services.append(
            ServiceProfile(
                name=f"svc-{i:04d}",
                rate=5.0 + (i * 37) % 45,
                diurnal_amplitude=0.3,
                error_ratio=0.001,
                latency=Lognormal.from_p95(0.12 + 0.01 * (i % 4)),
                cpu_rate=0.1 + 0.05 * (i % 10),
                incidents=incidents,
            )
        )
    return Scenario(start=end - history, end=end, services=tuple(services))
