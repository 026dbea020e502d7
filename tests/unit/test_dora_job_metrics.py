"""DORA gauges on /metrics: the demo history's stored scorecards, parsed back; unknown omitted."""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from sloctl.demo.deployments import record_history, shop_history
from sloctl.dora import job as dora_job
from sloctl.runtime.http import HttpServer
from sloctl.runtime.metrics import render_metrics
from sloctl.settings import load_settings
from sloctl.store import Store
from tests.unit.test_dora_job import END, known_dora

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
ORG = {"scope": "organisation", "service": "", "environment": ""}
ORDER = {"scope": "order/production", "service": "order", "environment": "production"}


def parse(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as resp:
        text: str = resp.read().decode()
        return text


@pytest.fixture(scope="module")
def samples() -> Samples:
    return parse(render_metrics(None, known_dora()).decode())


FIGURES = [
    pytest.param("sloctl_dora_deployment_frequency_per_day", {}, 264 / 30, id="frequency"),
    pytest.param("sloctl_dora_change_failure_rate", {}, 2 / 263, id="change-failure-rate"),
    pytest.param("sloctl_dora_rework_rate", {}, 2 / 264, id="rework-rate"),
    pytest.param("sloctl_dora_lead_time_seconds", {"quantile": "0.5"}, 5820.0, id="lead-p50"),
    pytest.param(
        "sloctl_dora_failed_deployment_recovery_time_seconds",
        {"quantile": "0.5"},
        (40 * 60 + 75 * 60) / 2,
        id="recovery-p50",
    ),
    pytest.param(
        "sloctl_dora_time_to_restore_seconds", {"quantile": "0.9"}, 1800.0, id="restore-p90"
    ),
    pytest.param("sloctl_dora_sample_size", {"metric": "lead_time"}, 522.0, id="lead-n"),
    pytest.param("sloctl_dora_sample_size", {"metric": "time_to_restore"}, 1.0, id="restore-n"),
    pytest.param(
        "sloctl_dora_house_goal_met", {"metric": "change_failure_rate"}, 1.0, id="cfr-goal-met"
    ),
    pytest.param("sloctl_dora_house_goal_met", {"metric": "lead_time"}, 0.0, id="lead-goal-missed"),
]


@pytest.mark.parametrize(("name", "labels", "expected"), FIGURES)
def test_organisation_gauges_hold_the_known_values(
    samples: Samples, name: str, labels: dict[str, str], expected: float
) -> None:
    assert value(samples, name, **ORG, **labels) == pytest.approx(expected)


def test_level_is_one_hot_with_the_report_year(samples: Samples) -> None:
    levels = {
        dict(labels)["level"]: v
        for (name, labels), v in samples.items()
        if name == "sloctl_dora_level"
        and dict(labels)["scope"] == "organisation"
        and dict(labels)["metric"] == "change_failure_rate"
    }
    assert levels == {"elite": 1.0, "high": 0.0, "medium": 0.0, "low": 0.0}
    years = {
        dict(labels)["report_year"] for (name, labels) in samples if name == "sloctl_dora_level"
    }
    assert years == {"2023"}


def test_unknown_values_and_levels_are_omitted(samples: Samples) -> None:
    recovery = "sloctl_dora_failed_deployment_recovery_time_seconds"
    # notification never failed: no recovery time, but its sample size 0 is a fact.
    notification = {"scope": "notification/production", "service": "notification"}
    assert (
        value(samples, recovery, **notification, environment="production", quantile="0.5") is None
    )
    n = value(samples, "sloctl_dora_sample_size", **notification, environment="production",
              metric="failed_deployment_recovery_time")  # fmt: skip
    assert n == 0.0
    # the 2023 bands have no rework table: no level series for rework at all.
    assert not [
        k for k in samples if k[0] == "sloctl_dora_level" and ("metric", "rework_rate") in k[1]
    ]
    # order: 4 weekday slots in the window (86 after the two near the burst), the bad release
    # and the rollback = 88 deployments; 1 failed of the 87 that are not rollbacks.
    assert value(samples, "sloctl_dora_deployment_frequency_per_day", **ORDER) == 88 / 30
    assert value(samples, "sloctl_dora_change_failure_rate", **ORDER) == pytest.approx(1 / 87)


def test_computed_timestamp_and_nothing_without_scorecards(samples: Samples) -> None:
    assert value(samples, "sloctl_dora_computed_timestamp_seconds") == END.timestamp()
    assert render_metrics(None, []) == b""


def test_serve_metrics_has_the_stored_dora_figures(tmp_path: Path) -> None:
    settings = load_settings(None, {"SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}",
                                    "SLOCTL_RECEIVER_PORT": "0"})
    with Store(settings.store_url) as store:
        record_history(store, shop_history(END), END)
        dora_job.compute_and_store(store, settings, END)
        with HttpServer(settings, store) as server:
            got = parse(get(f"{server.url}/metrics"))
    assert value(got, "sloctl_dora_change_failure_rate", **ORG) == pytest.approx(2 / 263)
    # no incidents were passed to this computation: time to restore is unknown, so omitted
    assert value(got, "sloctl_dora_time_to_restore_seconds", **ORG, quantile="0.5") is None
