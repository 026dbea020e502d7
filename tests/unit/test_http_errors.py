"""The one error table: real requests and httpx failures on loopback become sloctl's typed
backend errors, with the backend's own error text and the setting that fixes each failure."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import msgspec
import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from sloctl.errors import BackendProtocolError, BackendQueryError, BackendUnreachable
from sloctl.sources.http_errors import (
    FAILURES,
    MAX_TEXT,
    Endpoint,
    error_text,
    request_error,
    status_error,
)
from tests.support.otlp_receiver import silent_port
from tests.support.processes import free_port


def endpoint(
    url: str, status_hints: dict[int, str] | None = None, json_errors_only: bool = False
) -> Endpoint:
    return Endpoint(
        "prometheus",
        url,
        name="Prometheus",
        timeout_seconds=0.3,
        check_url="Check prometheus.url / SLOCTL_PROMETHEUS_URL",
        timeout_fix="raise prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT)",
        status_hints=status_hints or {},
        json_errors_only=json_errors_only,
    )


Client = Callable[[str], object]
CLIENTS: dict[str, Client] = {
    "requests": lambda url: requests.get(url, timeout=0.3),
    "httpx": lambda url: httpx.get(url, timeout=0.3),
}


def failure(client: str, url: str) -> BaseException:
    try:
        CLIENTS[client](url)
    except FAILURES as exc:
        return exc
    raise AssertionError(f"{client} GET {url} did not fail")


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_connection_refused_is_unreachable_with_the_url_setting(client: str) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    error = request_error(failure(client, url), endpoint(url), query="up")
    assert isinstance(error, BackendUnreachable)
    assert str(error) == (
        f"prometheus: cannot connect to {url} (connection refused); is Prometheus running? "
        "Check prometheus.url / SLOCTL_PROMETHEUS_URL"
    )
    assert error.query == "up"


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_an_unknown_host_is_unreachable(client: str) -> None:
    url = "http://sloctl-test.invalid:9090"  # .invalid never resolves (RFC 2606)
    error = request_error(failure(client, url), endpoint(url))
    assert isinstance(error, BackendUnreachable)
    assert f"cannot connect to {url} (host name not found);" in str(error)


@pytest.mark.parametrize("client", [*sorted(CLIENTS), "requests-with-retries"])
def test_no_answer_in_time_is_unreachable_with_the_timeout_setting(client: str) -> None:
    with silent_port() as port:
        url = f"http://127.0.0.1:{port}"
        if client == "requests-with-retries":  # urllib3 wraps the read timeout in its retries
            session = requests.Session()
            retry = Retry(total=1, connect=1, read=0, raise_on_status=False)
            session.mount(url, HTTPAdapter(max_retries=retry))
            with pytest.raises(requests.exceptions.ConnectionError) as caught:
                session.get(url, timeout=0.3)
            session.close()
            exc: BaseException = caught.value
        else:
            exc = failure(client, url)
    error = request_error(exc, endpoint(url), request="GET /api/v1/query")
    assert isinstance(error, BackendUnreachable)
    assert str(error) == (
        f"prometheus: GET /api/v1/query: no answer from {url} within 0.3 s; "
        "raise prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT)"
    )


PROMETHEUS_400 = {"status": "error", "errorType": "bad_data", "error": "1:5: parse error"}
JAEGER_V1_404 = {"data": None, "errors": [{"code": 404, "msg": "trace not found"}]}
JAEGER_V3_500 = {"error": {"httpCode": 500, "message": "storage down"}}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(json.dumps(PROMETHEUS_400), ("1:5: parse error", "bad_data", True),
                     id="prometheus"),
        pytest.param(json.dumps(JAEGER_V1_404), ("trace not found", None, True), id="jaeger-v1"),
        pytest.param(json.dumps(JAEGER_V3_500), ("storage down", None, True), id="jaeger-v3"),
        pytest.param('"start time must be before end time"',
                     ("start time must be before end time", None, True), id="alertmanager"),
        pytest.param('{"code": 601, "message": "bad label"}', ("bad label", None, True),
                     id="message"),
        pytest.param("parse error at line 1, col 8: syntax error\n",
                     ("parse error at line 1, col 8: syntax error", None, False), id="plain-loki"),
        pytest.param("", ("(empty body)", None, False), id="empty"),
        pytest.param('{"unexpected": 1}', ('{"unexpected": 1}', None, False), id="other-json"),
    ],
)
def test_error_text_of_each_backend(body: str, expected: tuple[str, str | None, bool]) -> None:
    assert error_text(body.encode()) == expected


def test_long_error_text_is_truncated() -> None:
    text, _, _ = error_text(b"x" * (MAX_TEXT + 50))
    assert text == "x" * MAX_TEXT + "…"


def test_status_error_carries_status_type_text_and_hint() -> None:
    e = endpoint("http://127.0.0.1:9090", status_hints={400: "fix the PromQL"})
    error = status_error(e, 400, json.dumps(PROMETHEUS_400).encode(), query="up[")
    assert isinstance(error, BackendQueryError)
    assert (error.status, error.error_type, error.query) == (400, "bad_data", "up[")
    assert str(error) == "prometheus: HTTP 400 bad_data: 1:5: parse error (fix the PromQL)"


def test_json_only_backend_with_a_foreign_error_body_is_a_protocol_error() -> None:
    e = endpoint("http://127.0.0.1:16686", json_errors_only=True)
    error = status_error(e, 404, b"404 page not found\n", request="GET /api/dependencies")
    assert isinstance(error, BackendProtocolError)
    assert str(error) == (
        "prometheus: GET /api/dependencies: HTTP 404 without a prometheus error body "
        "('404 page not found'); is http://127.0.0.1:16686 really Prometheus? "
        "Check prometheus.url / SLOCTL_PROMETHEUS_URL"
    )


class Answers(BaseHTTPRequestHandler):
    """/500: a Prometheus error envelope; /html: a 200 login page."""

    def do_GET(self) -> None:
        if self.path == "/500":
            status, body = 500, json.dumps({"errorType": "internal", "error": "boom"}).encode()
        else:
            status, body = 200, b"<html>login</html>"
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def raised_for_status(client: str, url: str) -> BaseException:
    try:
        if client == "requests":
            requests.get(url, timeout=5).raise_for_status()
        else:
            httpx.get(url, timeout=5).raise_for_status()
    except FAILURES as exc:
        return exc
    raise AssertionError("no error status")


@pytest.mark.parametrize("client", sorted(CLIENTS))
def test_status_exceptions_map_with_their_response(client: str, server: str) -> None:
    error = request_error(raised_for_status(client, f"{server}/500"), endpoint(server))
    assert isinstance(error, BackendQueryError)
    assert (error.status, str(error)) == (500, "prometheus: HTTP 500 internal: boom")


def decode_error(kind: str, server: str) -> BaseException:
    try:
        if kind == "requests":
            requests.get(f"{server}/html", timeout=5).json()
        elif kind == "httpx":
            httpx.get(f"{server}/html", timeout=5).json()
        else:
            msgspec.json.decode(b"<html>login</html>")
    except FAILURES as exc:
        return exc
    raise AssertionError("decoded")


@pytest.mark.parametrize("kind", ["requests", "httpx", "msgspec"])
def test_a_body_that_is_not_json_is_a_protocol_error(kind: str, server: str) -> None:
    error = request_error(decode_error(kind, server), endpoint(server))
    assert isinstance(error, BackendProtocolError)
    assert str(error) == (
        f"prometheus: answered with a body that is not JSON; is {server} really Prometheus? "
        "Check prometheus.url / SLOCTL_PROMETHEUS_URL"
    )


def test_an_exception_outside_the_table_is_not_hidden() -> None:
    with pytest.raises(TypeError, match="not a request failure: KeyError"):
        request_error(KeyError("data"), endpoint("http://127.0.0.1:9090"))
