"""Bad answers from Prometheus: each becomes a clear typed error, never a crash.

A small loopback HTTP server plays Prometheus and answers with the documented error envelopes
(reference/backends.md section 6.1) or with garbage.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sloctl.errors import BackendProtocolError, BackendQueryError, BackendUnreachable
from sloctl.settings import PrometheusSettings
from sloctl.sources.prometheus import PrometheusSource

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)

# path -> (status, content type, body, delay seconds)
ANSWERS: dict[str, tuple[int, str, bytes, float]] = {
    "bad_data": (
        400,
        "application/json",
        json.dumps(
            {
                "status": "error",
                "errorType": "bad_data",
                "error": 'invalid parameter "query": 1:5: parse error: unexpected end of input',
            }
        ).encode(),
        0,
    ),
    "execution": (
        422,
        "application/json",
        json.dumps(
            {
                "status": "error",
                "errorType": "execution",
                "error": "vector cannot contain metrics with the same labelset",
            }
        ).encode(),
        0,
    ),
    "unavailable": (
        503,
        "application/json",
        json.dumps(
            {"status": "error", "errorType": "timeout", "error": "query timed out"}
        ).encode(),
        0,
    ),
    "html": (200, "text/html", b"<html><body>login page</body></html>", 0),
    "plain500": (500, "text/plain", b"upstream connect error", 0),
    "shape": (200, "application/json", json.dumps({"status": "success", "data": {}}).encode(), 0),
    "matrix": (
        200,
        "application/json",
        json.dumps(
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": "oops"}]},
            }
        ).encode(),
        0,
    ),
    "slow": (200, "application/json", b"{}", 3.0),
    "ok": (
        200,
        "application/json",
        json.dumps(
            {
                "status": "success",
                "data": {
                    "resultType": "vector",
                    "result": [
                        {"metric": {"service": "a"}, "value": [1.0, "2.5"]},
                        {"metric": {"service": "b"}, "value": [1.0, "NaN"]},
                    ],
                },
            }
        ).encode(),
        0,
    ),
}


class FakePrometheus(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        mode = self.path.split("/")[1]
        status, ctype, body, delay = ANSWERS[mode]
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def fake() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePrometheus)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def source(url: str, timeout: float = 1.0) -> PrometheusSource:
    return PrometheusSource(PrometheusSettings(url=url, timeout_seconds=timeout))


@pytest.mark.parametrize(
    ("mode", "exc_type", "status", "text"),
    [
        pytest.param("bad_data", BackendQueryError, 400, "parse error", id="400-bad_data"),
        pytest.param("execution", BackendQueryError, 422, "same labelset", id="422-execution"),
        pytest.param("unavailable", BackendQueryError, 503, "timed out", id="503-timeout"),
        pytest.param(
            "plain500",
            BackendQueryError,
            500,
            "upstream connect error",
            id="500-non-json-error-body",
        ),
        pytest.param("html", BackendProtocolError, None, "not JSON", id="200-html-body"),
        pytest.param("shape", BackendProtocolError, None, "data.result", id="200-wrong-shape"),
        pytest.param(
            "matrix", BackendProtocolError, None, "malformed sample", id="200-malformed-sample"
        ),
    ],
)
def test_error_answers_become_typed_errors(
    fake: str, mode: str, exc_type: type, status: int | None, text: str
) -> None:
    src = source(f"{fake}/{mode}")
    with pytest.raises(exc_type) as info:
        src.query("up", AT)
    assert text in str(info.value)
    if status is not None:
        assert info.value.status == status
    assert str(info.value).startswith("prometheus: ")


def test_timeout_is_unreachable_with_the_setting_to_raise(fake: str) -> None:
    src = source(f"{fake}/slow", timeout=0.5)
    with pytest.raises(BackendUnreachable) as info:
        src.query("up", AT)
    assert "SLOCTL_PROMETHEUS_TIMEOUT" in str(info.value)


def test_connection_refused_says_how_to_fix() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    src = source(f"http://127.0.0.1:{port}")
    with pytest.raises(BackendUnreachable) as info:
        src.query("up", AT)
    assert "connection refused" in str(info.value)
    assert "SLOCTL_PROMETHEUS_URL" in str(info.value)


def test_good_answer_parses_and_drops_nan(fake: str) -> None:
    samples = source(f"{fake}/ok").query("up", AT)
    assert [(dict(s.labels), s.value) for s in samples] == [({"service": "a"}, 2.5)]


def test_query_many_keeps_going_past_failures(fake: str) -> None:
    src = source(f"{fake}/bad_data")
    results = src.query_many(["a", "b", "a"], AT)
    assert sorted(results) == ["a", "b"]  # deduplicated
    assert all(isinstance(r, BackendQueryError) for r in results.values())
    assert src.queries_sent == 2


def test_a_closed_source_refuses_queries_without_sending(fake: str) -> None:
    src = source(f"{fake}/ok")
    assert len(src.query("up", AT)) == 1
    src.close()
    with pytest.raises(BackendUnreachable) as info:
        src.query("up", AT)
    assert str(info.value) == (
        f"prometheus: not sent to {fake}/ok: this client is closed (sloctl is stopping)"
    )
    assert src.queries_sent == 1
