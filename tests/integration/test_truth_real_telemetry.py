"""sloctl against a real Prometheus 2.42, and a real VictoriaMetrics 1.79, holding generated
histories: every value is ground truth on both.

One small history (tests/support/truth_history.py) is backfilled with promtool into one
Prometheus for the module, and imported into one VictoriaMetrics: every test runs on both
(``backend``; the fixture ``prometheus`` is whichever serves the Prometheus query API). Where
the two differ (VictoriaMetrics never extrapolates ``increase()`` and its ranges are left-open,
so a coverage subquery at a multiple of its step has one step fewer) the test says both values.
Each service in it is crafted for one case; every expected value below is worked out by hand in
the comments and, where the backend extrapolates or counts coverage steps, recomputed from the
samples by the history itself (``History.increase``, ``History.coverage``, each replicating
either backend).

Time line (``A``: a whole hour 2 h before now, the data's end; samples every minute):

service    family (samples every minute)  data                       a minute
legacy     http_server_duration_millis.   A-3h .. A                  57 x 200, 3 x 500
dotthree   http_server_request_dur._sec.  A-3h .. A, le="0.3"        40, 36 within 0.3 s
dotthirty  http_server_request_dur._sec.  A-3h .. A, le="0.30"       80, 72 within 0.3 s
stopped    http_server_duration_millis.   A-4h .. A-1h               60 x 200
gappy      http_server_duration_millis.   A-4h .. A, none between    60 x 200
                                          A-75m and A-45m
weekly     http_requests_total{job,code}  A-26h .. A                 199 x 200, 1 x 500
quarterly  http_requests_total{job,code}  A-26h .. A                 90 x 200, 10 x 500
fresh      http_server_duration_millis.   A-12m .. A                 30 x 200, 30 x 500
idle       http_server_duration_millis.   A-3h .. A, flat (still     54 x 200, 6 x 500
                                          sampled) from A-2h30m
vanish     http_server_duration_millis.   A-3h .. A-2h30m            54 x 200, 6 x 500

Prometheus 2.42 range selectors are closed on both sides, so a window ending at a sample time
holds a sample on each edge: ``increase()`` then equals the generator's count exactly.
VictoriaMetrics counts from the sample on the window's start (outside its left-open range) to
the last one: exactly the same count there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.core import alert_rules
from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.burn import DEFAULT_BURN_RATE_RULES, Severity, decide
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.core.slo import SLOStatus
from sloctl.core.windows import ALERT_WINDOWS, DataState, window_name
from sloctl.demo.backfill import backfill
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.victoriametrics_server import VictoriaMetricsServer
from sloctl.errors import EXIT_NO_DATA
from sloctl.evaluation.cycle import Evaluator
from sloctl.rulegen.names import sli_metric
from sloctl.rulegen.slo_rules import slo_groups
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.spec.models import SLOSpec
from sloctl.store import Store
from tests.support.truth_history import (
    INF,
    Backend,
    Family,
    History,
    Life,
    Series,
    counter,
    histogram,
)

pytestmark = pytest.mark.integration

H = 3600
LOOKBACK = 120  # coverage lookback: 2 x prometheus.scrape_interval_seconds (default 60)
LEGACY = "http_server_duration_milliseconds"
SECONDS = "http_server_request_duration_seconds"
REQUESTS = "http_requests"
TWENTY_EIGHT_DAYS = 28 * 86400
BACKENDS = ("prometheus", "victoriametrics")
Server = PrometheusServer | VictoriaMetricsServer


Buckets = list[tuple[str, float]]


def fast(n: int) -> Buckets:
    """``n`` requests a minute, all within 5 ms (OTel's "250.0"-style spelling of ``le``)."""
    return [(le, n) for le in ("5.0", "100.0", "250.0", "300.0", "500.0", INF)]


# legacy: 60 requests a minute, cumulative per bucket (200s + 500s):
#   le 5: 2+3=5, le 100: 27+3=30, le 250: 55+3=58, le 300: 56+3=59, le 500: 57+3=60, +Inf: 60
LEGACY_OK: Buckets = [
    ("5.0", 2), ("100.0", 27), ("250.0", 55), ("300.0", 56), ("500.0", 57), (INF, 57)]
LEGACY_ERR = fast(3)
# dotthree writes le="0.3", dotthirty le="0.30"; both have 90 % of requests within 300 ms.
DOTTHREE: Buckets = [("0.1", 20), ("0.3", 36), ("0.5", 38), ("1", 39), (INF, 40)]
DOTTHIRTY: Buckets = [("0.10", 40), ("0.30", 72), ("0.50", 76), ("1.0", 78), (INF, 80)]


@dataclass(frozen=True)
class Times:
    """Every instant of the module, from the anchor ``a`` (unix seconds, a whole hour)."""

    a: int

    @property
    def fresh_start(self) -> int:  # fresh's first sample (counters 0)
        return self.a - 720

    @property
    def idle_start(self) -> int:  # idle and vanish start serving
        return self.a - 3 * H

    @property
    def idle_stop(self) -> int:  # idle's counters go flat, vanish's series end
        return self.idle_start + 1800

    def dt(self, t: int) -> datetime:
        return datetime.fromtimestamp(t, UTC)


def build_history(t: Times) -> History:
    a = t.a
    recent = Life(a - 3 * H, a)
    stopped = Life(a - 4 * H, a - H)
    # no sample strictly between A-4500 (A-75m) and A-2700 (A-45m): 30 minutes without scrapes
    gappy = Life(a - 4 * H, a, gaps=((a - 4500, a - 2700),))
    long = Life(a - 26 * H, a)
    fresh = Life(t.fresh_start, a)
    idle = Life(t.idle_start, a, idle_from=t.idle_stop)
    vanish = Life(t.idle_start, t.idle_stop)

    def legacy(service: str, life: Life, by_code: dict[str, Buckets]) -> list[Series]:
        return [
            s
            for code, buckets in by_code.items()
            for s in histogram(LEGACY, {"service_name": service, "http_status_code": code},
                               buckets, life, mean=40.0)
        ]

    legacy_series = [
        *legacy("legacy", recent, {"200": LEGACY_OK, "500": LEGACY_ERR}),
        *legacy("stopped", stopped, {"200": fast(60)}),
        *legacy("gappy", gappy, {"200": fast(60)}),
        *legacy("fresh", fresh, {"200": fast(30), "500": fast(30)}),
        *legacy("idle", idle, {"200": fast(54), "500": fast(6)}),
        *legacy("vanish", vanish, {"200": fast(54), "500": fast(6)}),
    ]
    seconds_series = [
        s
        for service, buckets in (("dotthree", DOTTHREE), ("dotthirty", DOTTHIRTY))
        for s in histogram(SECONDS, {"service_name": service, "http_response_status_code": "200"},
                           buckets, recent, mean=0.15)
    ]
    counters = [
        counter(REQUESTS, {"job": job, "code": code}, per_minute, long)
        for job, code, per_minute in (
            ("weekly", "200", 199), ("weekly", "500", 1),
            ("quarterly", "200", 90), ("quarterly", "500", 10),
        )
    ]
    return History((
        Family(LEGACY, "histogram", tuple(legacy_series)),
        Family(SECONDS, "histogram", tuple(seconds_series)),
        Family(REQUESTS, "counter", tuple(counters)),
    ))


@pytest.fixture(scope="module")
def times() -> Times:
    now = datetime.now(UTC).timestamp()
    return Times(int(now // H) * H - 2 * H)


@pytest.fixture(scope="module")
def history(times: Times) -> History:
    return build_history(times)


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> Backend:
    name: Backend = request.param
    return name


@pytest.fixture(scope="module")
def prometheus(history: History, backend: Backend, times: Times,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The history in a Prometheus (promtool backfill) or a VictoriaMetrics (HTTP import,
    polled until every sample is searchable)."""
    root = tmp_path_factory.mktemp(f"truth-{backend}")
    if backend == "victoriametrics":
        with VictoriaMetricsServer(root / "data") as vm:
            vm.import_text([history.import_text()])
            vm.force_flush()
            at = times.a + 1
            vm.wait_visible(f'count(count_over_time({{__name__=~".+"}}[{at - times.a + 27 * H}s]))',
                            expect=sum(len(f.series) for f in history.families), at=at)
            vm.wait_visible(f'sum(count_over_time({{__name__=~".+"}}[{27 * H}s]))',
                            expect=history.sample_count, at=at)
            yield vm
        return
    path = root / "history.om"
    samples = history.write(path)
    stats = backfill(path, root / "data")
    assert stats.samples == samples
    with PrometheusServer(root / "data") as server:
        yield server


@pytest.fixture(scope="module")
def spec_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("truth-specs")


def specs(folder: Path, name: str, text: str) -> list[SLOSpec]:
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return load_specs([path])


def settings(url: str, preset: str = "otel-http-legacy", store_url: str | None = None) -> Settings:
    data: dict[str, object] = {
        "prometheus": {"url": url, "timeout_seconds": 10},
        "signals": {"preset": preset},
    }
    if store_url:
        data["store_url"] = store_url
    return Settings.model_validate(data)


@contextmanager
def evaluating(url: str, slo_specs: list[SLOSpec], preset: str = "otel-http-legacy",
               store: Store | None = None) -> Iterator[Evaluator]:
    """An Evaluator on ``url`` whose Prometheus client is closed afterwards."""
    s = settings(url, preset, store.url if store else None)
    source = PrometheusSource(s.prometheus)
    try:
        yield Evaluator(s, slo_specs, source, store)
    finally:
        source.close()


def evaluate(url: str, slo_specs: list[SLOSpec], at: int, preset: str = "otel-http-legacy",
             ) -> Evaluation:
    """One cycle without a store at unix time ``at``."""
    with evaluating(url, slo_specs, preset) as engine:
        return engine.run_cycle(datetime.fromtimestamp(at, UTC))


def slo(ev: Evaluation, slo_id: str) -> SLOStatus:
    return next(s for s in ev.slos if s.slo_id == slo_id)


def signal(ev: Evaluation, service: str, which: Signal) -> float | None:
    return next(v.value for v in ev.signals if v.service == service and v.signal == which)


def alert(ev: Evaluation, key: str) -> AlertStatus:
    return next(a for a in ev.alerts if a.key == key)


def error_alert(service: str) -> str:
    return alert_rules.alert_key(alert_rules.ERROR_RATIO, service)


def page_alert(slo_id: str) -> str:
    return alert_rules.alert_key(alert_rules.BURN_RATE_PAGE, slo_id)


def ticket_alert(slo_id: str) -> str:
    return alert_rules.alert_key(alert_rules.BURN_RATE_TICKET, slo_id)


def svc(name: str) -> dict[str, str]:
    return {"service_name": name}


# --- 1. A milliseconds histogram (OpenTelemetry's semconv before 1.21) ----------------------

LEGACY_SPECS = """
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http-legacy
  services: [legacy]
  window: 28d
  availability: {objective: 99}
  latency: {objective: 95, threshold: 300ms}
"""


@pytest.fixture(scope="module")
def legacy_eval(prometheus: Server, spec_dir: Path, times: Times) -> Evaluation:
    return evaluate(prometheus.url, specs(spec_dir, "legacy", LEGACY_SPECS), times.a)


@pytest.mark.parametrize("window", [*ALERT_WINDOWS, TWENTY_EIGHT_DAYS], ids=window_name)
def test_milliseconds_histogram_latency_sli_is_exact(
    legacy_eval: Evaluation, history: History, times: Times, window: int, backend: Backend
) -> None:
    # 59 of 60 requests a minute are within le="300.0" (300 ms): SLI 59/60 = 0.98333 in every
    # window. Data covers 3 h: up to 2h the window holds 60 x minutes requests (5m: 300, 2h:
    # 7200); beyond, all 180 minutes (10800), as the counters are 0 at the first sample
    # (Prometheus extrapolates to that zero point, i.e. not at all; VictoriaMetrics counts the
    # first sample from 0).
    w = slo(legacy_eval, "legacy/latency").window(window)
    assert w is not None and w.state is DataState.OK, w
    minutes = min(window, 3 * H) // 60
    count = history.increase(f"{LEGACY}_count", svc("legacy"), times.a, window, backend)
    assert count == history.true_increase(f"{LEGACY}_count", svc("legacy"), times.a, window)
    assert count == 60 * minutes
    assert w.total == pytest.approx(count, rel=1e-12)
    assert w.bad == pytest.approx(1 * minutes, rel=1e-9)
    assert w.sli == pytest.approx(59 / 60, rel=1e-12)
    assert not w.interpolated  # 300 ms is le="300.0": no interpolation
    assert w.coverage == pytest.approx(
        history.coverage(f"{LEGACY}_count", svc("legacy"), times.a, window, LOOKBACK, backend))
    if window <= 2 * H:
        assert w.coverage == 1.0  # data on every step of a window inside the 3 h


def test_milliseconds_histogram_signals_are_in_seconds(legacy_eval: Evaluation) -> None:
    # 5m at A: 300 requests, 15 of them 500s; cumulative buckets x5: le 5: 25, le 100: 150,
    # le 250: 290, le 300: 295, le 500: 300, +Inf: 300.
    # p50: rank 150 -> bucket (5, 100]: 5 + 95 x (150-25)/(150-25) = 100 ms
    # p95: rank 285 -> bucket (100, 250]: 100 + 150 x (285-150)/(290-150) = 244.642857 ms
    # p99: rank 297 -> bucket (300, 500]: 300 + 200 x (297-295)/(300-295) = 380 ms
    assert signal(legacy_eval, "legacy", Signal.TRAFFIC) == pytest.approx(1.0)  # 300 / 300 s
    assert signal(legacy_eval, "legacy", Signal.ERROR_RATIO) == pytest.approx(0.05)
    assert signal(legacy_eval, "legacy", Signal.LATENCY_P50) == pytest.approx(0.1, rel=1e-9)
    assert signal(legacy_eval, "legacy", Signal.LATENCY_P95) == pytest.approx(
        (100 + 150 * 135 / 140) / 1000, rel=1e-9)  # 0.244642857 s, not 244.6
    assert signal(legacy_eval, "legacy", Signal.LATENCY_P99) == pytest.approx(0.38, rel=1e-9)
    # p95 0.2446 s is below the 300 ms default alert; the error ratio 5 % is above 0.5 %
    assert alert(legacy_eval, error_alert("legacy")).state is AlertState.PENDING
    latency_key = alert_rules.alert_key(alert_rules.LATENCY_P95, "legacy")
    assert alert(legacy_eval, latency_key).state is AlertState.INACTIVE


@pytest.mark.parametrize("window", [300, 7200, TWENTY_EIGHT_DAYS], ids=window_name)
def test_milliseconds_histogram_availability_from_http_status_code(
    legacy_eval: Evaluation, history: History, times: Times, window: int
) -> None:
    # 3 of 60 requests a minute have http_status_code="500": SLI 57/60 = 0.95
    w = slo(legacy_eval, "legacy/availability").window(window)
    assert w is not None and w.sli == pytest.approx(0.95, rel=1e-12)
    bad = history.true_increase(
        f"{LEGACY}_count", {"service_name": "legacy", "http_status_code": "500"}, times.a, window)
    assert w.bad == pytest.approx(bad, rel=1e-12)  # 3 x minutes
    assert w.burn_rate == pytest.approx(0.05 / 0.01, rel=1e-9)  # objective 99 %


# --- 2. le="0.3" and le="0.30" ---------------------------------------------------------------

SPELLING_SPECS = """
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http
  services: [dotthree, dotthirty]
  window: 28d
  availability: {enabled: false}
  latency: {objective: 95, threshold: 300ms}
"""


@pytest.fixture(scope="module")
def spelling(prometheus: Server, spec_dir: Path, times: Times,
             ) -> tuple[list[SLOSpec], Evaluation]:
    slo_specs = specs(spec_dir, "spelling", SPELLING_SPECS)
    ev = evaluate(prometheus.url, slo_specs, times.a, preset="otel-http")
    return slo_specs, ev


@pytest.mark.parametrize(("service", "per_minute", "fast_per_minute"),
                         [("dotthree", 40, 36), ("dotthirty", 80, 72)])
@pytest.mark.parametrize("window", [300, 3600, TWENTY_EIGHT_DAYS], ids=window_name)
def test_both_spellings_of_300ms_give_the_exact_sli(
    spelling: tuple[list[SLOSpec], Evaluation], history: History, times: Times,
    service: str, per_minute: int, fast_per_minute: int, window: int,
) -> None:
    # dotthree: 36 of 40 a minute <= le="0.3"; dotthirty: 72 of 80 <= le="0.30": both 0.9
    w = slo(spelling[1], f"{service}/latency").window(window)
    assert w is not None and w.state is DataState.OK, w
    minutes = min(window, 3 * H) // 60
    assert w.total == pytest.approx(per_minute * minutes, rel=1e-12)
    good = history.true_increase(f"{SECONDS}_bucket", {**svc(service), "le": re.compile(
        r"0\.30*")}, times.a, window)
    assert good == fast_per_minute * minutes
    assert w.sli == pytest.approx(0.9, rel=1e-12)
    assert not w.interpolated


def test_generated_recording_rule_matches_both_spellings(
    spelling: tuple[list[SLOSpec], Evaluation], prometheus: Server, times: Times
) -> None:
    # slo:sli_error:ratio_rate<W> = (rate(_count) - rate(_bucket{le=~"0\.30*"})) / rate(_count):
    # 4/40 = 8/80 = 0.1 in every window (counters are 0 at their first sample, so Prometheus
    # does not extrapolate even in the windows longer than the 3 h of data)
    slo_specs, ev = spelling
    source = PrometheusSource(settings(prometheus.url).prometheus)
    try:
        for spec in slo_specs:
            five = slo(ev, spec.slo_id).window(300)
            assert five is not None and five.sli is not None
            engine_error = 1 - five.sli
            records = {r.name: r for g in slo_groups(spec, settings(prometheus.url))
                       for r in g.rules if r.kind == "record"}
            for window in ALERT_WINDOWS:
                rule = records[sli_metric(window)]
                answer = source.query(rule.expr, times.dt(times.a))
                assert len(answer) == 1, (spec.slo_id, window, rule.expr)  # non-empty
                assert answer[0].value == pytest.approx(0.1, rel=1e-9), (spec.slo_id, window)
                assert answer[0].value == pytest.approx(engine_error, rel=1e-9)
    finally:
        source.close()


# --- 3. Coverage: an empty last hour, a 30-minute gap ------------------------------------------

COVERAGE_SPECS = """
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http-legacy
  services: [stopped, gappy]
  window: 28d
  availability: {objective: 99.5}
  latency: {enabled: false}
"""


@pytest.fixture(scope="module")
def coverage_eval(prometheus: Server, spec_dir: Path, times: Times) -> Evaluation:
    return evaluate(prometheus.url, specs(spec_dir, "coverage", COVERAGE_SPECS), times.a)


def test_series_stopped_an_hour_ago(
    coverage_eval: Evaluation, history: History, times: Times, backend: Backend
) -> None:
    status = slo(coverage_eval, "stopped/availability")
    # 5m, 30m: no sample at all: no series.
    for window in (300, 1800):
        w = status.window(window)
        assert w is not None and w.state is DataState.NO_DATA and w.sli is None, w
    # 1h = [A-1h, A] holds the single last sample (A-1h): the series is there (its coverage
    # counts the steps up to A-1h+120 s), but increase() needs two samples: nothing counted,
    # which is no traffic, not blindness.
    w1h = status.window(3600)
    assert w1h is not None and w1h.state is DataState.NO_TRAFFIC and w1h.sli is None
    assert w1h.reason == "a single sample in 1h: increase() needs two"
    assert not status.no_data  # the longer windows have series
    # 2h: 100 steps of 72 s; A is a multiple of 72, so the steps are A-7200+72j, j = 0..100.
    # A step has data when a sample lies in [step-120, step]: samples end at A-3600, so steps
    # up to A-3600+120 = A-3480 count: j = 0..51 (A-3528; j = 52 is A-3456): 52 of 100.
    # VictoriaMetrics' subquery range is left-open: j = 1..51, 51 of 100.
    w2h = status.window(7200)
    assert w2h is not None and w2h.state is DataState.OK
    count = f"{LEGACY}_count"
    steps = {"prometheus": 52, "victoriametrics": 51}[backend]
    assert history.coverage_count(count, svc("stopped"), times.a, 7200, LOOKBACK, backend) == steps
    assert w2h.coverage == pytest.approx(steps / 100)
    # its 1 h of data in the 2h window: 3600 requests, extrapolated by Prometheus since the
    # last sample is 1 h before the window's end: 3600 x (3600 + 30) / 3600 = 3630;
    # VictoriaMetrics: the last sample (A-1h) minus the one on the window's start: 3600
    assert w2h.total == pytest.approx(
        history.increase(count, svc("stopped"), times.a, 7200, backend))
    assert w2h.total == pytest.approx({"prometheus": 3630, "victoriametrics": 3600}[backend])
    for w in status.windows:
        assert w.coverage == pytest.approx(history.coverage(
            count, svc("stopped"), times.a, w.window, LOOKBACK, backend)), w.window


def test_full_data_gives_full_coverage(
    prometheus: Server, spec_dir: Path, times: Times
) -> None:
    # one hour earlier, stopped's 5m..2h windows lie inside its data: every step has data
    ev = evaluate(prometheus.url, specs(spec_dir, "coverage", COVERAGE_SPECS), times.a - H)
    status = slo(ev, "stopped/availability")
    for window in (300, 1800, 3600, 7200):
        w = status.window(window)
        assert w is not None and w.coverage == 1.0 and w.sli == 1.0, w


def test_a_thirty_minute_gap_lowers_coverage(
    coverage_eval: Evaluation, history: History, times: Times, backend: Backend
) -> None:
    status = slo(coverage_eval, "gappy/availability")
    count = f"{LEGACY}_count"
    # 2h, steps A-72k (k = 0..100): no sample in [step-120, step] for A-4380 < step < A-2700,
    # i.e. k = 38..60 (A-2736 .. A-4320): 23 steps without data, 78 with: 0.78 (left-open on
    # VictoriaMetrics: k = 100, A-7200, is not a step: 77)
    w2h = status.window(7200)
    assert w2h is not None
    steps = {"prometheus": 78, "victoriametrics": 77}[backend]
    assert history.coverage_count(count, svc("gappy"), times.a, 7200, LOOKBACK, backend) == steps
    assert w2h.coverage == pytest.approx(steps / 100)
    # the counters kept counting through the gap: samples on both edges, exact 7200 requests
    assert w2h.total == pytest.approx(7200)
    # 1h, steps A-36k: no data for 2700 < 36k < 4380 within k <= 100: k = 76..100, 25 steps
    # (k = 100 has no data either: 0.76 on both backends);
    # and the first sample in [A-1h, A] is A-2700: Prometheus extrapolates the 2700 requests
    # it sees by half a sample interval (900 s to the window start > 1.1 x 60 s):
    # 2700 x (2700 + 30) / 2700 = 2730, not the 3600 served. VictoriaMetrics finds no sample
    # within 67.5 s before the window's start and a first value far above one minute's
    # increase: it counts from that first sample, 2700. The SLI is exact on both.
    w1h = status.window(3600)
    assert w1h is not None
    assert w1h.coverage == pytest.approx(0.76)
    assert w1h.total == pytest.approx(
        history.increase(count, svc("gappy"), times.a, 3600, backend))
    assert w1h.total == pytest.approx({"prometheus": 2730, "victoriametrics": 2700}[backend])
    assert history.true_increase(count, svc("gappy"), times.a, 3600) == 3600
    assert w1h.sli == 1.0


# --- 4. Burn-rate factors follow the SLO period -----------------------------------------------

PERIOD_SPECS = """
apiVersion: sloctl/v1
kind: SLO
metadata: {name: availability}
spec:
  service: weekly
  objective: 99.9
  window: 7d
  indicator: {preset: prometheus-http-availability}
---
apiVersion: sloctl/v1
kind: SLO
metadata: {name: availability}
spec:
  service: quarterly
  objective: 99
  window: 90d
  indicator: {preset: prometheus-http-availability}
"""


@pytest.fixture(scope="module")
def period_eval(prometheus: Server, spec_dir: Path, times: Times) -> Evaluation:
    slo_specs = specs(spec_dir, "periods", PERIOD_SPECS)
    return evaluate(prometheus.url, slo_specs, times.a, preset="prometheus-http")


def factors(status: SLOStatus) -> list[tuple[str, int, int, float]]:
    return [(d.rule.severity.value, d.rule.long_window, d.rule.short_window, d.rule.factor)
            for d in status.decisions]


def test_seven_day_factors_page_where_fixed_factors_would_not(period_eval: Evaluation) -> None:
    status = slo(period_eval, "weekly/availability")
    # share x 7d / long window: 0.02 x 168h/1h = 3.36, 0.05 x 168/6 = 1.4, 0.1 x 7/1 = 0.7,
    # 0.1 x 7/3 = 0.2333
    assert factors(status) == [
        ("page", 3600, 300, 3.36), ("page", 21600, 1800, 1.4),
        ("ticket", 86400, 7200, 0.7), ("ticket", 259200, 21600, pytest.approx(7 / 30)),
    ]
    # 1 of 200 requests fail: 0.5 % / 0.1 % budget = burn 5 in every window (26 h of data)
    for w in status.windows:
        assert w.burn_rate == pytest.approx(5.0, rel=1e-9), w
    assert [d.firing for d in status.decisions] == [True, True, True, True]  # 5 > every factor
    assert alert(period_eval, page_alert("weekly/availability")).state is AlertState.FIRING
    # the fixed 30-day factors (14.4 and 6 for pages) would not page at burn 5
    fixed = decide(DEFAULT_BURN_RATE_RULES, {w.window: w for w in status.windows},
                   min_short_coverage=0.9)
    assert [(d.rule.factor, d.firing) for d in fixed if d.rule.severity is Severity.PAGE] == [
        (14.4, False), (6.0, False)]


def test_ninety_day_factors_ticket_but_do_not_page(
    period_eval: Evaluation, history: History, times: Times
) -> None:
    status = slo(period_eval, "quarterly/availability")
    # 0.02 x 90d/1h = 43.2, 0.05 x 2160h/6h = 18, 0.1 x 90 = 9, 0.1 x 30 = 3
    assert factors(status) == [
        ("page", 3600, 300, 43.2), ("page", 21600, 1800, 18.0),
        ("ticket", 86400, 7200, 9.0), ("ticket", 259200, 21600, 3.0),
    ]
    # 10 of 100 requests fail: 10 % / 1 % = burn 10. The 1d window lies inside the 26 h of
    # data (144,000 requests, 14,400 failed), fully covered.
    one_day = status.window(86400)
    assert one_day is not None and one_day.coverage == 1.0
    assert one_day.total == pytest.approx(
        history.true_increase(f"{REQUESTS}_total", {"job": "quarterly"}, times.a, 86400))
    assert one_day.total == pytest.approx(144_000)
    for w in status.windows:
        assert w.burn_rate == pytest.approx(10.0, rel=1e-9), w
    # pages: 10 < 43.2 and 10 < 18; tickets: 10 > 9 (1d and 2h) and 10 > 3 (3d and 6h)
    assert [d.firing for d in status.decisions] == [False, False, True, True]
    assert alert(period_eval, page_alert("quarterly/availability")).state is AlertState.INACTIVE
    assert alert(period_eval, ticket_alert("quarterly/availability")).state is AlertState.FIRING


# --- 5. Alerts held back by low coverage ----------------------------------------------------

FRESH_SPECS = """
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http-legacy
  services: [fresh]
  window: 30d
  availability: {objective: 99.5}
  latency: {enabled: false}
"""


def test_two_minutes_of_data_hold_the_page_back_until_the_window_is_covered(
    prometheus: Server, spec_dir: Path, history: History, times: Times, backend: Backend
) -> None:
    slo_specs = specs(spec_dir, "fresh", FRESH_SPECS)
    start = times.fresh_start  # A-720, a multiple of 3 and 18
    early = evaluate(prometheus.url, slo_specs, start + 120)
    status = slo(early, "fresh/availability")
    # 5m window at F+120: samples F, F+60, F+120 (counters 0 at F): 120 requests, 60 failed;
    # error ratio 0.5 / budget 0.005 = burn 100, far above 14.4 and 6 (30 days)
    five = status.window(300)
    assert five is not None and five.total == pytest.approx(120) and five.bad == pytest.approx(60)
    assert five.burn_rate == pytest.approx(100.0, rel=1e-9)
    one_hour = status.window(3600)
    assert one_hour is not None and one_hour.burn_rate == pytest.approx(100.0, rel=1e-9)
    # coverage 5m: steps of 3 s in [F-180, F+120] with a sample in [step-120, step]: steps
    # F .. F+120, 41 of 100. 30m: steps of 18 s from F to F+108 (F+120 is no multiple of 18),
    # 7 of 100. (VictoriaMetrics leaves out the step on each window's start, which has no
    # data here: the same counts.)
    count = f"{LEGACY}_count"
    assert history.coverage_count(count, svc("fresh"), start + 120, 300, LOOKBACK, backend) == 41
    assert history.coverage_count(count, svc("fresh"), start + 120, 1800, LOOKBACK,
                                  backend) == 7
    assert five.coverage == pytest.approx(0.41)
    assert status.window(1800).coverage == pytest.approx(0.07)  # type: ignore[union-attr]
    page = [d for d in status.decisions if d.rule.severity is Severity.PAGE]
    assert [d.firing for d in page] == [False, False]
    assert page[0].reason == (
        "held back: the 5m window has data for 41% of its length (minimum 90%)")
    assert page[1].reason == (
        "held back: the 30m window has data for 7% of its length (minimum 90%)")
    paged = alert(early, page_alert("fresh/availability"))
    assert paged.state is AlertState.INACTIVE
    assert paged.reason is not None and "held back" in paged.reason and "41%" in paged.reason
    # the default error-ratio alert: 50 % > 0.5 %, but its 5m window is 41 % covered
    errors = alert(early, error_alert("fresh"))
    assert errors.state is AlertState.INACTIVE
    assert errors.reason == "held back: the 5m window has data for 41% of its length (minimum 90%)"

    # at F+300 the 5m window [F, F+300] has data on all its 101 steps (VictoriaMetrics: the
    # 100 of (F, F+300]): coverage 1, it pages
    later = evaluate(prometheus.url, slo_specs, start + 300)
    status = slo(later, "fresh/availability")
    assert status.window(300).coverage == 1.0  # type: ignore[union-attr]
    assert status.decisions[0].firing is True and status.decisions[0].reason is None
    assert alert(later, page_alert("fresh/availability")).state is AlertState.FIRING
    errors = alert(later, error_alert("fresh"))
    assert errors.state is AlertState.PENDING and errors.reason is None  # for: 5m starts
    assert errors.value == pytest.approx(0.5)


# --- 6. An idle service resolves; a vanished one too ----------------------------------------

IDLE_SPECS = """
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: otel-http-legacy
  services: [idle]
  window: 30d
  availability: {objective: 99.5}
  latency: {enabled: false}
  alerting: {enabled: false}
"""


def idle_instants(t: Times) -> dict[str, int]:
    """before traffic; 10 min in (5m fully covered, 10 % errors); 5 min later; 6 min after
    the traffic stopped (the 5m window [stop+60, stop+360] sees flat counters)."""
    return {
        "before": t.idle_start - 300,
        "pending": t.idle_start + 600,
        "firing": t.idle_start + 900,
        "quiet": t.idle_stop + 360,
    }


def test_idle_service_resolves_and_a_vanished_one_does_not_fire_forever(
    prometheus: Server, spec_dir: Path, tmp_path: Path, times: Times
) -> None:
    at = idle_instants(times)
    idle_specs = specs(spec_dir, "idle", IDLE_SPECS)
    with (Store(f"sqlite:///{tmp_path / 'idle.db'}") as store,
          evaluating(prometheus.url, idle_specs, store=store) as engine):
        ev = {name: engine.run_cycle(times.dt(t)) for name, t in at.items()}

    before = alert(ev["before"], error_alert("idle"))
    assert before.state is AlertState.INACTIVE
    assert before.reason == 'no series for service_name="idle" over 5m'
    assert all(a.service != "vanish" for a in ev["before"].alerts)

    for service in ("idle", "vanish"):
        pending = alert(ev["pending"], error_alert(service))
        # 5m window: 300 requests, 30 of them 500s: 10 % > 0.5 %
        assert pending.state is AlertState.PENDING and pending.value == pytest.approx(0.1)
        assert pending.active_since == times.dt(at["pending"])
        firing = alert(ev["firing"], error_alert(service))
        assert firing.state is AlertState.FIRING  # held for 300 s = for: 5m
        assert firing.fired_at == times.dt(at["firing"])

    # idle: its counters are flat but scraped: increase() is 0 -> no traffic -> resolved
    assert signal(ev["quiet"], "idle", Signal.TRAFFIC) == 0.0
    idle = alert(ev["quiet"], error_alert("idle"))
    assert idle.state is AlertState.RESOLVED
    assert idle.reason == "no traffic in 5m"
    assert idle.resolved_at == times.dt(at["quiet"])
    # vanish: no series at all any more; not in any spec: its stored state is carried over
    # and resolved, as Prometheus resolves an alert whose expression returns nothing
    gone = alert(ev["quiet"], error_alert("vanish"))
    assert gone.state is AlertState.RESOLVED
    assert gone.reason == "no data for it this cycle: its service or SLO has no series"
    assert all(v.service != "vanish" for v in ev["quiet"].signals)


# --- 7. Replaying an earlier instant ----------------------------------------------------------

def test_replay_starts_from_the_states_before_its_instant(
    prometheus: Server, spec_dir: Path, tmp_path: Path, times: Times
) -> None:
    at = idle_instants(times)
    t1, t2, t3 = at["pending"], at["firing"], at["quiet"]
    idle_specs = specs(spec_dir, "idle", IDLE_SPECS)
    with (Store(f"sqlite:///{tmp_path / 'replay.db'}") as store,
          evaluating(prometheus.url, idle_specs, store=store) as engine):
        for t in (t1, t2, t3):
            engine.run_cycle(times.dt(t))
        replay = engine.run_cycle(times.dt(t2 - 60))
        current = store.alert_states()
    # T2 - 1 min = T1 + 4 min: starting from T1's pending (active since T1), the condition
    # still holds (10 % errors) and 240 s < for 300 s: pending. From T3's states it would be
    # resolved (kept as is: T3 is later), from T2's firing.
    for service in ("idle", "vanish"):
        a = alert(replay, error_alert(service))
        assert a.state is AlertState.PENDING, a
        assert a.active_since == times.dt(t1)
        assert a.updated_at == times.dt(t2 - 60)
        # the replay does not move the current state back
        assert current[error_alert(service)].state is AlertState.RESOLVED


# --- 8. An SLO on a metric that does not exist ------------------------------------------------

GHOST_SPECS = """
apiVersion: sloctl/v1
kind: SLO
metadata: {name: availability}
spec:
  service: ghost
  objective: 99.5
  window: 28d
  serviceLabel: service_name
  indicator:
    ratio:
      metric: ghost_requests_total
      errors: {code: {regex: "5.."}}
"""


def test_no_data_is_never_a_perfect_sli(
    prometheus: Server, spec_dir: Path, tmp_path: Path, times: Times
) -> None:
    slo_specs = specs(spec_dir, "ghost", GHOST_SPECS)
    ev = evaluate(prometheus.url, slo_specs, times.a)
    status = slo(ev, "ghost/availability")
    assert [w.state for w in status.windows] == [DataState.NO_DATA] * 8
    assert status.no_data and status.sli is None and status.breaching is None
    assert status.budget_remaining is None
    assert [p for p in ev.problems if p.startswith("no data: ghost/availability: ")] == [
        'no data: ghost/availability: no series match ghost_requests_total{service_name="ghost"} '
        "in any window; run `sloctl discover` to see what this Prometheus holds, or "
        "`sloctl validate --live` to check the spec"
    ]

    env = {
        "SLOCTL_PROMETHEUS_URL": prometheus.url,
        "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "SLOCTL_SPECS": str(spec_dir / "ghost.yaml"),
    }
    result = CliRunner().invoke(
        app, ["eval", "--at", str(times.a), "--fail-on", "any", "--output", "json", "-q"],
        env=env)
    assert result.exit_code == EXIT_NO_DATA, result.output
    shown = json.loads(result.stdout)
    [ghost] = shown["slos"]
    assert ghost["slo_id"] == "ghost/availability" and ghost["sli"] is None
    assert {w["state"] for w in ghost["windows"]} == {"no_data"}
    assert any(p.startswith("no data: ghost/availability: ") for p in shown["problems"])


@pytest.mark.parametrize(("service", "offset", "window", "expected"), [
    # 5m ending 30 s after a sample: samples A-300 .. A-60 (5), 240 s sampled, 30 s to each
    # edge (< 1.1 x 60 s): 240 requests x 300/240 = 300 (the true count is 300 as well).
    # VictoriaMetrics: A-60 minus A-360 (the sample before the range): 300
    ("legacy", -30, 300, {"prometheus": 300.0, "victoriametrics": 300.0}),
    # stopped, 5m ending 90 s after its last sample A-3600: samples A-3780 .. A-3600 (4),
    # 180 s sampled, +30 s to the start, +30 s (half an interval: 90 >= 66) to the end:
    # 180 x 240/180 = 240, where the generator counted 210 in (A-3810, A-3510].
    # VictoriaMetrics: A-3600 minus A-3840: 240
    ("stopped", -H + 90, 300, {"prometheus": 240.0, "victoriametrics": 240.0}),
    # gappy, 1h at A: first sample A-2700 after the gap (see test_a_thirty_minute_gap...)
    ("gappy", 0, 3600, {"prometheus": 2730.0, "victoriametrics": 2700.0}),
])
def test_increase_equals_the_replica(
    prometheus: Server, history: History, times: Times, backend: Backend,
    service: str, offset: int, window: int, expected: dict[str, float],
) -> None:
    at = times.a + offset
    metric = f"{LEGACY}_count"
    want = expected[backend]
    assert history.increase(metric, svc(service), at, window, backend) == pytest.approx(want)
    source = PrometheusSource(settings(prometheus.url).prometheus)
    try:
        query = f'sum(increase({metric}{{service_name="{service}"}}[{window}s]))'
        answer = source.query(query, times.dt(at))
    finally:
        source.close()
    assert len(answer) == 1 and answer[0].value == pytest.approx(want, rel=1e-12)
