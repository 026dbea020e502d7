"""The Jaeger adapter against a local fake Jaeger serving the real payloads and errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sloctl.core.spans import DependencyEdge
from sloctl.errors import (
    EXIT_BACKEND,
    EXIT_USAGE,
    BackendProtocolError,
    BackendQueryError,
    BackendUnreachable,
    SloctlError,
)
from sloctl.runtime.exemplars import Exemplars, find_exemplars
from sloctl.settings import JaegerSettings
from sloctl.sources.jaeger import JaegerSource, Operation
from tests.support.fake_jaeger import (
    FakeJaeger,
    fixture,
    otlp_span,
    search_answer,
    serve,
    v3_error,
)
from tests.support.processes import free_port

END = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
START = END - timedelta(hours=1)
MS = 1_000_000
T0 = int(START.timestamp()) * 1_000_000_000


def _frontend_traces() -> bytes:
    """Five traces of frontend: durations 50/300/120/800/10 ms; traces 2 and 4 fail.

    Trace 2 fails in frontend (server 500); trace 4 only in its client call to cart (404).
    """
    spans = []
    for n, (ms, status) in enumerate([(50, 200), (300, 500), (120, 200), (800, 200), (10, 200)]):
        trace = f"{n + 1:032x}"
        spans.append(
            otlp_span(
                trace,
                f"{n + 1:016x}",
                "GET /",
                kind=2,
                start_ns=T0 + n * 60_000 * MS,
                duration_ns=ms * MS,
                attributes={"http.response.status_code": status},
            )
        )
    spans.append(
        otlp_span(
            f"{4:032x}",
            "00000000000000aa",
            "GET /cart",
            kind=3,
            parent_span_id=f"{4:016x}",
            start_ns=T0 + 3 * 60_000 * MS + MS,
            duration_ns=700 * MS,
            attributes={"http.response.status_code": 404},
        )
    )
    return search_answer([("frontend", spans)])


@pytest.fixture()
def jaeger() -> Iterator[FakeJaeger]:
    v1 = json.loads(fixture("jaeger/v1_trace_all_value_types.json"))
    fake = FakeJaeger(
        search={"frontend": _frontend_traces(), "foo": fixture("jaeger/api_v3/find_traces.json")},
        v1_traces=[v1],
    )
    with serve(fake):
        yield fake


def _client(fake: FakeJaeger, **settings: object) -> JaegerSource:
    return JaegerSource(JaegerSettings.model_validate({"url": fake.url, **settings}))


def test_services_and_operations_from_the_api_v3_fixtures(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client:
        assert client.services() == ["foo"]
        assert client.operations("foo") == [Operation("get_users", "server")]
    assert jaeger.requests[1] == ("/api/v3/operations", {"service": ["foo"]})


def test_search_sends_snake_case_parameters_and_parses_spans(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client:
        spans = client.search(
            "frontend", START, END, operation="GET /", limit=20, min_duration_seconds=0.25
        )
    path, query = jaeger.requests[-1]
    assert path == "/api/v3/traces"
    assert query == {
        "query.service_name": ["frontend"],
        "query.operation_name": ["GET /"],
        "query.start_time_min": ["2024-05-01T09:00:00.000000000Z"],
        "query.start_time_max": ["2024-05-01T10:00:00.000000000Z"],
        "query.duration_min": ["250000us"],
        "query.num_traces": ["20"],
    }
    assert len(spans) == 6
    assert spans.error == [False, True, False, False, False, True]


def test_search_404_means_no_traces(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client:
        assert len(client.search("nobody", START, END)) == 0


def test_trace_by_16_or_32_hex_id_gives_the_same_spans(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client:
        short = client.trace("0000000000000001")
        long = client.trace("00000000000000000000000000000001")
    assert (
        short.span_id
        == long.span_id
        == [
            "0000000000000002",
            "0000000000000002",
            "0000000000000003",
            "0000000000000004",
            "0000000000000005",
        ]
    )
    assert jaeger.requests[0][0] == "/api/traces/00000000000000000000000000000001"


def test_unknown_trace_is_a_query_error_from_the_text_plain_body(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client, pytest.raises(BackendQueryError) as caught:
        client.trace("00000000000000000000000000000042")
    assert caught.value.status == 404
    assert "trace not found" in str(caught.value)
    assert "check the trace id" in str(caught.value)


def test_malformed_trace_id_is_a_usage_error_and_sends_nothing(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client, pytest.raises(SloctlError) as caught:
        client.trace("not-a-trace")
    assert caught.value.exit_code == EXIT_USAGE
    assert "16 or 32 hexadecimal" in str(caught.value)
    assert jaeger.requests == []


def test_api_v3_error_body_message_is_surfaced(jaeger: FakeJaeger) -> None:
    body = json.dumps(
        {
            "error": {
                "grpcCode": 2,
                "httpCode": 500,
                "message": "storage down",
                "httpStatus": "Internal Server Error",
            }
        }
    ).encode()
    jaeger.failures["/api/v3/traces"] = (500, body)
    with _client(jaeger) as client, pytest.raises(BackendQueryError) as caught:
        client.search("frontend", START, END)
    assert caught.value.status == 500
    assert "storage down" in str(caught.value)


def test_400_from_api_v3_is_a_query_error(jaeger: FakeJaeger) -> None:
    jaeger.failures["/api/v3/operations"] = (400, v3_error(400, "malformed parameter x"))
    with _client(jaeger) as client, pytest.raises(BackendQueryError, match="malformed"):
        client.operations("foo")


def test_garbage_answer_is_a_protocol_error(jaeger: FakeJaeger) -> None:
    jaeger.garbage_paths.add("/api/v3/services")
    jaeger.garbage_paths.add("/api/v3/traces")
    with _client(jaeger) as client:
        with pytest.raises(BackendProtocolError, match="not JSON"):
            client.services()
        with pytest.raises(BackendProtocolError, match="SLOCTL_JAEGER_URL"):
            client.search("frontend", START, END)


def test_non_jaeger_404_is_a_protocol_error(jaeger: FakeJaeger) -> None:
    jaeger.failures["/api/dependencies"] = (404, b"404 page not found\n")
    with _client(jaeger) as client, pytest.raises(BackendProtocolError, match="really"):
        client.dependencies(END, 3600)


def test_dependencies_in_milliseconds_sorted_by_calls(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client:
        edges = client.dependencies(END, 86400)
    assert jaeger.requests[-1][1] == {"endTs": ["1714557600000"], "lookback": ["86400000"]}
    assert edges[:3] == [
        DependencyEdge("Service2", "Service4", 129216),
        DependencyEdge("Service1", "Service3", 30491),
        DependencyEdge("Service3", "Service7", 30491),
    ]
    assert len(edges) == 7 and edges[-1] == DependencyEdge("Service1", "Service5", 8560)


def test_connection_refused_is_unreachable_with_the_fix() -> None:
    settings = JaegerSettings(url=f"http://127.0.0.1:{free_port()}")
    with JaegerSource(settings) as client, pytest.raises(BackendUnreachable) as caught:
        client.services()
    assert caught.value.exit_code == EXIT_BACKEND
    assert "SLOCTL_JAEGER_URL" in str(caught.value)


def test_no_answer_within_the_timeout_is_unreachable(jaeger: FakeJaeger) -> None:
    jaeger.stall_paths.add("/api/v3/services")
    with (
        _client(jaeger, timeout_seconds=0.2) as client,
        pytest.raises(BackendUnreachable, match=r"jaeger\.timeout_seconds"),
    ):
        client.services()


def test_trace_url_uses_the_ui_url() -> None:
    settings = JaegerSettings(url="http://127.0.0.1:16686", ui_url="https://jaeger.example.org/")
    with JaegerSource(settings) as client:
        assert client.trace_url("ABC") == (
            "https://jaeger.example.org/trace/00000000000000000000000000000abc"
        )


def test_exemplars_slowest_and_failing_with_links(jaeger: FakeJaeger) -> None:
    with _client(jaeger, ui_url="http://ui.local") as client:
        found = find_exemplars(client, "frontend", START, END, limit=2)
    assert [t.trace_id[-1] for t in found.slowest] == ["4", "2"]
    assert [t.duration_seconds for t in found.slowest] == [0.8, 0.3]
    # trace 4's only error is in cart's client call made by frontend: it counts for frontend
    assert [t.trace_id[-1] for t in found.failing] == ["4", "2"]
    assert found.slowest[0].url == f"http://ui.local/trace/{4:032x}"
    assert found.slowest[0].root_operation == "GET /"
    assert found.slowest[0].start == "2024-05-01T09:03:00+00:00"
    assert Exemplars.from_dict(json.loads(json.dumps(found.to_dict()))) == found


def test_exemplars_search_again_for_errors_when_few_fail(jaeger: FakeJaeger) -> None:
    with _client(jaeger) as client:
        found = find_exemplars(client, "frontend", START, END, limit=3)
    assert len(found.failing) == 2
    searches = [q for path, q in jaeger.requests if path == "/api/v3/traces"]
    assert len(searches) == 2
    assert searches[1]["query.attributes"] == ['{"error":"true"}']
