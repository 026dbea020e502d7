"""The Loki client against the local fake Loki: tenants, errors, paging, labels and series."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from sloctl.errors import BackendQueryError, BackendUnreachable
from sloctl.settings import LokiSettings
from sloctl.sources.loki import Direction, LokiSource, to_ns
from tests.support.fake_loki import LOG_INSTANT, FakeLoki, FakeStream

AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
T = to_ns(AT)
S = 10**9
HOUR_AGO = AT - timedelta(hours=1)


def small() -> list[FakeStream]:
    return [
        FakeStream(
            {"service_name": "checkout", "env": "prod"},
            [
                (T - 10 * S, "level=info paid", {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}),
                (T - 20 * S, "level=error declined", {}),
            ],
        ),
        FakeStream({"service_name": "cart", "env": "dev"}, [(T - 30 * S, "level=info add", {})]),
        FakeStream({"service_name": "old", "env": "prod"}, [(T - 7200 * S, "level=info x", {})]),
    ]


@pytest.fixture()
def loki() -> Iterator[FakeLoki]:
    with FakeLoki(small()) as server:
        yield server


def source(url: str, tenant: str | None = None) -> LokiSource:
    return LokiSource(LokiSettings(url=url, tenant=tenant, timeout_seconds=5))


def test_log_query_streams_with_and_without_categorize_labels(loki: FakeLoki) -> None:
    with source(loki.url) as s:
        plain = s.query_range('{env="prod"}', HOUR_AGO, AT)
        split = s.query_range('{env="prod"}', HOUR_AGO, AT, categorize_labels=True)
    # Without the flag Loki folds structured metadata into the stream labels.
    assert [(e.line, dict(e.labels)) for e in plain.entries] == [
        (
            "level=info paid",
            {
                "service_name": "checkout",
                "env": "prod",
                "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
            },
        ),
        ("level=error declined", {"service_name": "checkout", "env": "prod"}),
    ]
    assert split.encoding_flags == ("categorize-labels",)
    assert [(dict(e.labels), dict(e.structured_metadata)) for e in split.entries] == [
        (
            {"service_name": "checkout", "env": "prod"},
            {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
        ),
        ({"service_name": "checkout", "env": "prod"}, {}),
    ]
    request = loki.requests[0]
    assert request.params["start"] == [str(T - 3600 * S)] and request.params["end"] == [str(T)]
    assert request.params["direction"] == ["backward"] and request.params["limit"] == ["100"]


def test_metric_query_range_gives_a_matrix(loki: FakeLoki) -> None:
    query = 'sum by (env) (count_over_time({env=~".+"} [1m]))'
    with source(loki.url) as s:
        result = s.query_range(query, AT - timedelta(minutes=1), AT, step_seconds=60)
    assert result.result_type == "matrix"
    # Steps at T-60 s and T: the window (T-60 s, T] holds 2 prod lines and 1 dev line.
    assert sorted((p.labels["env"], p.ts, p.value) for p in result.points) == [
        ("dev", T / S, 1.0),
        ("prod", T / S, 2.0),
    ]


def test_tenant_header(loki: FakeLoki) -> None:
    loki.tenant = "team-a"
    with source(loki.url) as s, pytest.raises(BackendQueryError) as info:
        s.labels(HOUR_AGO, AT)
    assert info.value.status == 401
    assert str(info.value).startswith("loki: HTTP 401: no org id (")
    assert "SLOCTL_LOKI_TENANT" in str(info.value)
    with source(loki.url, "team-a") as s:
        assert s.labels(HOUR_AGO, AT) == ["env", "service_name"]
    with source(loki.url, "team-b") as s:
        assert s.labels(HOUR_AGO, AT) == []  # Loki omits data for an empty answer
    assert loki.requests[-1].headers["x-scope-orgid"] == "team-b"


def test_labels_values_and_series(loki: FakeLoki) -> None:
    with source(loki.url) as s:
        assert s.label_values("service_name", HOUR_AGO, AT) == ["cart", "checkout"]
        assert s.label_values("env", HOUR_AGO, AT, query='{service_name="cart"}') == ["dev"]
        assert s.series(['{env="prod"}'], AT - timedelta(hours=3), AT) == [
            {"service_name": "checkout", "env": "prod"},
            {"service_name": "old", "env": "prod"},
        ]
        with pytest.raises(ValueError, match="invalid Prometheus label name"):
            s.label_values("../labels", HOUR_AGO, AT)


@pytest.mark.parametrize(
    ("call", "status", "message"),
    [
        (
            "range-parse",
            400,
            "parse error at line 1, col 17: syntax error: unexpected end of input",
        ),
        ("instant-log-query", 400, LOG_INSTANT),
        ("empty-compatible", 400, "queries require at least one regexp or equality matcher"),
        (
            "over-limit",
            400,
            "max entries limit per query exceeded, limit > "
            "max_entries_limit_per_query (5001 > 5000)",
        ),
    ],
    ids=["range-parse", "instant-log-query", "empty-compatible", "over-limit"],
)
def test_plain_text_400_is_surfaced_verbatim(
    loki: FakeLoki, call: str, status: int, message: str
) -> None:
    with source(loki.url) as s, pytest.raises(BackendQueryError) as info:
        if call == "range-parse":
            s.query_range('{env="prod"} |= ', HOUR_AGO, AT)
        elif call == "instant-log-query":
            s.query('{env="prod"}', AT)
        elif call == "empty-compatible":
            s.query_range('{env=~".*"}', HOUR_AGO, AT)
        else:
            s.query_range('{env="prod"}', HOUR_AGO, AT, limit=5001)
    assert info.value.status == status
    assert str(info.value).startswith(f"loki: HTTP 400: {message}")
    assert info.value.query is not None and info.value.query.startswith("{env=")


def test_unreachable_says_how_to_fix() -> None:
    with FakeLoki([]) as server:
        url = server.url
    with source(url) as s, pytest.raises(BackendUnreachable) as info:
        s.query_range('{a="b"}', HOUR_AGO, AT)
    assert info.value.exit_code == 3
    assert "cannot connect to" in str(info.value) and "SLOCTL_LOKI_URL" in str(info.value)


# --- paging past the 5000-entry limit ---

N = 12000
TIE = 7000  # three lines share this entry's nanosecond, straddling the first page's end


def many() -> list[FakeStream]:
    entries = [(T - (N - i) * 1000, f"line {i}", {}) for i in range(N)]
    entries += [(T - (N - TIE) * 1000, f"line {TIE} twin {k}", {}) for k in (1, 2)]
    return [FakeStream({"service_name": "busy"}, entries)]


@pytest.fixture(scope="module")
def busy() -> Iterator[FakeLoki]:
    with FakeLoki(many()) as server:
        yield server


def expected_lines(direction: str) -> list[str]:
    rows = sorted(
        ((ns, line) for ns, line, _ in many()[0].entries),
        key=lambda r: r[0],
        reverse=direction == "backward",
    )
    return [line for _, line in rows]


@pytest.mark.parametrize("direction", ["backward", "forward"])
def test_paging_returns_every_entry_once_in_order(busy: FakeLoki, direction: Direction) -> None:
    busy.requests.clear()
    with source(busy.url) as s:
        page = s.entries('{service_name="busy"}', HOUR_AGO, AT, limit=20000, direction=direction)
    lines = [e.line for e in page.entries]
    assert len(lines) == N + 2 == len(set(lines))
    ns = [e.ns for e in page.entries]
    assert ns == sorted(ns, reverse=direction == "backward")
    assert sorted(lines) == sorted(expected_lines(direction))
    assert (page.requests, page.truncated) == (3, False)
    assert all(int(r.params["limit"][0]) <= 5000 for r in busy.requests)
    assert all(len(r.params["start"][0]) == 19 for r in busy.requests)  # ns, never seconds


def test_paging_stops_at_the_limit(busy: FakeLoki) -> None:
    with source(busy.url) as s:
        page = s.entries('{service_name="busy"}', HOUR_AGO, AT, limit=7000)
    assert len(page.entries) == 7000 and page.truncated
    assert {e.line for e in page.entries} == set(expected_lines("backward")[:7000])
