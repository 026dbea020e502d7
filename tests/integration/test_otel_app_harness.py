"""What real OpenTelemetry instrumentation puts into a real Prometheus (ground for issue #9).

Five FastAPI services instrumented with the official packages (opentelemetry-instrumentation-
fastapi, SDK MeterProvider + PrometheusMetricReader), each in its own process, scraped every 15 s
by Debian's Prometheus 2.42 (see :mod:`tests.support.otel`). Every fact below is read back from
Prometheus's HTTP API; later code relies on them:

- new semconv: ``http_server_request_duration_seconds_{bucket,count,sum}`` with
  ``http_request_method``, ``http_response_status_code``, ``http_route`` (plus ``error_type`` on
  5xx only); old semconv: ``http_server_duration_milliseconds_*`` with ``http_status_code``,
  ``http_target``; ``http/dup`` emits both from the same requests;
- no series but ``target_info`` carries ``service_name``; ``target_info`` shares ``job`` and
  ``instance`` with the HTTP series;
- ``le`` is ``str(bound)`` of the Python bound, kept as written by Prometheus 2.42: "0.25" and
  "1" for the new convention, "250.0" for the old one, "300" for a View typed with ints;
- ``increase()`` over a window whose edges are the scrapes before and after a known load gives the
  driver's counts exactly; over an ordinary window it gives Prometheus's extrapolation, computed
  here from the raw samples, within the band [N, N * window / sampled interval].
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.support.otel import (
    VIEW_MILLISECONDS_INT,
    AppSpec,
    LoadResult,
    Mix,
    OtelApp,
    OtelStack,
    PromApi,
    ScrapingPrometheus,
    StackConfig,
    extrapolated_increase,
)
from tests.support.otel_fixtures import OtelLoad
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

SECONDS = "http_server_request_duration_seconds"
MILLISECONDS = "http_server_duration_milliseconds"
SCRAPE_SECONDS = 15.0

APPS = (
    AppSpec("new-default"),
    AppSpec("new-view", view=True),
    AppSpec("old-default", semconv="old"),
    AppSpec("old-view", semconv="old", view=True),
    AppSpec(
        "dup",
        semconv="http/dup",
        view=True,
        view_milliseconds=VIEW_MILLISECONDS_INT,
        service_namespace="shop",
        job="dup-job",
    ),
)
MIX = Mix(ok=24, fail=6, slow=6, between=6)  # 42 requests per app in 3 s
LOAD_SECONDS = 3.0

NEW_LABELS = {
    "__name__",
    "job",
    "instance",
    "http_request_method",
    "http_response_status_code",
    "http_route",
    "network_protocol_version",
    "url_scheme",
    "otel_scope_name",
    "otel_scope_version",
    "otel_scope_schema_url",
}
OLD_LABELS = {
    "__name__",
    "job",
    "instance",
    "http_flavor",
    "http_host",
    "http_method",
    "http_scheme",
    "http_server_name",
    "http_status_code",
    "http_target",
    "net_host_port",
    "otel_scope_name",
    "otel_scope_version",
    "otel_scope_schema_url",
}
ROUTES = {("/ok", "200"), ("/fail", "500"), ("/slow", "200")}
LE_SECONDS = {
    "0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75",
    "1", "2.5", "5", "7.5", "10", "+Inf",
}  # fmt: skip
LE_MILLISECONDS = {
    "0.0", "5.0", "10.0", "25.0", "50.0", "75.0", "100.0", "250.0", "500.0", "750.0",
    "1000.0", "2500.0", "5000.0", "7500.0", "10000.0", "+Inf",
}  # fmt: skip


@dataclass(frozen=True)
class Family:
    """One duration histogram as an app emits it."""

    name: str
    status_label: str
    per_second: float  # recorded units per second
    le_250: str
    le_300: str | None  # None: no 0.3 s bound
    le_all: frozenset[str]


def families(spec: AppSpec) -> list[Family]:
    out: list[Family] = []
    if spec.emits_seconds:
        les = LE_SECONDS | ({"0.3"} if spec.view else set())
        out.append(
            Family(
                SECONDS,
                "http_response_status_code",
                1.0,
                "0.25",
                "0.3" if spec.view else None,
                frozenset(les),
            )
        )
    if spec.emits_milliseconds:
        if spec.view:
            bounds = {*spec.view_milliseconds, "+Inf"}
            le_250 = next(b for b in spec.view_milliseconds if float(b) == 250)
            le_300: str | None = next(b for b in spec.view_milliseconds if float(b) == 300)
        else:
            bounds, le_250, le_300 = LE_MILLISECONDS, "250.0", None
        out.append(
            Family(MILLISECONDS, "http_status_code", 1000.0, le_250, le_300, frozenset(bounds))
        )
    return out


def on(app: OtelApp, metric: str, matchers: str = "") -> str:
    """A selector for one app's series of ``metric``."""
    return f'{metric}{{instance="{app.target}"{matchers}}}'


