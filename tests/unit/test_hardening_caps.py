"""Caps per answer: series, labels per series, bytes, and a deadline for the whole body.

Prometheus is played by an httpx transport that streams its answer; a cap stops the download
(the stream is not read to its end) and names the cap and its setting.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from sloctl.errors import BackendLimitError, BackendUnreachable
from sloctl.settings import PrometheusSettings
from sloctl.sources.prometheus import PrometheusSource

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class Streamed(httpx.SyncByteStream):
    """An answer in chunks, counting how many were read."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.read = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.chunks:
            self.read += 1
            yield chunk


def vector(n: int, labels: int = 1) -> Iterator[bytes]:
    """A valid instant-vector answer with ``n`` series, 100 series per chunk."""
    yield b'{"status":"success","data":{"resultType":"vector","result":['
    for start in range(0, n, 100):
        items = []
        for i in range(start, min(start + 100, n)):
            metric = {f"l{j}": str(i) for j in range(labels)}
            items.append(json.dumps({"metric": metric, "value": [1.0, "1"]}))
        yield (b"," if start else b"") + ",".join(items).encode()
    yield b"]}}"


def source(stream: Streamed, **caps: object) -> PrometheusSource:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=stream))
    settings = PrometheusSettings.model_validate({"url": "http://prom:9090", **caps})
    return PrometheusSource(settings, transport=transport)


def test_an_answer_within_the_caps_parses() -> None:
    samples = source(Streamed(vector(150, labels=2)), max_series=150).query("up", AT)
    assert len(samples) == 150
    assert dict(samples[149].labels) == {"l0": "149", "l1": "149"}


def test_too_many_series_names_the_cap_and_setting() -> None:
    with pytest.raises(BackendLimitError) as info:
        source(Streamed(vector(501)), max_series=500).query("up", AT)
    assert str(info.value) == (
        "prometheus: the answer has more than 500 series, the cap (prometheus.max_series, "
        "SLOCTL_PROMETHEUS_MAX_SERIES); its values are unknown. Narrow the query (aggregate "
        "with sum by (...)) or raise prometheus.max_series, SLOCTL_PROMETHEUS_MAX_SERIES"
    )
    assert info.value.exit_code == 3


def test_too_many_labels_on_a_series() -> None:
    with pytest.raises(BackendLimitError) as info:
        source(Streamed(vector(3, labels=9)), max_labels_per_series=8).query("up", AT)
    assert "a series has 9 labels, above the cap of 8" in str(info.value)
    assert "prometheus.max_labels_per_series" in str(info.value)


def test_the_byte_cap_stops_the_download_early() -> None:
    stream = Streamed(vector(300_000))
    with pytest.raises(BackendLimitError) as info:
        source(stream, max_bytes=64 * 1024, max_series=10**6).query("up", AT)
    assert "larger than 65536 bytes" in str(info.value)
    assert "prometheus.max_bytes, SLOCTL_PROMETHEUS_MAX_BYTES" in str(info.value)
    assert stream.read < 50  # of 3,002 chunks: abandoned, not read to the end


def test_a_trickling_body_ends_at_the_timeout() -> None:
    def trickle() -> Iterator[bytes]:
        yield b'{"status":"success","data":{"resultType":"vector","result":['
        while True:
            time.sleep(0.05)
            yield b" "

    started = time.monotonic()
    with pytest.raises(BackendUnreachable) as info:
        source(Streamed(trickle()), timeout_seconds=0.3).query("up", AT)
    assert time.monotonic() - started < 2.0
    assert "no complete answer within 0.3 s" in str(info.value)


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


def test_series_are_counted_while_downloading() -> None:
    stream = Streamed(vector(300_000))
    with pytest.raises(BackendLimitError) as info:
        source(stream, max_series=1000).query("up", AT)
    assert "more than 1000 series" in str(info.value)
    assert stream.read <= 12  # of 3,002 chunks: stopped at the cap, not at the end
