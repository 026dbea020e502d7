"""sloctl's own traces against a real OTLP/HTTP receiver, a closed port and no endpoint.

The library spans (cycle, backend queries, webhooks) use only the OpenTelemetry API; the SDK is
installed by the entry point, once per process. So what reaches the receiver is tested on a real
``sloctl serve`` / ``sloctl eval`` child process, and the SDK's bounded shutdown in-process on a
provider that is never installed globally.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from sloctl import __version__
from sloctl.errors import SettingsError
from sloctl.runtime.telemetry import Tracing, install_tracing, tracer_provider, traces_url
from sloctl.settings import TelemetrySettings, load_settings
from sloctl.spec.loader import load_specs
from sloctl.store import Store
from tests.support.otlp_receiver import ReceivedSpan, Receiver, otlp_receiver, silent_port
from tests.support.processes import free_port, http_get, wait_until
from tests.support.sloctl_process import SPECS, run_sloctl, sloctl_env, sloctl_serve

pytestmark = pytest.mark.integration
FIRING = Path(__file__).resolve().parents[1] / "fixtures" / "alertmanager" / "am025_firing.json"
CYCLE_SPAN = "sloctl.evaluation_cycle"
QUERY_SPAN = "sloctl.backend_query"
WEBHOOK_SPAN = "sloctl.webhook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with otlp_receiver() as running:
        yield running


def trace_of(receiver: Receiver, trace_id: bytes) -> list[ReceivedSpan]:
    """The spans of one trace, its root first."""
    spans = [s for s in receiver.spans() if s.span.trace_id == trace_id]
    return sorted(spans, key=lambda s: s.span.parent_span_id != b"")


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def first_cycle_on(metrics_url: str) -> bytes | None:
    body = http_get(metrics_url)
    return body if body and b"sloctl_evaluation_queries" in body else None


def test_serve_exports_cycle_query_and_webhook_spans(receiver: Receiver, tmp_path: Path) -> None:
    port, prometheus_port = free_port(), closed_port()
    env = sloctl_env(
        tmp_path,
        otlp_endpoint=receiver.url,
        prometheus_url=f"http://127.0.0.1:{prometheus_port}",
        receiver_port=str(port),
        receiver_token="t0ken",
    )
    with sloctl_serve(env, tmp_path) as serve:
        wait_until(lambda: first_cycle_on(f"http://127.0.0.1:{port}/metrics"), 60,
                   "serve's first cycle", serve.proc)
        answer = httpx.post(f"http://127.0.0.1:{port}/api/v1/alertmanager",
                            content=FIRING.read_bytes(), headers={"Authorization": "Bearer t0ken"})
        assert answer.status_code == 200
        stopped = serve.terminate()
    assert stopped.returncode == 0, stopped.output[-2000:]
    assert f"traces to {receiver.url}/v1/traces" in stopped.output
    with Store(env["SLOCTL_STORE_URL"]) as store:
        queries_per_cycle = store.evaluations.latest().query_count  # type: ignore[union-attr]

    assert {(e.path, e.content_type) for e in receiver.exports} == {
        ("/v1/traces", "application/x-protobuf")
    }
    cycles = receiver.named(CYCLE_SPAN)
    assert cycles, "at least the first cycle"
    for cycle in cycles:
        assert cycle.resource["service.name"] == "sloctl"
        assert cycle.resource["service.version"] == __version__
        assert cycle.scope == "sloctl.evaluation.cycle"
        assert cycle.span.kind == ProtoSpan.SPAN_KIND_INTERNAL
        assert cycle.span.parent_span_id == b""
        assert cycle.attributes == {"sloctl.cycle.slo_count": len(load_specs([SPECS]))}

    queries = receiver.named(QUERY_SPAN)
    by_cycle = {c.span.span_id: c.span.trace_id for c in cycles}
    assert len(queries) == queries_per_cycle * len(cycles)
    for query in queries:  # children of a cycle across the query thread pool
        assert by_cycle[query.span.parent_span_id] == query.span.trace_id
        assert query.scope == "sloctl.evaluation.fetch"
        assert query.span.kind == ProtoSpan.SPAN_KIND_CLIENT
        assert query.span.status.code == Status.STATUS_CODE_ERROR  # Prometheus is down
        text = query.attributes.pop("sloctl.query.text")
        assert text.startswith(("sum", "label_replace", "max", "count"))
        assert query.attributes == {
            "server.address": "127.0.0.1",
            "server.port": prometheus_port,
            "sloctl.backend": "prometheus",
            "error.type": "BackendUnreachable",
        }
        [event] = query.span.events
        assert event.name == "exception"

    [webhook] = receiver.named(WEBHOOK_SPAN)
    assert webhook.scope == "sloctl.runtime.http"
    assert webhook.span.kind == ProtoSpan.SPAN_KIND_INTERNAL
    assert webhook.span.trace_id not in by_cycle.values()
    if webhook.span.parent_span_id:  # under the HTTP framework's server span of the request
        ancestors = trace_of(receiver, webhook.span.trace_id)
        assert ancestors[0].span.kind == ProtoSpan.SPAN_KIND_SERVER
        assert ancestors[0].span.parent_span_id == b""
    assert webhook.attributes == {
        "http.request.method": "POST",
        "url.path": "/api/v1/alertmanager",
        "sloctl.webhook.source": "alertmanager",
        "sloctl.webhook.alert_count": 1,
        "http.response.status_code": 200,
    }


def test_without_sloctl_endpoint_nothing_is_exported_whatever_otel_variables_say(
    receiver: Receiver, tmp_path: Path
) -> None:
    # The standard variables point at a live receiver: sloctl must still not export.
    env = sloctl_env(tmp_path, prometheus_url=f"http://127.0.0.1:{closed_port()}")
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.url
    env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] = receiver.url + "/v1/traces"
    done = run_sloctl(["eval", "--quiet", "--output", "json"], env, tmp_path)
    assert done.returncode == 3, done.stderr  # Prometheus unreachable
    assert receiver.exports == []


def test_install_tracing_without_endpoint_installs_nothing() -> None:
    before_threads = set(threading.enumerate())
    before_provider = trace.get_tracer_provider()
    tracing = install_tracing(load_settings(env={}))
    assert not tracing.enabled
    assert trace.get_tracer_provider() is before_provider
    assert set(threading.enumerate()) == before_threads
    assert tracing.shutdown() is True


def exporter_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(("OtelBatch", "sloctl-"))}


def spans_then_shutdown(endpoint: str, count: int, timeout_seconds: float = 1.0) -> Tracing:
    """``count`` cycle spans on a provider exporting to ``endpoint`` (never installed globally),
    then the bounded shutdown."""
    config = TelemetrySettings(otlp_endpoint=endpoint, timeout_seconds=timeout_seconds)
    provider = tracer_provider(config)
    assert provider is not None
    tracing = Tracing(provider, traces_url(endpoint))
    tracer = provider.get_tracer("tests")
    for number in range(count):
        with tracer.start_as_current_span(CYCLE_SPAN, attributes={"n": number}):
            pass
    tracing.shutdown()
    return tracing


@pytest.fixture
def never_answers() -> Iterator[int]:
    with silent_port() as port:
        yield port


@pytest.mark.parametrize("endpoint_kind", ["closed-port", "never-answers"])
def test_unreachable_endpoint_neither_blocks_nor_delays_shutdown(
    endpoint_kind: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    port = closed_port() if endpoint_kind == "closed-port" else request.getfixturevalue(
        "never_answers"
    )
    before = exporter_threads()
    started = time.monotonic()
    tracing = spans_then_shutdown(f"http://127.0.0.1:{port}", 50)
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert not tracing.enabled
    assert exporter_threads() == before  # the export thread gave up and ended
    failures = [r for r in caplog.records if r.name.startswith("opentelemetry.exporter")]
    assert failures, "an export was attempted and failed"


def test_shutdown_stays_bounded_when_the_export_timeout_is_longer(
    never_answers: int, caplog: pytest.LogCaptureFixture
) -> None:
    before = exporter_threads()
    endpoint = f"http://127.0.0.1:{never_answers}"
    started = time.monotonic()
    spans_then_shutdown(endpoint, 1, timeout_seconds=3)
    elapsed = time.monotonic() - started
    try:
        assert elapsed < 2.0
        assert f"could not be sent to {endpoint}/v1/traces within 1.5 s" in caplog.text
    finally:
        for thread in exporter_threads() - before:  # the abandoned export gives up after 3 s
            thread.join(10)
    assert exporter_threads() == before


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        pytest.param("http://127.0.0.1:4318", "http://127.0.0.1:4318/v1/traces", id="base"),
        pytest.param("http://127.0.0.1:4318/", "http://127.0.0.1:4318/v1/traces", id="slash"),
        pytest.param(
            "http://127.0.0.1:4318/v1/traces", "http://127.0.0.1:4318/v1/traces", id="full"
        ),
        pytest.param(
            "https://otel.example:443/prefix",
            "https://otel.example:443/prefix/v1/traces",
            id="path",
        ),
    ],
)
def test_traces_url(endpoint: str, expected: str) -> None:
    assert traces_url(endpoint) == expected


def test_settings_read_sloctl_otlp_endpoint() -> None:
    settings = load_settings(env={"SLOCTL_OTLP_ENDPOINT": "http://127.0.0.1:4318/"})
    assert settings.telemetry == TelemetrySettings(
        otlp_endpoint="http://127.0.0.1:4318", timeout_seconds=1.0, service_name="sloctl"
    )


def test_settings_reject_an_endpoint_without_scheme() -> None:
    with pytest.raises(SettingsError) as excinfo:
        load_settings(env={"SLOCTL_OTLP_ENDPOINT": "127.0.0.1:4318"})
    assert str(excinfo.value).splitlines()[1] == (
        "  SLOCTL_OTLP_ENDPOINT (telemetry.otlp_endpoint): must be an http(s) URL such as "
        "http://127.0.0.1:9090; got '127.0.0.1:4318'; fix or unset the variable"
    )
