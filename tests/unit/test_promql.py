"""PromQL is built in one place; label values are escaped so a name cannot inject a query."""

from __future__ import annotations

import pytest

from sloctl.sources import promql
from sloctl.spec.models import HistogramLatency, Matcher, MetricRatio


@pytest.mark.parametrize(
    ("value", "escaped"),
    [
        pytest.param("order", "order", id="plain"),
        pytest.param('a"b', 'a\\"b', id="double-quote"),
        pytest.param("a\\b", "a\\\\b", id="backslash"),
        pytest.param("a\nb", "a\\nb", id="newline"),
        pytest.param('x"} or vector(1) or up{a="', 'x\\"} or vector(1) or up{a=\\"',
                     id="injection-attempt"),
    ],
)
def test_label_values_are_escaped(value: str, escaped: str) -> None:
    assert promql.escape_label_value(value) == escaped
    sel = promql.selector("up", [Matcher("job", "=", value)])
    assert sel == f'up{{job="{escaped}"}}'


@pytest.mark.parametrize("bad", ["1abc", "a-b", "a b", 'a"', ""])
def test_invalid_label_names_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid Prometheus label name"):
        promql.selector("up", [Matcher(bad, "=", "x")])


def test_invalid_metric_name_is_rejected() -> None:
    with pytest.raises(ValueError, match="invalid Prometheus metric name"):
        promql.selector("up{x}", [])


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(300, "5m"), (1800, "30m"), (3600, "1h"), (86400, "1d"), (2419200, "28d"), (90, "90s")],
)
def test_durations(seconds: int, text: str) -> None:
    assert promql.duration(seconds) == text


def test_ratio_queries_group_by_service_and_never_filter_on_it() -> None:
    ind = MetricRatio("http_requests_total", (Matcher("route", "=", "/api"),),
                      (Matcher("code", "=~", "5.."),))
    assert promql.ratio_total(ind, "job", 300) == (
        'sum by (job) (increase(http_requests_total{route="/api"}[5m]))')
    assert promql.ratio_bad(ind, "job", 3600) == (
        'sum by (job) (increase(http_requests_total{route="/api",code=~"5.."}[1h]))')


def test_latency_bucket_query_serves_every_threshold() -> None:
    a = HistogramLatency("http_server_request_duration_seconds", (), 0.3)
    b = HistogramLatency("http_server_request_duration_seconds", (), 1.0)
    q = promql.latency_buckets(a, "service_name", 86400)
    assert q == promql.latency_buckets(b, "service_name", 86400)
    assert q == ("sum by (service_name, le) "
                 "(increase(http_server_request_duration_seconds_bucket[1d]))")


def test_template_needs_the_window_placeholder() -> None:
    assert promql.render_template("rate(x[{{window}}])", 1800) == "rate(x[30m])"
    with pytest.raises(ValueError, match="lacks"):
        promql.render_template("rate(x[5m])", 300)


def test_coverage_is_one_query_for_all_windows() -> None:
    """Steps with data per window; a sample counts for two scrape intervals (here 2 x 15 s)."""
    q = promql.coverage("m_count", (), "svc", [300, 86400], lookback=30)
    assert q == (
        'label_replace(count_over_time((max by (svc) (last_over_time(m_count[30s])))[5m:3s]), '
        '"sloctl_window", "300", "", "") or '
        'label_replace(count_over_time((max by (svc) (last_over_time(m_count[864s])))[1d:864s]), '
        '"sloctl_window", "86400", "", "")'
    )
