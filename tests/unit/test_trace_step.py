"""The post-cycle trace step: targets, exemplars, HTTP vs span metrics, backends down, budget.

Jaeger is the fake's answer function behind ``httpx.MockTransport`` (real payload shapes, no
socket); Prometheus a stand-in for ``query_many`` with known span-metric answers; the store is
SQLite in tmp_path.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest

from sloctl.core.alerts import AlertState, AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.errors import BackendUnreachable
from sloctl.evaluation.plan import plan_cycle
from sloctl.runtime.trace_step import Target, after_cycle, enrich, targets
from sloctl.settings import JaegerSettings, Settings, SignalSettings, load_settings
from sloctl.sources.jaeger import JaegerSource
from sloctl.sources.prometheus import QueryResult, Sample
from sloctl.sources.span_metrics import compare_results, comparison_queries
from sloctl.store import Store
from tests.support.evaluations import T0, alert, evaluation, signals, slo
from tests.support.fake_jaeger import FakeJaeger, otlp_span, search_answer

MS = 1_000_000
JAEGER_URL = "http://127.0.0.1:16686"
UI = "http://jaeger.example:16686"
T0_NS = int(T0.timestamp()) * 1_000_000_000


def checkout_traces() -> bytes:
    """Traces 1..4 of checkout, one server span each: 40/900/200/70 ms; 3 fails (HTTP 503)."""
    spans = [
        otlp_span(
            f"{n:032x}",
            f"{n:016x}",
            f"POST /pay/{n}",
            kind=2,
            start_ns=T0_NS - (300 - n * 60) * 1_000_000_000,
            duration_ns=ms * MS,
            attributes={"http.response.status_code": code},
        )
        for n, ms, code in [(1, 40, 200), (2, 900, 200), (3, 200, 503), (4, 70, 200)]
    ]
    return search_answer([("checkout", spans)])


CALLS, FAILED = comparison_queries(300)


def checked(ev: Evaluation, prometheus: FakePrometheus, config: Settings) -> Evaluation:
    """``ev`` as the cycle leaves it: with its HTTP-vs-span-metrics check, which the cycle plans
    (sloctl/evaluation/plan.py) unless the signals come from span metrics already."""
    if not plan_cycle([], config, ev.at).span_check:
        return ev
    answers = prometheus.query_many([CALLS, FAILED], ev.at)
    return dataclasses.replace(ev, span_check=compare_results(ev.signals, answers, 300))


class FakePrometheus:
    """``query_many`` answering checkout's span metrics over 5m: ``calls`` and ``failed``."""

    def __init__(self, calls: float = 300.0, failed: float = 30.0) -> None:
        self.answers: dict[str, QueryResult] = {
            CALLS: [Sample({"service_name": "checkout"}, calls)],
            FAILED: [Sample({"service_name": "checkout"}, failed)],
        }
        self.asked: list[tuple[list[str], datetime]] = []

    def query_many(self, queries: Sequence[str], at: datetime) -> Mapping[str, QueryResult]:
        self.asked.append((list(queries), at))
        return {q: self.answers[q] for q in queries}


def settings(preset: str = "otel-http", **jaeger: object) -> Settings:
    return Settings(
        signals=SignalSettings(preset=preset),  # type: ignore[arg-type]
        jaeger=JaegerSettings(enabled=True, url=JAEGER_URL, ui_url=UI, **jaeger),  # type: ignore[arg-type]
    )


def client(fake: FakeJaeger, calls: list[str] | None = None, **jaeger: object) -> JaegerSource:
    """A JaegerSource whose HTTP answers come from ``fake.answer``."""

    def handle(request: httpx.Request) -> httpx.Response:
        if calls is not None:
            calls.append(request.url.path)
        query = parse_qs(request.url.query.decode())
        status, content_type, body = fake.answer(request.url.path, query)
        return httpx.Response(status, headers={"Content-Type": content_type}, content=body)

    return JaegerSource(settings(**jaeger).jaeger, transport=httpx.MockTransport(handle))


def refusing(calls: list[str]) -> JaegerSource:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        raise httpx.ConnectError("[Errno 111] Connection refused", request=request)

    return JaegerSource(settings().jaeger, transport=httpx.MockTransport(handle))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 's.db'}") as s:
        yield s


def firing(key: str, service: str, slo_id: str | None, **labels: str) -> AlertStatus:
    a = alert(key, AlertState.FIRING, T0, service=service, slo_id=slo_id)
    return dataclasses.replace(a, labels=labels)


def checkout_evaluation(error_ratio: float = 0.10, traffic: float = 1.0) -> Evaluation:
    """checkout/availability breaches (SLI 99.5 % < 99.9 %) and its page alert fires (1h).

    Its HTTP signals over 5m: ``traffic`` req/s, ``error_ratio``, p95 0.795 s.
    """
    return evaluation(
        T0,
        [slo("checkout", "availability", T0, bad=5000.0), slo("cart", "availability", T0)],
        signals(
            "checkout",
            {
                Signal.TRAFFIC: traffic,
                Signal.ERROR_RATIO: error_ratio,
                Signal.LATENCY_P95: 0.795,
                Signal.SATURATION: 0.5,
            },
        ),
        [
            firing(
                "burn_rate:page/checkout/availability",
                "checkout",
                "checkout/availability",
                long_window="1h",
                short_window="5m",
            )
        ],
    )