@pytest.fixture(scope="module")
def otel_stack_config() -> StackConfig:
    return StackConfig(apps=APPS, scrape_interval=f"{SCRAPE_SECONDS:.0f}s")


@pytest.fixture(scope="module")
def api(otel_stack: OtelStack) -> PromApi:
    return otel_stack.api


def count_series(api: PromApi, app: OtelApp, family: str) -> list[dict[str, str]]:
    return api.series(on(app, f"{family}_count"))


# ----------------------------------------------------------------------------- names and labels


def test_prometheus_scrapes_like_a_team_does(otel_stack: OtelStack, api: PromApi) -> None:
    """Plain static jobs: 15 s, honor_labels false, no relabelling; one target per app."""
    jobs = {job["job_name"]: job for job in api.config()["scrape_configs"]}
    assert set(jobs) == {"otel-app", "dup-job"}
    for job in jobs.values():
        assert job["scrape_interval"] == "15s"
        assert job.get("honor_labels", False) is False  # false is omitted from the dump
        assert "relabel_configs" not in job and "metric_relabel_configs" not in job
    up = {(r["metric"]["job"], r["metric"]["instance"]): r["value"][1] for r in api.query("up")}
    assert up == {(a.spec.job, a.target): "1" for a in otel_stack.apps.values()}


def test_rule_files_and_evaluation_interval_reach_the_config(tmp_path: Path) -> None:
    """The options later tests use to load generated rules (config only, nothing started)."""
    rules = tmp_path / "rules.yml"
    prom = ScrapingPrometheus(
        tmp_path, {"svc": ["127.0.0.1:1"]}, evaluation_interval="5s", rule_files=[rules]
    )
    config = prom.config()
    assert config["rule_files"] == [str(rules.resolve())]
    assert config["global"] == {"scrape_interval": "15s", "evaluation_interval": "5s"}
    assert config["scrape_configs"] == [
        {
            "job_name": "svc",
            "scrape_interval": "15s",
            "static_configs": [{"targets": ["127.0.0.1:1"]}],
        }
    ]


def test_new_semconv_names_and_labels(otel_stack: OtelStack, api: PromApi) -> None:
    for name in ("new-default", "new-view", "dup"):
        app = otel_stack.app(name)
        names = {
            s["__name__"]
            for s in api.series(f'{{__name__=~"{SECONDS}_.+", instance="{app.target}"}}')
        }
        assert names == {f"{SECONDS}_bucket", f"{SECONDS}_count", f"{SECONDS}_sum"}
        series = count_series(api, app, SECONDS)
        assert {(s["http_route"], s["http_response_status_code"]) for s in series} == ROUTES
        for s in series:
            failed = s["http_response_status_code"] == "500"
            assert set(s) == NEW_LABELS | ({"error_type"} if failed else set()), s
            assert s.get("error_type") == ("500" if failed else None)  # "" on 2xx: dropped
            assert s["job"] == app.spec.job
            assert s["http_request_method"] == "GET"
            assert s["url_scheme"] == "http"
            assert s["network_protocol_version"] == "1.1"
            assert s["otel_scope_name"] == "opentelemetry.instrumentation.fastapi"
            assert s["otel_scope_version"] == version("opentelemetry-instrumentation-fastapi")
            assert s["otel_scope_schema_url"] == "https://opentelemetry.io/schemas/1.21.0"
    for name in ("old-default", "old-view"):
        assert count_series(api, otel_stack.app(name), SECONDS) == []


