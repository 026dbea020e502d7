"""Caps per answer: series, labels per series, bytes, and a deadline for the whole body.

Prometheus is played by a loopback server streaming its answer in chunks; sloctl reads it with
prometheus-api-client on a session whose adapter enforces the caps while downloading. A cap
stops the download (the server's body is never written to its end) and names the cap and its
setting. Retries, authentication and headers go through the same session.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from sloctl.errors import (
    BackendError,
    BackendLimitError,
    BackendQueryError,
    BackendUnreachable,
)
from sloctl.settings import PrometheusSettings
from sloctl.sources.prometheus import PrometheusSource
from tests.support.streaming_prometheus import Answer, StreamingPrometheus, gzipped, vector

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SERIES_CAP_TEXT = (
    "prometheus: the answer has more than 500 series, the cap (prometheus.max_series, "
    "SLOCTL_PROMETHEUS_MAX_SERIES); its values are unknown. Narrow the query (aggregate "
    "with sum by (...)) or raise prometheus.max_series, SLOCTL_PROMETHEUS_MAX_SERIES"
)


def source(url: str, **settings: object) -> PrometheusSource:
    return PrometheusSource(PrometheusSettings.model_validate({"url": url, **settings}))


def query(fake: StreamingPrometheus, **settings: object) -> list[object]:
    src = source(fake.url, **settings)
    try:
        return list(src.query("up", AT))
    finally:
        src.close()


def failure(
    kind: type[BackendError], *script: Answer, **settings: object
) -> tuple[BackendError, StreamingPrometheus]:
    """The error of one query against a fake playing ``script``, and the fake."""
    with StreamingPrometheus(*script) as fake, pytest.raises(kind) as info:
        query(fake, **settings)
    return info.value, fake


def abandoned(fake: StreamingPrometheus) -> bool:
    """The last answer's body was not written to its end: the client hung up."""
    assert fake.seen[-1].finished.wait(10), "the fake's answer did not end"
    return not fake.seen[-1].sent_all


def test_an_answer_within_the_caps_parses() -> None:
    with StreamingPrometheus(Answer(vector(150, labels=2))) as fake:
        src = source(fake.url, max_series=150)
        samples = src.query("up", AT)
        src.close()
    assert len(samples) == 150
    assert dict(samples[149].labels) == {"l0": "149", "l1": "149"}
    assert fake.seen[0].path == "/api/v1/query"
    assert fake.seen[0].query["query"] == ["up"]
    assert fake.seen[0].query["time"] == [f"{AT.timestamp():.3f}"]


def test_too_many_series_names_the_cap_and_setting() -> None:
    error, _ = failure(BackendLimitError, Answer(vector(501)), max_series=500)
    assert str(error) == SERIES_CAP_TEXT
    assert error.query == "up"
    assert error.exit_code == 3


def test_too_many_labels_on_a_series() -> None:
    error, _ = failure(BackendLimitError, Answer(vector(3, labels=9)), max_labels_per_series=8)
    assert str(error) == (
        "prometheus: a series has 9 labels, above the cap of 8 "
        "(prometheus.max_labels_per_series); its values are unknown. Drop labels in the query "
        "or raise prometheus.max_labels_per_series"
    )


def test_the_byte_cap_stops_the_download_early() -> None:
    error, fake = failure(BackendLimitError, Answer(vector(300_000)),  # 13.5 MB
                          max_bytes=64 * 1024, max_series=10**6)
    assert abandoned(fake)
    assert str(error) == (
        "prometheus: the answer is larger than 65536 bytes, the cap (prometheus.max_bytes, "
        "SLOCTL_PROMETHEUS_MAX_BYTES); reading stopped and its values are unknown. Narrow the "
        "query or raise prometheus.max_bytes, SLOCTL_PROMETHEUS_MAX_BYTES"
    )


def test_series_are_counted_while_downloading() -> None:
    error, fake = failure(BackendLimitError, Answer(vector(300_000)), max_series=1000)
    assert abandoned(fake)  # stopped at the cap, not at the end
    assert "more than 1000 series" in str(error)


def test_the_byte_cap_counts_the_decompressed_body() -> None:
    body = b"".join(vector(20_000))  # 900 KB of JSON, a few KB gzipped
    error, _ = failure(BackendLimitError, gzipped([body]), max_bytes=64 * 1024)
    assert "larger than 65536 bytes" in str(error)


