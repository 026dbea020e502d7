"""parse_duration / parse_threshold: accepted forms give exact seconds, bad ones clear errors."""

from __future__ import annotations

import pytest

from sloctl.spec.durations import parse_duration, parse_threshold


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        pytest.param("5m", 300, id="minutes"),
        pytest.param("300s", 300, id="seconds-unit"),
        pytest.param("1h30m", 5400, id="compound"),
        pytest.param("28d", 2419200, id="days"),
        pytest.param("2w", 1209600, id="weeks"),
        pytest.param("1w2d3h4m5s", 604800 + 172800 + 10800 + 240 + 5, id="all-units"),
        pytest.param(300, 300, id="int"),
        pytest.param(300.0, 300, id="integral-float"),
        pytest.param("300", 300, id="numeric-string"),
        pytest.param(" 5m ", 300, id="surrounding-spaces"),
    ],
)
def test_parse_duration(text: object, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("5x", "invalid duration '5x'", id="unknown-unit"),
        pytest.param("30m1h", "invalid duration '30m1h'", id="units-out-of-order"),
        pytest.param("", "invalid duration ''", id="empty"),
        pytest.param(1.5, "invalid duration 1.5", id="fraction"),
        pytest.param(True, "invalid duration True", id="bool"),
        pytest.param(None, "invalid duration None", id="null"),
        pytest.param(0, "duration must be positive; got 0", id="zero"),
        pytest.param("-5", "duration must be positive; got '-5'", id="negative"),
    ],
)
def test_parse_duration_rejects(value: object, fragment: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_duration(value)
    assert fragment in str(excinfo.value)
    assert 'e.g. "5m"' in str(excinfo.value)


def test_parse_duration_allows_zero_when_asked() -> None:
    assert parse_duration("0s", allow_zero=True) == 0
    assert parse_duration(0, allow_zero=True) == 0


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        pytest.param("300ms", 0.3, id="milliseconds"),
        pytest.param("0.3s", 0.3, id="seconds-unit"),
        pytest.param(0.3, 0.3, id="float"),
        pytest.param(1, 1.0, id="int"),
        pytest.param("1s", 1.0, id="one-second"),
        pytest.param("2.5", 2.5, id="numeric-string"),
        pytest.param("1m", 60.0, id="minutes"),
        pytest.param("250ms", 0.25, id="quarter"),
    ],
)
def test_parse_threshold(value: object, seconds: float) -> None:
    assert parse_threshold(value) == seconds


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        pytest.param("300 msec", "invalid latency threshold '300 msec'", id="unknown-unit"),
        pytest.param("fast", "invalid latency threshold 'fast'", id="word"),
        pytest.param(0, "latency threshold must be positive; got 0", id="zero"),
        pytest.param(-0.1, "latency threshold must be positive; got -0.1", id="negative"),
        pytest.param(float("inf"), "latency threshold must be positive; got inf", id="infinite"),
        pytest.param(False, "invalid latency threshold False", id="bool"),
    ],
)
def test_parse_threshold_rejects(value: object, fragment: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        parse_threshold(value)
    assert fragment in str(excinfo.value)