def test_old_semconv_names_and_labels(otel_stack: OtelStack, api: PromApi) -> None:
    for name in ("old-default", "old-view", "dup"):
        app = otel_stack.app(name)
        names = {
            s["__name__"]
            for s in api.series(f'{{__name__=~"{MILLISECONDS}_.+", instance="{app.target}"}}')
        }
        assert names == {f"{MILLISECONDS}_bucket", f"{MILLISECONDS}_count", f"{MILLISECONDS}_sum"}
        series = count_series(api, app, MILLISECONDS)
        # http_target is the route template: no query string (/slow?ms=N is "/slow").
        assert {(s["http_target"], s["http_status_code"]) for s in series} == ROUTES
        for s in series:
            assert set(s) == OLD_LABELS, s
            assert s["http_method"] == "GET"
            assert s["http_host"] == s["http_server_name"] == f"127.0.0.1:{app.port}"
            assert s["net_host_port"] == str(app.port)
            schema = "1.21.0" if app.spec.semconv == "http/dup" else "1.11.0"
            assert s["otel_scope_schema_url"] == f"https://opentelemetry.io/schemas/{schema}"
    for name in ("new-default", "new-view"):
        assert count_series(api, otel_stack.app(name), MILLISECONDS) == []


def test_excluded_route_has_no_series(api: PromApi) -> None:
    """/healthz (the readiness probe, excluded_urls) was requested but is never recorded."""
    assert api.series('{http_route="/healthz"}') == []
    assert api.series('{http_target="/healthz"}') == []


def test_no_series_but_target_info_carries_service_name(api: PromApi) -> None:
    named = api.series('{service_name!=""}')
    assert {s["__name__"] for s in named} == {"target_info"}
    assert sorted(s["service_name"] for s in named) == sorted(a.service_name for a in APPS)
    http = f'{{__name__=~"{SECONDS}_.+|{MILLISECONDS}_.+"}}'
    assert not {"service_name", "service_namespace", "service_instance_id"} & set(api.labels(http))


def test_target_info_shares_job_and_instance_with_the_http_series(
    otel_stack: OtelStack, api: PromApi
) -> None:
    for spec in APPS:
        app = otel_stack.app(spec.service_name)
        (info,) = api.series(f'target_info{{service_name="{spec.service_name}"}}')
        expected = {
            "__name__",
            "job",
            "instance",
            "service_name",
            "service_instance_id",
            "telemetry_sdk_language",
            "telemetry_sdk_name",
            "telemetry_sdk_version",
        } | ({"service_namespace"} if spec.service_namespace else set())
        assert set(info) == expected, info
        assert (info["job"], info["instance"]) == (spec.job, app.target)
        assert info.get("service_namespace") == spec.service_namespace
        uuid.UUID(info["service_instance_id"])  # the SDK's random service.instance.id
        assert info["telemetry_sdk_language"] == "python"
        assert info["telemetry_sdk_name"] == "opentelemetry"
        assert info["telemetry_sdk_version"] == version("opentelemetry-sdk")
        for family in families(spec):
            http = count_series(api, app, family.name)
            assert {(s["job"], s["instance"]) for s in http} == {(info["job"], info["instance"])}
    # So the service is found by joining on (job, instance):
    joined = api.query(
        f"sum by (service_name) ({SECONDS}_count * on (job, instance) group_left (service_name)"
        " target_info)"
    )
    assert {r["metric"]["service_name"] for r in joined} == {"new-default", "new-view", "dup"}


def test_metadata(api: PromApi) -> None:
    """Prometheus scraped OpenMetrics: target_info is the info family "target", units are kept."""
    metadata = api.metadata()
    assert {(m["type"], m["unit"]) for m in metadata[SECONDS]} == {("histogram", "seconds")}
    assert {(m["type"], m["unit"]) for m in metadata[MILLISECONDS]} == {
        ("histogram", "milliseconds")
    }
    assert {m["type"] for m in metadata["target"]} == {"info"}
    assert "target_info" not in metadata


