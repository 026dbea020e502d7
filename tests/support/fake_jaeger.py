"""A small local Jaeger query service for tests: real routes, real payloads, real errors.

Serves the upstream fixtures under tests/fixtures/jaeger (see SOURCES.md) on the routes of
Jaeger v2.20 (reference backends.md section 3), with its status codes and content types:
errors are JSON sent as ``text/plain; charset=utf-8``, an api_v3 search without a match is a
404 "No traces found", v1 trace ids are 16 hex characters when the upper half is zero.
Larger search answers are built with ``otlp_span``/``search_answer``, which copy the shape of the
OTLP fixtures (no field the real API lacks).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"  # copies of ../shared/fixtures
JAEGER = FIXTURES / "jaeger"
OTLP = FIXTURES / "otlp"


def fixture(path: str) -> bytes:
    """Bytes of a fixture file, e.g. ``fixture("jaeger/api_v3/find_traces.json")``."""
    return (FIXTURES / path).read_bytes()


def attribute(key: str, value: object) -> dict[str, Any]:
    """An OTLP/JSON KeyValue: ints as strings (``intValue``), like Jaeger writes them."""
    if isinstance(value, bool):
        return {"key": key, "value": {"boolValue": value}}
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    if isinstance(value, float):
        return {"key": key, "value": {"doubleValue": value}}
    return {"key": key, "value": {"stringValue": value}}


def otlp_span(
    trace_id: str,
    span_id: str,
    name: str,
    *,
    kind: int = 2,
    start_ns: int = 1_485_467_191_639_875_000,
    duration_ns: int = 5_000,
    parent_span_id: str | None = None,
    status_code: int | None = None,
    attributes: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """One span in the shape of ``otlp/jaeger_memory_store_traces_error_events_links.json``."""
    span: dict[str, Any] = {"traceId": trace_id, "spanId": span_id}
    if parent_span_id:
        span["parentSpanId"] = parent_span_id
    span.update(
        {
            "kind": kind,
            "name": name,
            "startTimeUnixNano": str(start_ns),
            "endTimeUnixNano": str(start_ns + duration_ns),
            "attributes": [attribute(k, v) for k, v in (attributes or {}).items()],
            "status": {"code": status_code} if status_code else {},
        }
    )
    return span


def search_answer(spans_by_service: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> bytes:
    """An api_v3 ``{"result": TracesData}`` body: one resourceSpans per (service, spans)."""
    resource_spans = [
        {
            "resource": {"attributes": [attribute("service.name", service)]},
            "scopeSpans": [{"scope": {"name": "fake-jaeger"}, "spans": list(spans)}],
        }
        for service, spans in spans_by_service
    ]
    return json.dumps({"result": {"resourceSpans": resource_spans}}).encode()


def v1_envelope(data: object) -> bytes:
    """The v1 ``structuredResponse`` envelope as the query service writes it."""
    return json.dumps({"data": data, "total": 0, "limit": 0, "offset": 0, "errors": None}).encode()


def v1_error(status: int, message: str) -> bytes:
    """A v1 error body (``handleError``): envelope plus trailing newline."""
    body = {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": status, "msg": message}],
    }
    return json.dumps(body, separators=(",", ":")).encode() + b"\n"


def v3_error(status: int, message: str) -> bytes:
    """An api_v3 ``GRPCGatewayError`` body."""
    return json.dumps({"error": {"httpCode": status, "message": message}}).encode() + b"\n"


def _pad(trace_id: str) -> str:
    return trace_id.lower().rjust(32, "0")


@dataclass
class FakeJaeger:
    """Configurable answers; ``requests`` records every (path, query) received."""

    search: dict[str, bytes] = field(default_factory=dict)  # service -> api_v3 answer
    v1_traces: list[dict[str, Any]] = field(default_factory=list)
    services: bytes = field(default_factory=lambda: fixture("jaeger/api_v3/get_services.json"))
    operations: bytes = field(default_factory=lambda: fixture("jaeger/api_v3/get_operations.json"))
    dependencies: list[Any] = field(
        default_factory=lambda: json.loads(fixture("jaeger/v1_dependencies_data_array_sample.json"))
    )
    garbage_paths: set[str] = field(default_factory=set)  # answer 200 with non-JSON
    failures: dict[str, tuple[int, bytes]] = field(default_factory=dict)  # path -> error body
    stall_paths: set[str] = field(default_factory=set)  # never answer (until the server stops)
    stop: threading.Event = field(default_factory=threading.Event)
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        """(status, content type, body) for one GET, as Jaeger v2.20 would answer it."""
        self.requests.append((path, query))
        ok = "application/json"
        text = "text/plain; charset=utf-8"
        if path in self.stall_paths:
            self.stop.wait()
            return 503, text, v3_error(503, "stopping")
        if path in self.failures:
            return self.failures[path][0], text, self.failures[path][1]
        if path in self.garbage_paths:
            return 200, "text/html", b"<html>not jaeger</html>"
        if path == "/api/v3/services":
            return 200, ok, self.services
        if path == "/api/v3/operations":
            return 200, ok, self.operations
        if path == "/api/v3/traces":
            if "query.start_time_min" not in query or "query.start_time_max" not in query:
                message = "query.start_time_min and query.start_time_max are required"
                return 400, text, v3_error(400, message)
            service = query.get("query.service_name", [""])[0]
            if service not in self.search:
                return 404, text, v3_error(404, "No traces found")
            return 200, ok, self.search[service]
        if path.startswith("/api/traces/"):
            wanted = _pad(path.rsplit("/", 1)[1])
            found = [t for t in self.v1_traces if _pad(t["traceID"]) == wanted]
            if not found:
                return 404, text, v1_error(404, "trace not found")
            return 200, ok, v1_envelope(found)
        if path == "/api/dependencies":
            for name in ("endTs", "lookback"):
                value = query.get(name, ["0"])[0]
                if not value.lstrip("-").isdigit():
                    message = (
                        f"unable to parse param '{name}': strconv.ParseInt: parsing \"{value}\""
                    )
                    return 400, text, v1_error(400, message + ": invalid syntax")
            return 200, ok, v1_envelope(self.dependencies)
        return 404, "text/plain; charset=utf-8", b"404 page not found\n"


@contextmanager
def serve(fake: FakeJaeger) -> Iterator[FakeJaeger]:
    """Run ``fake`` on a free 127.0.0.1 port; stops the server (and its thread) on exit."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            status, content_type, body = fake.answer(parts.path, parse_qs(parts.query))
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-jaeger", daemon=True
    )
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        fake.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()
