"""/metrics: the exposition of a known evaluation, parsed back, and the serve HTTP server."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from sloctl.core.alerts import AlertState
from sloctl.core.evaluation import Evaluation
from sloctl.core.signals import Signal
from sloctl.core.windows import ALERT_WINDOWS, window_name
from sloctl.runtime.http import HttpServer
from sloctl.runtime.metrics import render_metrics
from sloctl.settings import Settings
from sloctl.store import Store
from tests.support.evaluations import (
    PERIOD,
    T0,
    alert,
    evaluation,
    signals,
    slo,
    unknown_slo,
)

DOWN = "prometheus: connection refused at 127.0.0.1:9090"
CHECKOUT = {"slo_id": "checkout/availability", "service": "checkout", "slo": "availability"}
SEARCH = {"slo_id": "search/latency", "service": "search", "slo": "latency"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def known_evaluation() -> Evaluation:
    """A known SLO and an unknown one, known and unknown signals, a firing and an idle alert."""
    return evaluation(
        T0,
        [
            slo("checkout", "availability", T0, bad=400.0, short_bad_ratio=0.02),
            unknown_slo("search", "latency", T0, DOWN),
        ],
        [
            *signals("checkout", {Signal.TRAFFIC: 12.5, Signal.LATENCY_P95: 0.21}),
            *signals("search", {Signal.TRAFFIC: None}, DOWN),
        ],
        [
            alert(
                "burn_rate:page/checkout/availability",
                AlertState.FIRING,
                T0,
                value=20.0,
                since=T0 - timedelta(minutes=5),
            ),
            alert(
                "error_ratio/search",
                AlertState.INACTIVE,
                T0,
                service="search",
                slo_id=None,
                value=None,
                reason=DOWN,
            ),
        ],
        problems=(DOWN,),
    )


def parse(text: bytes) -> Samples:
    """Every sample as (name, labels) -> value."""
    out: Samples = {}
    for family in text_string_to_metric_families(text.decode()):
        assert family.type == "gauge", family.name
        for s in family.samples:
            key = (s.name, frozenset(s.labels.items()))
            assert key not in out, f"duplicate series {key}"
            out[key] = s.value
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


def names(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(labels) for n, labels in samples if n == name]


@pytest.fixture(scope="module")
def samples() -> Samples:
    return parse(render_metrics(known_evaluation()))


def test_evaluation_gauges(samples: Samples) -> None:
    assert value(samples, "sloctl_evaluation_timestamp_seconds") == T0.timestamp() == 1740830400.0
    assert value(samples, "sloctl_evaluation_duration_seconds") == 1.25
    assert value(samples, "sloctl_evaluation_problems") == 1.0
    assert value(samples, "sloctl_evaluation_queries") == 12.0


def test_slo_gauges_carry_the_exact_values(samples: Samples) -> None:
    ev = known_evaluation()
    checkout = ev.slos[0]
    assert value(samples, "sloctl_slo_objective", **CHECKOUT) == 0.999
    assert value(samples, "sloctl_slo_period_seconds", **CHECKOUT) == PERIOD
    assert value(samples, "sloctl_slo_error_budget_remaining", **CHECKOUT) == (
        checkout.budget_remaining
    )
    assert checkout.budget_remaining == pytest.approx(0.6)  # 1 - (400 / 1e6) / 0.001
    assert value(samples, "sloctl_slo_error_budget_remaining_minutes", **CHECKOUT) == (
        pytest.approx(0.6 * 43.2)
    )
    assert value(samples, "sloctl_slo_breaching", **CHECKOUT) == 0.0
    for w in checkout.windows:
        labels = {**CHECKOUT, "window": window_name(w.window)}
        assert value(samples, "sloctl_slo_sli", **labels) == w.sli
        assert value(samples, "sloctl_slo_error_ratio", **labels) == w.error_ratio
        assert value(samples, "sloctl_slo_burn_rate", **labels) == w.burn_rate
    five = {**CHECKOUT, "window": "5m"}
    assert value(samples, "sloctl_slo_sli", **five) == pytest.approx(0.98)
    assert value(samples, "sloctl_slo_burn_rate", **five) == pytest.approx(20.0)
    assert value(samples, "sloctl_slo_sli", **CHECKOUT, window="30d") == pytest.approx(0.9996)
    windows = {d["window"] for d in names(samples, "sloctl_slo_sli")}
    assert windows == {*(window_name(w) for w in ALERT_WINDOWS), "30d"}


def test_burn_rate_rules_firing(samples: Samples) -> None:
    # short_bad_ratio 2 % burns 20x everywhere: every rule fires
    rules = {
        (d["severity"], d["long_window"], d["short_window"]): value(
            samples, "sloctl_slo_burn_rate_rule_firing", **d
        )
        for d in names(samples, "sloctl_slo_burn_rate_rule_firing")
    }
    assert rules == {
        ("page", "1h", "5m"): 1.0,
        ("page", "6h", "30m"): 1.0,
        ("ticket", "1d", "2h"): 1.0,
        ("ticket", "3d", "6h"): 1.0,
    }


def test_unknown_values_are_omitted_never_zero(samples: Samples) -> None:
    present = {n for n, labels in samples if dict(labels).get("slo_id") == SEARCH["slo_id"]}
    assert present == {"sloctl_slo_objective", "sloctl_slo_period_seconds"}
    assert value(samples, "sloctl_slo_objective", **SEARCH) == 0.99
    assert names(samples, "sloctl_signal") == [
        {"service": "checkout", "signal": "traffic"},
        {"service": "checkout", "signal": "latency_p95"},
    ]
    assert value(samples, "sloctl_signal", service="checkout", signal="traffic") == 12.5
    assert value(samples, "sloctl_signal", service="checkout", signal="latency_p95") == 0.21
    assert [d["key"] for d in names(samples, "sloctl_alert_value")] == [
        "burn_rate:page/checkout/availability"
    ]


def test_alert_state_is_one_for_the_current_state(samples: Samples) -> None:
    base = {
        "key": "burn_rate:page/checkout/availability",
        "rule": "burn_rate:page",
        "service": "checkout",
        "severity": "page",
        "slo_id": "checkout/availability",
    }
    states = {
        s.value: value(samples, "sloctl_alert_state", **base, state=s.value) for s in AlertState
    }
    assert states == {"inactive": 0.0, "pending": 0.0, "firing": 1.0, "resolved": 0.0}
    idle = {
        "key": "error_ratio/search",
        "rule": "error_ratio",
        "service": "search",
        "severity": "page",
        "slo_id": "",
    }
    assert value(samples, "sloctl_alert_state", **idle, state="inactive") == 1.0
    assert value(samples, "sloctl_alert_state", **idle, state="firing") == 0.0
    assert value(samples, "sloctl_alert_value", **base) == 20.0
    assert value(samples, "sloctl_alert_threshold", **base) == 14.4


def test_no_evaluation_yet_renders_nothing() -> None:
    assert render_metrics(None) == b""


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, resp.headers["Content-Type"], resp.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers["Content-Type"], err.read().decode()


def serve_settings(tmp_path: Path) -> Settings:
    return Settings.model_validate(
        {"store_url": f"sqlite:///{tmp_path / 'sloctl.db'}", "receiver": {"port": 0}}
    )


def test_serve_metrics_is_the_exposition_of_the_latest_stored_evaluation(
    tmp_path: Path,
) -> None:
    settings = serve_settings(tmp_path)
    with Store(settings.store_url) as store, HttpServer(settings, store) as server:
        assert get(f"{server.url}/metrics") == (200, CONTENT_TYPE_LATEST, "")  # nothing yet
        store.save_evaluation(known_evaluation())
        status, ctype, body = get(f"{server.url}/metrics")
    assert (status, ctype) == (200, CONTENT_TYPE_LATEST)
    assert body.encode() == render_metrics(known_evaluation())
    samples = parse(body.encode())
    assert value(samples, "sloctl_slo_objective", **CHECKOUT) == 0.999
    assert value(samples, "sloctl_slo_burn_rate", **CHECKOUT, window="1h") == pytest.approx(20.0)
    assert value(samples, "sloctl_evaluation_timestamp_seconds") == T0.timestamp()


def test_store_failure_answers_503_with_the_reason(tmp_path: Path) -> None:
    settings = serve_settings(tmp_path)
    with Store(settings.store_url) as store, HttpServer(settings, store) as server:
        with store.engine.begin() as conn:  # the store breaks under a running server
            conn.execute(text("DROP TABLE evaluations"))
        status, ctype, body = get(f"{server.url}/metrics")
    assert (status, ctype) == (503, "text/plain; charset=utf-8")
    assert body.startswith(f"store unavailable: reading the store {settings.store_url} failed: ")
    assert "no such table: evaluations" in body