def test_bucket_bounds_are_stored_as_written(otel_stack: OtelStack, api: PromApi) -> None:
    for spec in APPS:
        app = otel_stack.app(spec.service_name)
        for family in families(spec):
            les = set(api.label_values("le", on(app, f"{family.name}_bucket")))
            assert les == family.le_all, (spec.service_name, family.name)
    # The facts spelled out: the defaults have no 0.3 s bound; the View adds one.
    new_default = set(
        api.label_values("le", on(otel_stack.app("new-default"), f"{SECONDS}_bucket"))
    )
    assert {"0.25", "0.5", "1", "10"} <= new_default
    assert not {"0.3", "0.250", "1.0"} & new_default
    assert "0.3" in api.label_values("le", on(otel_stack.app("new-view"), f"{SECONDS}_bucket"))
    old_default = set(
        api.label_values("le", on(otel_stack.app("old-default"), f"{MILLISECONDS}_bucket"))
    )
    assert {"0.0", "250.0", "500.0"} <= old_default
    assert not {"250", "300.0", "300"} & old_default
    assert "300.0" in api.label_values(
        "le", on(otel_stack.app("old-view"), f"{MILLISECONDS}_bucket")
    )
    dup_ms = set(api.label_values("le", on(otel_stack.app("dup"), f"{MILLISECONDS}_bucket")))
    assert {"0", "250", "300"} <= dup_ms  # a View typed with ints
    assert not {"250.0", "300.0"} & dup_ms


# ------------------------------------------------------------------------------- ground truth


@dataclass(frozen=True)
class Measured:
    """A known load on one app, between the scrape before it and the scrape after it."""

    result: LoadResult
    base: float  # Unix time of the last scrape before the load
    end: float  # Unix time of the first scrape after every answer

    @property
    def exact_window_ms(self) -> int:
        return round((self.end - self.base) * 1000)


@pytest.fixture(scope="module")
def measured(otel_stack: OtelStack) -> dict[str, Measured]:
    """The same mix on every app at once; waits for the scrape after the last answer."""
    base = otel_stack.last_scrapes()
    loads = {name: otel_stack.driver(name, workers=6).start(MIX, LOAD_SECONDS) for name in base}
    try:
        results = {name: load.wait() for name, load in loads.items()}
    finally:
        for load in loads.values():
            load.stop()
    # The app records a request a few microseconds after answering it: 50 ms of margin.
    end = otel_stack.wait_for_scrapes(after=max(r.finished_at for r in results.values()) + 0.05)
    out: dict[str, Measured] = {}
    for name, result in results.items():
        assert base[name] is not None
        assert result.transport_errors == 0
        assert result.total == MIX.total
        assert result.by_status == {200: MIX.ok + MIX.slow + MIX.between, 500: MIX.fail}
        out[name] = Measured(result, float(base[name] or 0.0), end[name])
    return out


def recorded_bounds(result: LoadResult, per_second: float) -> tuple[float, float]:
    """Bounds of the summed durations the app recorded (old semconv rounds to whole ms)."""
    if per_second == 1.0:
        return (
            sum(s.min_seconds for s in result.served),
            sum(s.max_seconds for s in result.served),
        )
    return (
        sum(round(s.min_seconds * per_second) for s in result.served),
        sum(round(s.max_seconds * per_second) for s in result.served),
    )


def exact_increase(api: PromApi, app: OtelApp, m: Measured, metric: str, matchers: str) -> float:
    """``sum(increase(...))`` over exactly [base, end] at ``end``."""
    selector = on(app, metric, matchers)
    value = api.value(f"sum(increase({selector}[{m.exact_window_ms}ms]))", m.end)
    assert value is not None, selector
    return value


def checked_increase(api: PromApi, selector: str, at: float, window_ms: int) -> float:
    """Sum of :func:`extrapolated_increase` over the raw samples of every series, after checking
    that Prometheus's ``increase()`` gives the same value series by series."""
    raw = api.samples(selector, at, f"{window_ms}ms")
    promql = {
        frozenset(r["metric"].items()): float(r["value"][1])
        for r in api.query(f"increase({selector}[{window_ms}ms])", at)
    }
    assert len(promql) == len(raw) > 0, selector
    total = 0.0
    for labels, samples in raw.items():
        mine = extrapolated_increase(samples, at - window_ms / 1000, at)
        key = frozenset((k, v) for k, v in labels if k != "__name__")
        assert promql[key] == pytest.approx(mine, rel=1e-12), (selector, dict(labels))
        total += mine
    return total


