"""Is a threshold a bucket bound, whatever the le spelling; and the fix (sloctl.discover)."""

from __future__ import annotations

import math

import pytest

from sloctl.discover.bounds import (
    check_bound,
    finite_bounds,
    format_seconds,
    is_spelling_of,
    parse_le,
)
from sloctl.discover.fixes import bucket_fix, with_bound
from sloctl.discover.identity import Target

A = Target("otel-app", "127.0.0.1:1")
B = Target("otel-app", "127.0.0.1:2")
# What the OpenTelemetry Python SDK writes (measured with the test app, tests/support/otel).
NEW_DEFAULT = ("0.005", "0.01", "0.025", "0.05", "0.075", "0.1", "0.25", "0.5", "0.75", "1",
               "2.5", "5", "7.5", "10", "+Inf")
OLD_DEFAULT = ("0.0", "5.0", "10.0", "25.0", "50.0", "75.0", "100.0", "250.0", "500.0", "750.0",
               "1000.0", "2500.0", "5000.0", "7500.0", "10000.0", "+Inf")


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.25", 0.25), ("1", 1.0), ("250.0", 250.0), ("1e+06", 1e6), ("+Inf", math.inf),
     ("garbage", None)],
)
def test_parse_le(text: str, value: float | None) -> None:
    assert parse_le(text) == value


@pytest.mark.parametrize(
    ("le", "bound", "match"),
    [("0.3", 0.3, True), ("0.30", 0.3, True), ("300", 300.0, True), ("300.0", 300.0, True),
     ("1e+06", 1e6, True), ("0.25", 0.3, False), ("30", 300.0, False), ("3000", 300.0, False)],
)
def test_spellings_follow_the_rules_matcher(le: str, bound: float, match: bool) -> None:
    assert is_spelling_of(le, bound) is match


def test_default_seconds_buckets_have_no_300ms() -> None:
    check = check_bound("http_server_request_duration_seconds", 1.0, 0.3, {A: NEW_DEFAULT})
    assert not check.ok
    assert check.bound == 0.3
    assert check.bounds == (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5,
                            5.0, 7.5, 10.0)
    assert check.spellings == NEW_DEFAULT
    assert check.matching == ()
    assert check.missing_on == (A,)
    assert check.nearest() == (0.25, 0.5)
    assert check.message() == (
        "300ms (bound 0.3 in s) is not a bucket bound of http_server_request_duration_seconds. "
        "Bounds: 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10 (s); "
        "nearest bounds: 250ms or 500ms."
    )


def test_milliseconds_histogram_reads_300_for_300ms_whatever_the_spelling() -> None:
    with_view = (*OLD_DEFAULT[:8], "300.0", *OLD_DEFAULT[8:])
    check = check_bound("http_server_duration_milliseconds", 0.001, 0.3, {A: with_view})
    assert check.ok and check.bound == 300.0 and check.matching == ("300.0",)
    ints = check_bound("http_server_duration_milliseconds", 0.001, 0.3, {A: ("250", "300", "+Inf")})
    assert ints.ok and ints.matching == ("300",)
    assert check.message() == ""


def test_250ms_is_a_bound_of_both_default_histograms() -> None:
    assert check_bound("s", 1.0, 0.25, {A: NEW_DEFAULT}).matching == ("0.25",)
    assert check_bound("ms", 0.001, 0.25, {A: OLD_DEFAULT}).matching == ("250.0",)


def test_a_bound_on_some_targets_only_is_not_ok_and_says_where() -> None:
    check = check_bound("h_seconds", 1.0, 0.3, {A: ("0.25", "0.3", "+Inf"), B: ("0.25", "+Inf")})
    assert not check.ok
    assert check.matching == ("0.3",) and check.missing_on == (B,)
    assert "only on some targets; missing on job=\"otel-app\", instance=\"127.0.0.1:2\"" in (
        check.message())


def test_finite_bounds_and_format_seconds() -> None:
    assert finite_bounds(["1", "1.0", "+Inf", "0.5", "x"]) == (0.5, 1.0)
    assert [format_seconds(s) for s in (0.3, 0.25, 1.0, 2.5, 0.005)] == [
        "300ms", "250ms", "1s", "2.5s", "5ms"]


def test_with_bound_inserts_once() -> None:
    assert with_bound([0.25, 0.5], 0.3) == [0.25, 0.3, 0.5]
    assert with_bound([0.25, 0.3], 0.3) == [0.25, 0.3]


def test_fix_for_the_new_semconv_is_a_python_view_in_seconds() -> None:
    fix = bucket_fix("http_server_request_duration_seconds", 1.0,
                     (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10),
                     0.3)
    assert 'instrument_name="http.server.request.duration"' in fix.snippet
    assert ("ExplicitBucketHistogramAggregation([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.3, "
            "0.5, 0.75, 1, 2.5, 5, 7.5, 10])") in fix.snippet
    assert "views=[view]" in fix.snippet


def test_fix_for_the_old_semconv_is_a_view_in_milliseconds() -> None:
    fix = bucket_fix("http_server_duration_milliseconds", 0.001,
                     (0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000), 0.3)
    assert 'instrument_name="http.server.duration"' in fix.snippet
    assert "[0, 5, 10, 25, 50, 75, 100, 250, 300, 500, 750, 1000]" in fix.snippet


def test_fix_for_span_metrics_is_the_connectors_explicit_buckets() -> None:
    fix = bucket_fix("traces_span_metrics_duration_milliseconds", 0.001,
                     (2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000), 0.3)
    assert "span_metrics:" in fix.snippet and "unit: ms" in fix.snippet
    assert ("buckets: [2ms, 4ms, 6ms, 8ms, 10ms, 50ms, 100ms, 200ms, 300ms, 400ms, 800ms, 1s, "
            "1.4s, 2s]") in fix.snippet


def test_fix_for_classic_clients_is_the_histograms_buckets() -> None:
    fix = bucket_fix("http_request_duration_seconds", 1.0, (0.1, 0.25, 0.5), 0.3)
    assert "buckets=(0.1, 0.25, 0.3, 0.5, float(\"inf\"))" in fix.snippet


def test_fix_for_an_unknown_histogram_names_both_places() -> None:
    fix = bucket_fix("myapp_latency_seconds", 1.0, (0.1, 1.0), 0.3)
    assert "myapp_latency_seconds" in fix.title and "View" in fix.snippet
