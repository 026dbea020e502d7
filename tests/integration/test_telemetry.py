"""sloctl's self-telemetry against a real OTLP/HTTP receiver, a closed port and no endpoint.

The receiver is a stdlib HTTP server on 127.0.0.1 that decodes ``POST /v1/traces`` bodies as
``ExportTraceServiceRequest`` protobufs, the way the collector's OTLP receiver does.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from sloctl import __version__
from sloctl.errors import SettingsError
from sloctl.settings import TelemetrySettings, load_settings
from sloctl.telemetry import (
    CYCLE_SPAN,
    QUERY_SPAN,
    WEBHOOK_SPAN,
    Telemetry,
    setup_telemetry,
    traces_url,
)

PROMQL = 'sum by (service_name) (increase(traces_span_metrics_calls_total{span_kind="x"}[5m]))'


@dataclass
class Export:
    path: str
    content_type: str | None
    request: ExportTraceServiceRequest


@dataclass
class Receiver:
    url: str
    exports: list[Export] = field(default_factory=list)

    def spans(self) -> dict[str, tuple[dict[str, Any], ProtoSpan]]:
        """Span name -> (resource attributes, span) over every export received."""
        found = {}
        for export in self.exports:
            for resource_spans in export.request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found[span.name] = (resource, span)
        return found


def attributes(key_values: Any) -> dict[str, Any]:
    """OTLP ``KeyValue`` list -> plain dict."""
    result = {}
    for kv in key_values:
        kind = kv.value.WhichOneof("value")
        result[kv.key] = getattr(kv.value, kind)
    return result


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            receiver.exports.append(Export(self.path, self.headers.get("Content-Type"), request))
            payload = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    result = Receiver(url="")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(result))
    result.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield result
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def otel_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith(("OtelBatch", "sloctl-"))}


def test_spans_arrive_with_names_kinds_attributes_and_parents(receiver: Receiver) -> None:
    telemetry = setup_telemetry(TelemetrySettings(otlp_endpoint=receiver.url))
    assert telemetry.enabled
    with (
        telemetry.cycle(slo_count=3, service_count=2),
        telemetry.query("prometheus", "http://127.0.0.1:9090", query=PROMQL, window="5m"),
    ):
        pass
    with telemetry.webhook("alertmanager", path="/api/v1/alerts") as hook:
        hook.set_attribute("http.response.status_code", 202)
    with pytest.raises(ValueError, match="bad payload"), telemetry.span("parse", step="decode"):
        raise ValueError("bad payload")
    telemetry.shutdown()

    assert {(e.path, e.content_type) for e in receiver.exports} == {
        ("/v1/traces", "application/x-protobuf")
    }
    spans = receiver.spans()
    assert sorted(spans) == sorted([CYCLE_SPAN, QUERY_SPAN, WEBHOOK_SPAN, "parse"])
    resource, cycle = spans[CYCLE_SPAN]
    assert resource["service.name"] == "sloctl"
    assert resource["service.version"] == __version__
    assert cycle.kind == ProtoSpan.SPAN_KIND_INTERNAL
    assert attributes(cycle.attributes) == {
        "sloctl.cycle.slo_count": 3,
        "sloctl.cycle.service_count": 2,
    }
    assert cycle.parent_span_id == b""

    _, query = spans[QUERY_SPAN]
    assert query.kind == ProtoSpan.SPAN_KIND_CLIENT
    assert (query.trace_id, query.parent_span_id) == (cycle.trace_id, cycle.span_id)
    assert attributes(query.attributes) == {
        "server.address": "127.0.0.1",
        "server.port": 9090,
        "sloctl.backend": "prometheus",
        "sloctl.query.text": PROMQL,
        "sloctl.query.window": "5m",
    }

    _, webhook = spans[WEBHOOK_SPAN]
    assert webhook.kind == ProtoSpan.SPAN_KIND_SERVER
    assert webhook.parent_span_id == b""
    assert webhook.trace_id != cycle.trace_id
    assert attributes(webhook.attributes) == {
        "http.request.method": "POST",
        "url.path": "/api/v1/alerts",
        "sloctl.webhook.source": "alertmanager",
        "http.response.status_code": 202,
    }

    _, failed = spans["parse"]
    assert failed.status.code == Status.STATUS_CODE_ERROR
    assert attributes(failed.attributes) == {"sloctl.step": "decode", "error.type": "ValueError"}
    [event] = failed.events
    assert event.name == "exception"
    assert attributes(event.attributes)["exception.message"] == "bad payload"


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("endpoint_kind", ["closed-port", "never-answers"])
def test_unreachable_endpoint_neither_blocks_nor_delays_shutdown(
    endpoint_kind: str, request: pytest.FixtureRequest, caplog: pytest.LogCaptureFixture
) -> None:
    port = (
        closed_port() if endpoint_kind == "closed-port" else request.getfixturevalue("silent_port")
    )
    before = otel_threads()
    started = time.monotonic()
    telemetry = setup_telemetry(TelemetrySettings(otlp_endpoint=f"http://127.0.0.1:{port}"))
    for number in range(50):
        with telemetry.cycle(slo_count=number), telemetry.query("loki", "http://127.0.0.1:3100"):
            pass
    telemetry.shutdown()
    elapsed = time.monotonic() - started
    assert elapsed < 2.0
    assert not telemetry.enabled
    assert otel_threads() == before  # the export thread gave up and ended
    failures = [r for r in caplog.records if r.name.startswith("opentelemetry.exporter")]
    assert failures, "an export was attempted and failed"
    with telemetry.cycle(slo_count=1) as late:
        assert not late.is_recording()


def test_shutdown_stays_bounded_when_the_export_timeout_is_longer(
    silent_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    before = otel_threads()
    endpoint = f"http://127.0.0.1:{silent_port}"
    telemetry = setup_telemetry(TelemetrySettings(otlp_endpoint=endpoint, timeout_seconds=3))
    with telemetry.cycle(slo_count=1):
        pass
    started = time.monotonic()
    telemetry.shutdown()
    elapsed = time.monotonic() - started
    try:
        assert elapsed < 2.0
        assert f"could not be sent to {endpoint}/v1/traces within 1.5 s" in caplog.text
    finally:
        for thread in otel_threads() - before:  # the abandoned export gives up after 3 s
            thread.join(10)
    assert otel_threads() == before


def test_no_endpoint_exports_nothing_and_starts_no_thread(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The standard variables point at a live receiver: sloctl must still not export.
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.url)
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", receiver.url + "/v1/traces")
    before = set(threading.enumerate())
    settings = load_settings(env={})
    assert settings.telemetry.otlp_endpoint is None
    telemetry = setup_telemetry(settings)
    with telemetry.cycle(slo_count=1) as cycle, telemetry.query("prometheus", receiver.url) as q:
        assert not cycle.is_recording()
        assert not q.is_recording()
    with pytest.raises(RuntimeError), telemetry.webhook("deploy"):
        raise RuntimeError("errors still propagate")
    telemetry.shutdown()
    assert not telemetry.enabled
    assert set(threading.enumerate()) == before
    assert receiver.exports == []


def test_disabled_telemetry_is_the_default_object() -> None:
    telemetry = Telemetry()
    with telemetry.span("anything", answer=42) as span:
        assert not span.is_recording()
    telemetry.shutdown()


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