@pytest.mark.parametrize(
    ("ev", "expected"),
    [
        pytest.param(
            checkout_evaluation(),
            [
                Target("checkout/availability", "slo", "checkout", 3600),
                Target("burn_rate:page/checkout/availability", "alert", "checkout", 3600),
            ],
            id="breaching-slo-and-its-firing-alert",
        ),
        pytest.param(
            evaluation(T0, [slo("cart", "availability", T0)]),
            [],
            id="healthy-slo-nothing",
        ),
        pytest.param(
            evaluation(
                T0,
                [slo("cart", "availability", T0)],
                alerts=[
                    firing(
                        "burn_rate:ticket/cart/availability",
                        "cart",
                        "cart/availability",
                        long_window="1d",
                    ),
                    firing(
                        "burn_rate:page/cart/availability",
                        "cart",
                        "cart/availability",
                        long_window="6h",
                    ),
                ],
            ),
            [
                Target("cart/availability", "slo", "cart", 21600),
                Target("burn_rate:ticket/cart/availability", "alert", "cart", 86400),
                Target("burn_rate:page/cart/availability", "alert", "cart", 21600),
            ],
            id="healthy-slo-with-firing-alerts-takes-the-shortest-window",
        ),
        pytest.param(
            evaluation(
                T0,
                [],
                alerts=[
                    firing("default:error_ratio/cart", "cart", None, window="5m"),
                    firing("default:latency_p95/cart", "cart", None, window="soon"),
                    alert("default:error_ratio/order", AlertState.PENDING, T0, slo_id=None),
                ],
            ),
            [
                Target("default:error_ratio/cart", "alert", "cart", 300),
                Target("default:latency_p95/cart", "alert", "cart", 3600),
            ],
            id="default-alerts-window-label-else-1h-pending-ignored",
        ),
    ],
)
def test_targets(ev: Evaluation, expected: list[Target]) -> None:
    assert targets(ev) == expected


def test_enrich_stores_exemplars_once_per_service_window_and_compares_span_metrics(
    store: Store,
) -> None:
    calls: list[str] = []
    fake = FakeJaeger(search={"checkout": checkout_traces()})
    prometheus = FakePrometheus(calls=150.0)  # half of the HTTP metrics' 1 req/s
    with client(fake, calls) as jaeger:
        found = enrich(
            checked(checkout_evaluation(), prometheus, settings()), settings(), store, jaeger
        )
    # one exemplar search (+ the error=true search: fewer than 3 fail); no span statistics
    assert calls == ["/api/v3/traces"] * 2
    assert prometheus.asked == [([CALLS, FAILED], T0)]
    assert [(r.key, r.kind) for r in found.exemplars] == [
        ("checkout/availability", "slo"),
        ("burn_rate:page/checkout/availability", "alert"),
    ]
    ex = found.exemplars[0].exemplars
    assert (ex.start, ex.end) == ((T0 - timedelta(hours=1)).isoformat(), T0.isoformat())
    assert [(t.trace_id[-1], t.duration_seconds) for t in ex.slowest] == [
        ("2", 0.9),
        ("3", 0.2),
        ("4", 0.07),
    ]
    assert [(t.trace_id, t.errors, t.url) for t in ex.failing] == [
        (f"{3:032x}", 1, f"{UI}/trace/{3:032x}")
    ]
    (rate, ratio) = found.disagreements
    assert (rate.service, rate.signal, rate.http, rate.spans) == (
        "checkout",
        Signal.TRAFFIC,
        1.0,
        0.5,
    )
    assert "the tracers' head sampling?" in rate.message
    assert (ratio.signal, ratio.http, ratio.spans) == (Signal.ERROR_RATIO, 0.1, 0.2)
    assert found.problems == ()
    assert store.traces.findings(T0) == found


@pytest.mark.parametrize(
    ("error_ratio", "traffic", "expected"),
    [
        pytest.param(0.10, 1.0, [], id="agree"),
        pytest.param(0.105, 1.2, [], id="within-tolerance"),
        pytest.param(0.40, 1.0, [Signal.ERROR_RATIO], id="http-more-errors"),
        pytest.param(0.01, 1.0, [Signal.ERROR_RATIO], id="http-fewer-errors"),
        pytest.param(0.10, 4.0, [Signal.TRAFFIC], id="rate-4x-apart"),
    ],
)
def test_disagreements(
    store: Store, error_ratio: float, traffic: float, expected: list[Signal]
) -> None:
    fake = FakeJaeger(search={"checkout": checkout_traces()})
    ev = checkout_evaluation(error_ratio, traffic)
    with client(fake) as jaeger:
        found = enrich(checked(ev, FakePrometheus(), settings()), settings(), store, jaeger)
    assert [d.signal for d in found.disagreements] == expected