def test_a_trickling_body_ends_at_the_timeout() -> None:
    def trickle() -> Iterator[bytes]:
        yield b'{"status":"success","data":{"resultType":"vector","result":['
        for _ in range(200):  # 10 s at most: the fake always ends
            time.sleep(0.05)  # the fake's pace, not a wait for the test
            yield b" "

    started = time.monotonic()
    error, fake = failure(BackendUnreachable, Answer(trickle()), timeout_seconds=0.3)
    assert time.monotonic() - started < 2.0
    assert abandoned(fake)
    assert str(error) == (
        "prometheus: no complete answer within 0.3 s (the body kept coming); raise "
        "prometheus.timeout_seconds (SLOCTL_PROMETHEUS_TIMEOUT) or check the server"
    )


def test_an_error_body_is_capped_too() -> None:
    huge = Answer([b'{"status":"error","error":"', b"x" * 200_000, b'"}'], status=500)
    error, _ = failure(BackendLimitError, huge, max_bytes=64 * 1024)
    assert "larger than 65536 bytes" in str(error)


UNAVAILABLE = json.dumps({"status": "error", "errorType": "unavailable", "error": "overloaded"})


def test_a_503_is_retried_once() -> None:
    script = (Answer([UNAVAILABLE.encode()], status=503), Answer(vector(2)))
    with StreamingPrometheus(*script) as fake:
        samples = query(fake)
    assert len(samples) == 2
    assert len(fake.seen) == 2


def test_a_503_twice_is_the_query_error_with_prometheus_text() -> None:
    error, fake = failure(BackendQueryError, Answer([UNAVAILABLE.encode()], status=503))
    assert len(fake.seen) == 2
    assert isinstance(error, BackendQueryError)
    assert error.status == 503
    assert str(error) == (
        "prometheus: HTTP 503 unavailable: overloaded (Prometheus is overloaded or timed out; "
        "retry later or raise the timeout)"
    )


def test_a_connection_dropped_before_the_answer_is_retried_once() -> None:
    with StreamingPrometheus(Answer([], status=0), Answer(vector(3))) as fake:
        assert len(query(fake)) == 3
    assert len(fake.seen) == 2
    error, fake = failure(BackendUnreachable, Answer([], status=0))
    assert len(fake.seen) == 2
    assert str(error).startswith(f"prometheus: cannot connect to {fake.url} (")


def test_a_400_is_not_retried() -> None:
    bad = json.dumps({"status": "error", "errorType": "bad_data", "error": "parse error"})
    error, fake = failure(BackendQueryError, Answer([bad.encode()], status=400))
    assert len(fake.seen) == 1
    assert isinstance(error, BackendQueryError)
    assert (error.status, error.error_type) == (400, "bad_data")


def test_bearer_token_and_extra_headers_are_sent() -> None:
    with StreamingPrometheus(Answer(vector(1))) as fake:
        query(fake, bearer_token="tok-123", headers={"X-Scope-OrgID": "team-a"})
    headers = fake.seen[0].headers
    assert headers["Authorization"] == "Bearer tok-123"
    assert headers["X-Scope-OrgID"] == "team-a"


def test_basic_auth_is_sent() -> None:
    with StreamingPrometheus(Answer(vector(1))) as fake:
        query(fake, username="ops", password="s3cret")
    expected = "Basic " + base64.b64encode(b"ops:s3cret").decode()
    assert fake.seen[0].headers["Authorization"] == expected


def test_discovery_methods_go_through_the_caps() -> None:
    names = json.dumps({"status": "success", "data": [f"l{i}" for i in range(600)]})
    with StreamingPrometheus(Answer([names.encode()])) as fake:
        src = source(fake.url, max_series=500)
        with pytest.raises(BackendLimitError) as info:
            src.label_names(['{__name__="up"}'], AT, AT)
        src.close()
    assert str(info.value) == SERIES_CAP_TEXT
    assert fake.seen[0].path == "/api/v1/labels"
    assert fake.seen[0].query["match[]"] == ['{__name__="up"}']


def test_a_spec_file_above_the_limit_is_refused_unread(tmp_path: object) -> None:
    from pathlib import Path

    from sloctl.spec.loader import MAX_SPEC_BYTES, check_paths

    big = Path(str(tmp_path)) / "big.yaml"
    big.write_bytes(b"# " + b"x" * MAX_SPEC_BYTES + b"\n")
    check = check_paths([big])
    assert [str(p) for p in check.problems] == [
        f"{big}: <document>: the file is {MAX_SPEC_BYTES + 3} bytes, above the limit of "
        f"{MAX_SPEC_BYTES} bytes (2 MiB) for a spec file; split it into several files"
    ]
