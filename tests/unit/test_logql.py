"""LogQL building: exact query texts, escaping, and that no value can inject query syntax.

Each hostile value is built into a query, then parsed back with the fake Loki's LogQL parser
(Go string-literal rules): the parsed matcher or filter must equal the value, byte for byte.
"""

from __future__ import annotations

import re

import pytest

from sloctl.sources import logql
from sloctl.spec.models import LogRatio, Matcher
from tests.support.fake_loki import LogQuery, MetricQuery, parse_logql

HOSTILE = {
    "double-quote": 'a"b',
    "close-selector-or": 'x"} or {app=~".+',
    "backslash": "a\\b",
    "trailing-backslash": "a\\",
    "backslash-quote": '\\"',
    "newline": "a\nb",
    "carriage-return-tab": "a\r\tb",
    "backtick": "a`b",
    "pipe-filter": 'a" |= "b',
    "range-close": 'a"} [5m])) or vector(1) #',
    "unicode": "caf\u00e9 \u2603",
}


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_service_value_round_trips_as_one_matcher(value: str) -> None:
    query = logql.log_query(logql.service_matchers("service_name", [value]))
    parsed = parse_logql(query)
    assert isinstance(parsed, LogQuery)
    assert parsed.matchers == (("service_name", "=", value),)
    assert parsed.line_filters == () and parsed.label_filters == ()


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_line_filter_text_round_trips(value: str) -> None:
    sel = (Matcher("app", "=", "shop"),)
    query = logql.log_query(sel, [("|=", value)], logql.label_filter("trace_id", "=", value))
    parsed = parse_logql(query)
    assert isinstance(parsed, LogQuery)
    assert parsed.matchers == (("app", "=", "shop"),)
    assert parsed.line_filters == (("|=", value),)
    assert parsed.label_filters == (("trace_id", "=", value),)


@pytest.mark.parametrize("value", list(HOSTILE.values()), ids=list(HOSTILE))
def test_metric_query_with_hostile_service_stays_one_aggregation(value: str) -> None:
    ind = LogRatio((), error_filter=value)
    query = logql.log_ratio_bad(ind, "service_name", [value], 300)
    parsed = parse_logql(query)
    assert isinstance(parsed, MetricQuery)
    assert parsed.by == "service_name" and parsed.range_ns == 300 * 10**9
    assert parsed.inner.matchers == (("service_name", "=", value),)
    assert parsed.inner.line_filters == (("|=", value),)


@pytest.mark.parametrize(
    "names",
    [["a", "b.c"], ['x"|y', "z)(*"], ["a\\d+", "[x]"]],
    ids=["dot", "quote-and-parens", "regex-syntax"],
)
def test_several_services_match_exactly_those_names(names: list[str]) -> None:
    query = logql.log_query(logql.service_matchers("svc", names))
    parsed = parse_logql(query)
    assert isinstance(parsed, LogQuery)
    [(label, op, pattern)] = parsed.matchers
    assert (label, op) == ("svc", "=~")
    for name in names:
        assert re.fullmatch(pattern, name)
    for other in ("", "a.b" if "a" in names else "bxc", "ab", names[0] + "x"):
        if other not in names:
            assert not re.fullmatch(pattern, other)


QUERIES = {
    "total-one-service": (
        logql.log_ratio_total(LogRatio((), "level=error"), "service_name", ["checkout"], 300),
        'sum by (service_name) (count_over_time({service_name="checkout"} [5m]))',
    ),
    "bad-filter-28d": (
        logql.log_ratio_bad(
            LogRatio((Matcher("env", "=", "prod"),), "level=error"), "service_name", ["a"], 2419200
        ),
        'sum by (service_name) (count_over_time({env="prod",service_name="a"} |= "level=error" '
        "[28d]))",
    ),
    "bad-regex-two-services": (
        logql.log_ratio_bad(
            LogRatio((), error_regex=r"level=(error|fatal)\s"), "app", ["b", "a"], 3600
        ),
        r'sum by (app) (count_over_time({app=~"a|b"} |~ "level=(error|fatal)\\s" [1h]))',
    ),
    "any-service": (
        logql.log_query(logql.service_matchers("service_name", None), [("!=", "debug")]),
        '{service_name=~".+"} != "debug"',
    ),
}


@pytest.mark.parametrize(("built", "expected"), list(QUERIES.values()), ids=list(QUERIES))
def test_exact_query_text(built: str, expected: str) -> None:
    assert built == expected
    parse_logql(built)  # and the fake Loki accepts it


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: logql.stream_selector([]), "at least one label matcher"),
        (lambda: logql.stream_selector([Matcher("bad-name", "=", "x")]), "invalid Prometheus"),
        (lambda: logql.count_by("x) or (y", '{a="b"}', 300), "invalid Prometheus label name"),
        (lambda: logql.label_filter("trace id", "=", "x"), "invalid Prometheus label name"),
        (lambda: logql.line_filter("|>", "x"), "invalid line filter operator"),  # type: ignore[arg-type]
    ],
    ids=["empty-selector", "bad-label", "bad-by-label", "bad-filter-label", "bad-line-op"],
)
def test_invalid_parts_are_rejected(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        call()  # type: ignore[operator]


def test_quote_escapes_control_characters() -> None:
    assert logql.quote('a"b\\c\nd\re\tf') == '"a\\"b\\\\c\\nd\\re\\tf"'
