"""sloctl on what real OpenTelemetry instrumentation emits (issue: real telemetry).

Four FastAPI services instrumented with the official packages, scraped by a real Prometheus
every 15 s: the new HTTP semconv (seconds) and the old one (milliseconds), each with and without
an SDK View that adds a 0.3 s / 300 ms bucket. No series carries ``service_name``; sloctl finds
each service through ``target_info``. Ground truth: the load driver's own counts, and
Prometheus' ``increase()`` recomputed from the raw samples.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from sloctl.core.evaluation import Evaluation
from sloctl.core.windows import DataState
from sloctl.evaluation.cycle import Evaluator
from sloctl.rulegen import plan_files
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.spec.models import HistogramLatency, SLOSpec
from tests.support.otel.load import LoadResult, Mix
from tests.support.otel.prometheus import extrapolated_increase, raw_delta
from tests.support.otel.service import AppSpec
from tests.support.otel.stack import OtelStack, StackConfig

pytestmark = pytest.mark.integration

APPS = (
    AppSpec("new-view", semconv="http", view=True, job="new-view"),
    AppSpec("new-plain", semconv="http", job="new-plain"),
    AppSpec("old-view", semconv="old", view=True, job="old-view"),
    AppSpec("old-plain", semconv="old", job="old-plain"),
)
# The latency threshold of each service's SLO: 300 ms where the View adds the bound, else the
# default bucket 250 ms (so that Prometheus rules can record it; 300 ms there is interpolated).
THRESHOLD = {"new-view": "300ms", "new-plain": "250ms", "old-view": "300ms", "old-plain": "250ms"}
# 10 % errors, 20 % clearly slow (420 ms), the rest fast.
MIX = Mix(ok=70, fail=10, slow=20)
LOAD_SECONDS = 20.0
# Short rule windows so that a stopped service resolves within the test: the rules under test
# are the same definitions at 1 m; `for` and the coverage hold have their own tests.
SETTINGS = Settings.model_validate({
    "prometheus": {"scrape_interval_seconds": 15},
    "default_alerts": {
        "error_ratio": {"window_seconds": "1m", "for_seconds": 0},
        "latency_p95": {"window_seconds": "1m", "for_seconds": 0},
    },
    "data_quality": {"min_short_window_coverage": 0},
})


def spec_text() -> str:
    docs = []
    for app in APPS:
        preset = "otel-http" if app.semconv == "http" else "otel-http-legacy"
        docs.append(
            "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec:\n"
            f"  preset: {preset}\n  services: [{app.service_name}]\n  window: 7d\n"
            "  availability: {objective: 99}\n"
            f"  latency: {{objective: 90, threshold: {THRESHOLD[app.service_name]}}}\n"
        )
    return "---\n".join(docs)


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> list[SLOSpec]:
    path = tmp_path_factory.mktemp("real-otel-specs") / "services.yaml"
    path.write_text(spec_text())
    return load_specs([path])


@pytest.fixture(scope="module")
def otel_stack_config(specs: list[SLOSpec], tmp_path_factory: pytest.TempPathFactory
                      ) -> StackConfig:
    """The four apps, and the rules sloctl generates for their specs loaded into Prometheus."""
    rules_dir = tmp_path_factory.mktemp("real-otel-rules")
    rule_files = []
    for name, text in plan_files(specs, SETTINGS).items():
        (rules_dir / name).write_text(text)
        rule_files.append(rules_dir / name)
    return StackConfig(apps=APPS, evaluation_interval="5s", rule_files=tuple(rule_files))


@pytest.fixture(scope="module")
def loaded(otel_stack: OtelStack) -> Iterator[tuple[dict[str, LoadResult], float]]:
    """The same load on every app at once; the instant every app was scraped after it ended."""
    loads = {name: otel_stack.driver(name).start(MIX, LOAD_SECONDS) for name in otel_stack.apps}
    try:
        results = {name: load.wait(LOAD_SECONDS * 4) for name, load in loads.items()}
    finally:
        for load in loads.values():
            load.stop()
    end = max(r.finished_at for r in results.values())
    scrapes = otel_stack.wait_for_scrapes(after=end + 0.05)
    yield results, max(scrapes.values())


def evaluate(stack: OtelStack, specs: list[SLOSpec], at: float) -> Evaluation:
    assert stack.prometheus is not None
    prom = SETTINGS.prometheus.model_copy(update={"url": stack.prometheus.url})
    source = PrometheusSource(prom)
    try:
        return Evaluator(SETTINGS, specs, source).run_cycle(datetime.fromtimestamp(at, UTC))
    finally:
        source.close()


def count_metric(app: AppSpec) -> str:
    return ("http_server_request_duration_seconds_count" if app.semconv == "http"
            else "http_server_duration_milliseconds_count")


def status_label(app: AppSpec) -> str:
    return "http_response_status_code" if app.semconv == "http" else "http_status_code"


def test_every_service_is_found_through_target_info_and_measured(
    otel_stack: OtelStack, loaded: tuple[dict[str, LoadResult], float], specs: list[SLOSpec]
) -> None:
    results, at = loaded
    ev = evaluate(otel_stack, specs, at)
    assert not ev.blind, ev.blind  # nobody is "no data"
    assert not ev.backend_errors, ev.backend_errors
    by_id = {s.slo_id: s for s in ev.slos}
    api = otel_stack.api
    for app in APPS:
        truth = results[app.service_name]
        assert truth.errors_5xx == MIX.fail and truth.total == MIX.total
        five = by_id[f"{app.service_name}/availability"].window(300)
        assert five is not None and five.state is DataState.OK
        # Prometheus' increase() over 5m, recomputed from the raw samples of every series
        raw = api.samples(f'{count_metric(app)}{{job="{app.job}"}}', at, "5m")
        total = sum(extrapolated_increase(s, at - 300, at) for s in raw.values())
        bad = sum(
            extrapolated_increase(s, at - 300, at)
            for labels, s in raw.items()
            if dict(labels)[status_label(app)].startswith("5")
        )
        assert five.total == pytest.approx(total, rel=1e-9)
        assert five.bad == pytest.approx(bad, rel=1e-9)
        # ... whose un-extrapolated deltas are exactly what the app served
        assert sum(raw_delta(s) for s in raw.values()) == truth.total
        assert five.error_ratio is not None
        lo, hi = sorted((bad / total, truth.errors_5xx / truth.total))
        assert lo - 0.02 <= five.error_ratio <= hi + 0.02  # extrapolation moves it a little


@pytest.mark.parametrize("service", ["new-view", "old-view", "new-plain", "old-plain"])
def test_latency_sli_is_exact_at_a_bucket_bound(
    otel_stack: OtelStack, loaded: tuple[dict[str, LoadResult], float], specs: list[SLOSpec],
    service: str,
) -> None:
    """300 ms where the View added it (le "0.3" / "300.0"), 250 ms elsewhere ("0.25", "250.0")."""
    results, at = loaded
    ev = evaluate(otel_stack, specs, at)
    latency = next(s for s in ev.slos if s.slo_id == f"{service}/latency")
    five = latency.window(300)
    assert five is not None and not five.interpolated
    # every slow request (420 ms) is above either threshold; ok and failed ones are fast
    truth = results[service]
    slow_share = truth.by_kind["slow"] / truth.total
    assert five.error_ratio == pytest.approx(slow_share, abs=0.03)
    assert not any(p.startswith(f"note: {service}/latency") for p in ev.problems)


def test_a_threshold_between_buckets_is_interpolated_and_says_so(
    otel_stack: OtelStack, loaded: tuple[dict[str, LoadResult], float], specs: list[SLOSpec],
) -> None:
    """The default OTel buckets have no 0.3: a 300 ms SLO there is inexact, and noted."""
    _, at = loaded
    plain = [s for s in specs if s.service == "new-plain" and s.name == "latency"]
    ind = plain[0].indicator
    assert isinstance(ind, HistogramLatency)
    at300 = replace(plain[0], indicator=replace(ind, threshold=0.3))
    ev = evaluate(otel_stack, [at300], at)
    [status] = ev.slos
    assert all(w.interpolated for w in status.windows if w.total)
    [note] = [p for p in ev.problems if p.startswith("note: new-plain/latency")]
    assert "between the bounds 0.25 and 0.5" in note


def test_generated_rules_record_every_slo(
    otel_stack: OtelStack, loaded: tuple[dict[str, LoadResult], float], specs: list[SLOSpec],
) -> None:
    """Every recording of every SLO is non-empty: the target_info join and the le spellings
    (0.3, 0.25, 300.0, 250.0) all work in the rules Prometheus evaluates itself."""
    assert loaded  # after the load
    api = otel_stack.api
    ids = sorted({f"{s.service}-{s.name}" for s in specs})
    deadline = time.monotonic() + 30
    missing = ids
    while missing and time.monotonic() < deadline:
        missing = [i for i in ids
                   if api.value(f'slo:sli_error:ratio_rate5m{{sloth_id="{i}"}}') is None]
        time.sleep(1)
    assert missing == [], f"recording rules recorded nothing for {missing}"
    ev = evaluate(otel_stack, specs, time.time())
    for status in ev.slos:
        recorded = api.value(
            f'slo:sli_error:ratio_rate5m{{sloth_id="{status.service}-{status.name}"}}'
        )
        five = status.window(300)
        assert recorded is not None and five is not None and five.error_ratio is not None
        assert recorded == pytest.approx(five.error_ratio, abs=0.03)
    absent = api.query('ALERTS{alertname="SLOMetricAbsent"}')
    assert absent == []


def test_default_error_alert_fires_then_resolves_when_traffic_stops(
    otel_stack: OtelStack, loaded: tuple[dict[str, LoadResult], float], specs: list[SLOSpec],
) -> None:
    """10 % errors fire the error-ratio alert (1m window here); once traffic has stopped for
    longer than the window, sloctl resolves it with the reason -- as Prometheus resolves its
    own copy of the rule."""
    _, at = loaded
    fired = evaluate(otel_stack, specs, at)
    firing = {a.service for a in fired.alerts if a.rule == "error_ratio" and a.state.value ==
              "firing"}
    assert firing == {a.service_name for a in APPS}
    api = otel_stack.api
    assert {r["metric"]["service"] for r in api.query(
        'ALERTS{alertname="ServiceErrorRatioHigh",alertstate="firing"}', at)} == firing
    # traffic stopped at the end of the load; wait until two scrapes past the 1m window
    later = otel_stack.wait_for_scrapes(after=at + 75, timeout=120)
    quiet_at = min(later.values())
    states: dict[str, str] = {}
    with_reason: dict[str, str | None] = {}
    prev = {a.key: a for a in fired.alerts}
    assert otel_stack.prometheus is not None
    source = PrometheusSource(SETTINGS.prometheus.model_copy(
        update={"url": otel_stack.prometheus.url}))
    try:
        evaluator = Evaluator(SETTINGS, specs, source)
        evaluator.store = _Memory(prev)
        ev = evaluator.run_cycle(datetime.fromtimestamp(quiet_at, UTC))
    finally:
        source.close()
    for a in ev.alerts:
        if a.rule == "error_ratio":
            states[a.service] = a.state.value
            with_reason[a.service] = a.reason
    assert states == dict.fromkeys(firing, "resolved")
    assert set(with_reason.values()) == {"no traffic in 1m"}
    assert api.query('ALERTS{alertname="ServiceErrorRatioHigh"}', quiet_at + 10) == []


class _Memory:
    """A store of alert states in memory, for two cycles in a row."""

    def __init__(self, states: dict[str, object]) -> None:
        self.states = states

    def alert_states(self) -> dict[str, object]:
        return self.states

    def alert_states_before(self, at: datetime) -> dict[str, object]:
        return self.states

    def save_evaluation(self, ev: Evaluation) -> int:
        self.states = {a.key: a for a in ev.alerts}
        return 1

