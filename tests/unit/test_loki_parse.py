"""Parsing Loki answers (the recorded fixtures) and nanosecond timestamp handling."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from sloctl.errors import BackendProtocolError
from sloctl.sources.loki import (
    LogEntry,
    MetricPoint,
    from_ns,
    parse_query,
    parse_stats,
    sort_entries,
    to_ns,
)
from tests.support.fake_loki import parse_timestamp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loki"


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return doc


def without_stats_and_warnings(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    doc.pop("warnings", None)
    doc["data"].pop("stats", None)
    return doc


@pytest.mark.parametrize("strip", [False, True], ids=["with-stats-warnings", "bare"])
def test_streams(strip: bool) -> None:
    doc = fixture("query_range_streams.json")
    result = parse_query(without_stats_and_warnings(doc) if strip else doc)
    assert result.result_type == "streams"
    assert result.entries == (
        LogEntry(123456789012345, "super line", {"test": "test"}),
        LogEntry(123456789012346, "super line with labels", {"test": "test"}),
    )
    if strip:
        assert result.warnings == () and result.stats is None
    else:
        assert result.warnings == ("this is a warning",)
        assert result.stats is not None and result.stats.total_lines_processed == 0
        assert result.stats.exec_time == 0.0


def test_streams_categorize_labels_three_tuples() -> None:
    result = parse_query(fixture("query_range_streams_categorize_labels.json"))
    assert result.encoding_flags == ("categorize-labels",)
    labels = {"test": "test"}
    meta = {"foo": "a", "bar": "b"}
    assert result.entries == (
        LogEntry(123456789012345, "super line", labels, {}, {}),
        LogEntry(123456789012346, "super line with labels", labels, meta, {}),
        LogEntry(123456789012347, "super line with labels msg=text", labels, meta, {"msg": "text"}),
    )


@pytest.mark.parametrize("strip", [False, True], ids=["with-stats-warnings", "bare"])
def test_matrix(strip: bool) -> None:
    doc = fixture("query_range_matrix.json")
    result = parse_query(without_stats_and_warnings(doc) if strip else doc)
    apport = {"filename": "/var/hostlog/apport.log", "job": "varlogs"}
    syslog = {"filename": "/var/hostlog/syslog", "job": "varlogs"}
    assert result.result_type == "matrix"
    assert result.points == (
        MetricPoint(apport, 1568404331.324, 0.013333333333333334),
        MetricPoint(syslog, 1568404331.324, 3.45),
        MetricPoint(syslog, 1568404331.339, 4.45),
    )


def test_vector() -> None:
    result = parse_query(fixture("query_instant_vector.json"))
    assert result.result_type == "vector"
    assert [(p.labels["filename"], p.ts, p.value) for p in result.points] == [
        ("/var/hostlog/apport.log", 1568404331.324, 0.013333333333333334),
        ("/var/hostlog/syslog", 1568404331.324, 3.45),
    ]


def test_stats_block_every_field_and_partial() -> None:
    stats = parse_stats(fixture("stats_block_all_fields_zero.json"))
    assert stats is not None and stats.total_entries_returned == 0
    partial = parse_stats({"summary": {"execTime": 0.25, "totalBytesProcessed": 1024}})
    assert partial is not None
    assert (partial.exec_time, partial.total_bytes_processed, partial.total_lines_processed) == (
        0.25,
        1024,
        None,
    )
    assert parse_stats({"querier": {}}) is None and parse_stats(None) is None


@pytest.mark.parametrize(
    "doc",
    [
        {"status": "success"},
        {"status": "success", "data": {"resultType": "scalar", "result": [1, "2"]}},
        {
            "status": "success",
            "data": {
                "resultType": "streams",
                "result": [{"stream": {}, "values": [[123456789012345, "numeric ts"]]}],
            },
        },
        {"status": "success", "data": {"resultType": "vector", "result": [{"metric": {}}]}},
    ],
    ids=["no-data", "scalar", "numeric-stream-timestamp", "vector-without-value"],
)
def test_malformed_answers_are_protocol_errors(doc: dict[str, Any]) -> None:
    with pytest.raises(BackendProtocolError):
        parse_query(doc, '{a="b"}')


NS_CASES = {
    "epoch": (datetime(1970, 1, 1, tzinfo=UTC), 0),
    "fixture-ts": (datetime(2019, 9, 13, 19, 52, 11, 324000, tzinfo=UTC), 1568404331324000000),
    "microseconds": (datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=UTC), 1795770000123456000),
    "other-zone": (
        datetime(2026, 11, 27, 11, 0, tzinfo=ZoneInfo("Europe/Paris")),
        1795773600000000000,
    ),
}


@pytest.mark.parametrize(("at", "ns"), list(NS_CASES.values()), ids=list(NS_CASES))
def test_to_ns_is_exact_and_round_trips(at: datetime, ns: int) -> None:
    assert to_ns(at) == ns
    assert from_ns(ns) == at
    # Loki reads our string as nanoseconds because it has more than 10 digits (or is 0 s).
    assert parse_timestamp(str(ns)) == ns or ns == 0


def test_naive_datetime_is_rejected() -> None:
    with pytest.raises(ValueError, match="no time zone"):
        to_ns(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1700000000", 1700000000 * 10**9),
        ("1700000000000000000", 1700000000 * 10**9),
        ("1700000000.5", 1700000000500 * 10**6),
        ("2023-11-14T22:13:20Z", 1700000000 * 10**9),
    ],
    ids=["10-digits-are-seconds", "19-digits-are-ns", "float-seconds", "rfc3339"],
)
def test_fake_loki_parses_timestamps_like_loki(text: str, ns: int) -> None:
    assert parse_timestamp(text) == ns


def test_sort_entries_newest_first_for_backward() -> None:
    a, b, c = (LogEntry(n, str(n), {}) for n in (3, 1, 2))
    assert [e.ns for e in sort_entries([a, b, c], "backward")] == [3, 2, 1]
    assert [e.ns for e in sort_entries([a, b, c], "forward")] == [1, 2, 3]


def test_from_ns_drops_sub_microsecond_digits() -> None:
    base = datetime(2026, 1, 1, tzinfo=UTC)
    assert from_ns(to_ns(base) + 1999) == base + timedelta(microseconds=1)