def test_signals_from_span_metrics_are_not_compared_with_themselves(store: Store) -> None:
    prometheus = FakePrometheus(calls=1.0)
    with client(FakeJaeger(search={"checkout": checkout_traces()})) as jaeger:
        found = enrich(
            checked(checkout_evaluation(), prometheus, settings("spanmetrics")),
            settings("spanmetrics"),
            store,
            jaeger,
        )
    assert prometheus.asked == []
    assert found.disagreements == () and found.problems == ()


def test_prometheus_down_is_one_problem_and_exemplars_still_come(store: Store) -> None:
    prometheus = FakePrometheus()
    down = BackendUnreachable("prometheus", "cannot connect to http://127.0.0.1:9090")
    prometheus.answers = {CALLS: down, FAILED: down}
    with client(FakeJaeger(search={"checkout": checkout_traces()})) as jaeger:
        found = enrich(
            checked(checkout_evaluation(), prometheus, settings()), settings(), store, jaeger
        )
    assert len(found.exemplars) == 2 and found.disagreements == ()
    assert found.problems == (
        "span metrics not compared: prometheus: cannot connect to http://127.0.0.1:9090",
    )


def test_jaeger_down_is_one_problem_and_no_more_queries(store: Store) -> None:
    calls: list[str] = []
    with refusing(calls) as jaeger:
        found = enrich(
            checked(checkout_evaluation(0.3), FakePrometheus(), settings()),
            settings(),
            store,
            jaeger,
        )
    assert calls == ["/api/v3/traces"]  # the first failure stops the step
    assert found.exemplars == ()
    assert [d.signal for d in found.disagreements] == [Signal.ERROR_RATIO]  # Prometheus' part
    (problem,) = found.problems
    assert problem.startswith("jaeger: cannot connect to http://127.0.0.1:16686")
    assert "no exemplars this cycle; SLO results are unaffected" in problem
    assert "SLOCTL_JAEGER_ENABLED=false" in problem
    assert store.traces.findings(T0) == found


def test_time_budget_stops_new_queries(store: Store) -> None:
    ticks = iter([0.0, 1.0, 11.0])  # start, before the first exemplar search, before the next
    clock: Callable[[], float] = lambda: next(ticks)  # noqa: E731
    calls: list[str] = []
    ev = evaluation(
        T0,
        [],
        alerts=[
            firing("default:error_ratio/checkout", "checkout", None, window="5m"),
            firing("default:error_ratio/cart", "cart", None, window="5m"),
        ],
    )
    fake = FakeJaeger(search={"checkout": checkout_traces()})
    with client(fake, calls, timeout_seconds=10) as jaeger:
        found = enrich(
            checked(ev, FakePrometheus(), settings(timeout_seconds=10)),
            settings(timeout_seconds=10),
            store,
            jaeger,
            clock=clock,
        )
    assert calls == ["/api/v3/traces"] * 2  # checkout's exemplars only
    assert [r.key for r in found.exemplars] == ["default:error_ratio/checkout"]
    assert found.problems == (
        "jaeger: the trace step stopped after its time budget of 10 s (jaeger.timeout_seconds); "
        "the remaining exemplars were skipped",
    )


def test_after_cycle_is_off_by_default(store: Store) -> None:
    assert after_cycle(checkout_evaluation(), Settings(), store) is None
    assert store.traces.latest() is None


def test_store_replaces_findings_of_the_same_instant_and_reads_the_latest(store: Store) -> None:
    fake = FakeJaeger(search={"checkout": checkout_traces()})
    exemplars = store.traces
    prometheus = FakePrometheus()
    with client(fake) as jaeger:
        first = enrich(
            checked(checkout_evaluation(0.40), prometheus, settings()), settings(), store, jaeger
        )
        later_ev = dataclasses.replace(checkout_evaluation(0.25), at=T0 + timedelta(minutes=1))
        later = enrich(checked(later_ev, prometheus, settings()), settings(), store, jaeger)
        again = enrich(
            checked(checkout_evaluation(0.10), prometheus, settings()), settings(), store, jaeger
        )
    assert first.disagreements[0].http == 0.40
    assert exemplars.findings(T0) == again  # replaced, not duplicated
    assert again.disagreements == ()
    assert exemplars.latest() == later
    assert exemplars.latest(until=T0 + timedelta(seconds=59)) == again
    assert exemplars.findings(T0 - timedelta(seconds=1)) is None


@pytest.mark.parametrize(
    ("env", "enabled"),
    [
        pytest.param({}, False, id="off-by-default"),
        pytest.param({"SLOCTL_JAEGER_ENABLED": "true"}, True, id="env-true"),
        pytest.param({"SLOCTL_JAEGER_ENABLED": "0"}, False, id="env-0"),
    ],
)
def test_jaeger_enabled_setting(env: dict[str, str], enabled: bool) -> None:
    assert load_settings(env=env).jaeger.enabled is enabled