def test_increase_between_the_scrapes_around_the_load_is_the_driver_count(
    otel_stack: OtelStack, api: PromApi, measured: dict[str, Measured]
) -> None:
    """Range [base, end] (both ends inclusive in Prometheus 2.x): no extrapolation, factor 1."""
    for spec in APPS:
        app, m = otel_stack.app(spec.service_name), measured[spec.service_name]

        def increase(metric: str, matchers: str = "", app: OtelApp = app, m: Measured = m) -> float:
            return exact_increase(api, app, m, metric, matchers)

        for family in families(spec):
            label = f"{spec.service_name} {family.name}"
            assert increase(f"{family.name}_count") == m.result.total, label
            assert increase(f"{family.name}_count", f',{family.status_label}=~"5.."') == (
                m.result.errors_5xx
            ), label
            bounds = [(0.25, family.le_250)] + (
                [(0.3, family.le_300)] if family.le_300 is not None else []
            )
            for seconds, le in bounds:
                below, ambiguous = m.result.count_le(seconds)
                got = increase(f"{family.name}_bucket", f',le="{le}"')
                assert below <= got <= below + ambiguous, (label, le, got)
            low, high = recorded_bounds(m.result, family.per_second)
            got_sum = increase(f"{family.name}_sum")
            assert low - 1e-6 <= got_sum <= high + 1e-6, (label, got_sum)


def test_increase_over_an_ordinary_window_is_prometheus_extrapolation(
    otel_stack: OtelStack, api: PromApi, measured: dict[str, Measured]
) -> None:
    """Half a scrape interval past each edge: every series is extrapolated, each by its own
    factor in [1, window / sampled]; the shares move accordingly."""
    for spec in APPS:
        app, m = otel_stack.app(spec.service_name), measured[spec.service_name]
        at = m.end + SCRAPE_SECONDS / 2
        window_ms = m.exact_window_ms + round(SCRAPE_SECONDS * 1000)
        f_max = window_ms / m.exact_window_ms
        n = m.result.total

        def expected(selector: str, at: float = at, window_ms: int = window_ms) -> float:
            return checked_increase(api, selector, at, window_ms)

        for family in families(spec):
            label = f"{spec.service_name} {family.name}"
            every = on(app, f"{family.name}_count")
            failed = on(app, f"{family.name}_count", f',{family.status_label}=~"5.."')
            everything, errors = expected(every), expected(failed)
            assert n <= everything <= n * f_max, label
            assert m.result.errors_5xx <= errors <= m.result.errors_5xx * f_max, label
            share = m.result.errors_5xx / n
            assert share / f_max <= errors / everything <= share * f_max, label
            got = api.value(
                f"sum(increase({failed}[{window_ms}ms])) / sum(increase({every}[{window_ms}ms]))",
                at,
            )
            assert got == pytest.approx(errors / everything, rel=1e-12), label
            if family.le_300 is not None:
                below, ambiguous = m.result.count_le(0.3)
                fast = expected(on(app, f"{family.name}_bucket", f',le="{family.le_300}"'))
                assert below / n / f_max <= fast / everything <= (below + ambiguous) / n * f_max


# ------------------------------------------------------------------------------ stopping traffic


def test_stopped_traffic_stops(otel_stack: OtelStack, otel_load: OtelLoad) -> None:
    """After stop() nothing more reaches the app: its own counter moved by exactly what was
    answered (read from its /metrics, no scrape needed)."""
    app = otel_stack.app("new-default")
    before = app.request_counts()[SECONDS]
    load = otel_load("new-default", Mix(ok=400), duration=20.0)
    wait_until(lambda: True if load.answered >= 10 else None, 10.0, "ten answers")
    result = load.stop()
    assert load.done
    assert 10 <= result.total < 400
    assert result.transport_errors == 0

    def counted() -> int:
        return app.request_counts()[SECONDS]

    # The app records a request just after answering it: poll for that last moment.
    wait_until(lambda: True if counted() == before + result.total else None, 5.0, "the count")
    assert counted() == before + result.total
