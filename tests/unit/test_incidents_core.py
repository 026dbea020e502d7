"""Alert instances -> incidents: merging, severity, open/resolved, attribution (ground truth)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from sloctl.core.incidents import UNATTRIBUTED, AlertInstance, build_incidents

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
NOW = T0 + timedelta(hours=2)
SEVERITIES = ("critical", "page", "warning")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def alert(
    fp: str,
    start: float,
    end: float | None,
    *,
    service: str | None = "checkout",
    name: str = "HighErrorRate",
    severity: str | None = "critical",
    label: str = "service",
) -> AlertInstance:
    labels = {"alertname": name}
    if service is not None:
        labels[label] = service
    if severity is not None:
        labels["severity"] = severity
    return AlertInstance(fp, at(start), None if end is None else at(end), labels)


@dataclass(frozen=True)
class Expected:
    service: str
    start: float  # minutes after T0
    end: float | None
    severity: str
    alerts: tuple[str, ...]
    fingerprints: tuple[str, ...]


CASES = [
    pytest.param(
        [alert("a", 0, 10)],
        [Expected("checkout", 0, 10, "critical", ("HighErrorRate",), ("a",))],
        id="single-resolved",
    ),
    pytest.param(
        [alert("a", 0, 10), alert("b", 5, 20, name="Latency")],
        [Expected("checkout", 0, 20, "critical", ("HighErrorRate", "Latency"), ("a", "b"))],
        id="overlapping-merge",
    ),
    pytest.param(
        [alert("a", 0, 10), alert("b", 15, 20)],
        [Expected("checkout", 0, 20, "critical", ("HighErrorRate",), ("a", "b"))],
        id="gap-equal-to-merge-gap-merges",
    ),
    pytest.param(
        [alert("a", 0, 10), alert("b", 15.5, 20)],
        [
            Expected("checkout", 0, 10, "critical", ("HighErrorRate",), ("a",)),
            Expected("checkout", 15.5, 20, "critical", ("HighErrorRate",), ("b",)),
        ],
        id="gap-above-merge-gap-splits",
    ),
    pytest.param(
        [alert("a", 0, None), alert("b", 100, 110)],
        [Expected("checkout", 0, None, "critical", ("HighErrorRate",), ("a", "b"))],
        id="firing-alert-keeps-incident-open",
    ),
    pytest.param(
        [alert("a", 0, 30), alert("b", 10, 20)],
        [Expected("checkout", 0, 30, "critical", ("HighErrorRate",), ("a", "b"))],
        id="contained-interval-keeps-outer-end",
    ),
    pytest.param(
        [alert("a", 0, 10, severity="warning"), alert("b", 5, 8, severity="page")],
        [Expected("checkout", 0, 10, "page", ("HighErrorRate",), ("a", "b"))],
        id="highest-severity-wins",
    ),
    pytest.param(
        [alert("a", 0, 10, severity="info"), alert("b", 0, 10, severity=None)],
        [],
        id="non-qualifying-severities-ignored",
    ),
    pytest.param(
        [alert("a", 0, 10), alert("b", 2, 12, service="cart")],
        [
            Expected("checkout", 0, 10, "critical", ("HighErrorRate",), ("a",)),
            Expected("cart", 2, 12, "critical", ("HighErrorRate",), ("b",)),
        ],
        id="services-never-merge",
    ),
    pytest.param(
        [alert("a", 0, 10, service="cart", label="app"), alert("b", 60, 70, service=None)],
        [
            Expected("cart", 0, 10, "critical", ("HighErrorRate",), ("a",)),
            Expected(UNATTRIBUTED, 60, 70, "critical", ("HighErrorRate",), ("b",)),
        ],
        id="app-label-alias-and-unattributed",
    ),
    pytest.param(
        [alert("a", 10, 5)],
        [Expected("checkout", 10, 10, "critical", ("HighErrorRate",), ("a",))],
        id="end-before-start-is-zero-length",
    ),
    pytest.param([], [], id="no-alerts"),
]


@pytest.mark.parametrize(("alerts", "expected"), CASES)
def test_build_incidents(alerts: list[AlertInstance], expected: list[Expected]) -> None:
    got = build_incidents(alerts, merge_gap_seconds=300, severities=SEVERITIES, now=NOW)
    want = [
        (
            e.service,
            at(e.start),
            None if e.end is None else at(e.end),
            e.severity,
            e.alerts,
            e.fingerprints,
        )
        for e in expected
    ]
    assert [(i.service, i.start, i.end, i.severity, i.alerts, i.fingerprints) for i in got] == want


@pytest.mark.parametrize(
    ("end", "open_", "duration"),
    [
        pytest.param(30.0, False, 1800.0, id="resolved-duration-is-end-minus-start"),
        pytest.param(None, True, 7200.0, id="open-duration-runs-until-now"),
    ],
)
def test_duration_and_open(end: float | None, open_: bool, duration: float) -> None:
    [incident] = build_incidents(
        [alert("a", 0, end)], merge_gap_seconds=0, severities=SEVERITIES, now=NOW
    )
    assert (incident.open, incident.duration_seconds) == (open_, duration)


def test_zero_merge_gap_merges_only_touching_intervals() -> None:
    got = build_incidents(
        [alert("a", 0, 10), alert("b", 10, 20), alert("c", 20.5, 30)],
        merge_gap_seconds=0,
        severities=SEVERITIES,
        now=NOW,
    )
    assert [(i.start, i.end) for i in got] == [(at(0), at(20)), (at(20.5), at(30))]
