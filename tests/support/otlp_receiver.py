"""A local OTLP/HTTP traces receiver for tests, and a port that accepts but never answers.

The receiver is a stdlib HTTP server on 127.0.0.1 that decodes ``POST /v1/traces`` bodies as
``ExportTraceServiceRequest`` protobufs, the way the collector's OTLP receiver does.
"""

from __future__ import annotations

import gzip
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span


@dataclass
class Export:
    path: str
    content_type: str | None
    request: ExportTraceServiceRequest


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as exported, with its resource's and its own attributes as plain dicts."""

    resource: dict[str, Any]
    scope: str
    span: Span
    attributes: dict[str, Any]

    @property
    def name(self) -> str:
        return self.span.name


@dataclass
class Receiver:
    url: str
    exports: list[Export] = field(default_factory=list)

    def spans(self) -> list[ReceivedSpan]:
        """Every span of every export received, in arrival order."""
        found = []
        for export in self.exports:
            for resource_spans in export.request.resource_spans:
                resource = attributes(resource_spans.resource.attributes)
                for scope_spans in resource_spans.scope_spans:
                    for span in scope_spans.spans:
                        found.append(
                            ReceivedSpan(
                                resource, scope_spans.scope.name, span, attributes(span.attributes)
                            )
                        )
        return found

    def named(self, name: str) -> list[ReceivedSpan]:
        return [s for s in self.spans() if s.name == name]


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


@contextmanager
def otlp_receiver() -> Iterator[Receiver]:
    """A receiver on a free loopback port, stopped on exit."""
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


@contextmanager
def silent_port() -> Iterator[int]:
    """A port that accepts connections (kernel backlog) but never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield sock.getsockname()[1]
