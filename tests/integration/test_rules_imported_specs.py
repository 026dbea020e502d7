"""The Sloth and OpenSLO examples (rules/examples) against the shop's Prometheus: sloctl's engine
gets the same SLIs from them as from the equivalent sloctl/v1 specs (rules/slos/shop.yaml), both
equal to the scenario's ground truth, and the rules generated from them record the truth too."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.core.evaluation import Evaluation
from sloctl.core.recordings import SLI_ERROR_PREFIX
from sloctl.core.windows import ALERT_WINDOWS, window_name
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.demo.scenario import Scenario
from sloctl.errors import EXIT_NO_DATA
from sloctl.evaluation.cycle import Evaluator
from sloctl.rulegen import plan_rule_files
from sloctl.settings import Settings, load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.spec.models import SLOSpec

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "rules" / "examples"
# Imported SLO id -> the sloctl/v1 SLO of rules/slos/shop.yaml that measures the same.
EQUIVALENT = {
    **{f"{s}/{n}": f"{s}/{n}" for s in ("order", "payment", "inventory")
       for n in ("availability", "latency")},
    "notification/notification-availability": "notification/availability",
    "user/user-latency-p95": "user/latency",
    "user/user-latency-p90": "user/latency",
    "order/checkout-latency": "order/checkout-latency",
}


def evaluate(url: str, specs: list[SLOSpec], at: datetime) -> Evaluation:
    settings = load_settings(None, {"SLOCTL_PROMETHEUS_URL": url,
                                    "SLOCTL_PROMETHEUS_TIMEOUT": "10"})
    return Evaluator(settings, specs, PrometheusSource(settings.prometheus)).run_cycle(at)


@pytest.fixture(scope="module")
def evaluations(prometheus_shop: PrometheusServer,
                shop_end: datetime) -> tuple[Evaluation, Evaluation]:
    """(the examples, the sloctl/v1 specs), evaluated at the same instant."""
    imported = evaluate(prometheus_shop.url, load_specs([EXAMPLES]), shop_end)
    native = evaluate(prometheus_shop.url, load_specs([REPO / "rules" / "slos"]), shop_end)
    return imported, native


def truth_of(slo_id: str, scenario: Scenario, at: datetime, window: int,
             sample_times: object) -> float:
    service, name = slo_id.split("/")
    truth = scenario.truth_window(service, at, window,
                                  sample_times=sample_times)  # type: ignore[arg-type]
    if name.endswith("availability"):
        return truth.error_ratio
    # The generator floors each cumulative bucket on its own, so over a short window a bucket
    # near +Inf can gain one request more than +Inf (the model puts a fraction of a request
    # beyond 1 s): the share slower than 1 s comes out a hair below 0, which sloctl (like
    # Prometheus' own clamping of bad > total) reads as 0.
    return max(truth.latency_ratio(1.0 if name == "checkout-latency" else 0.3), 0.0)


def test_every_example_slo_is_evaluated(evaluations: tuple[Evaluation, Evaluation]) -> None:
    imported, _ = evaluations
    assert sorted(s.slo_id for s in imported.slos) == sorted(EQUIVALENT)
    assert not [p for p in imported.problems if not p.startswith("note: ")], imported.problems


@pytest.mark.parametrize("slo_id", EQUIVALENT)
@pytest.mark.parametrize("window", ALERT_WINDOWS, ids=window_name)
def test_slis_equal_the_sloctl_v1_specs_and_the_truth(
    evaluations: tuple[Evaluation, Evaluation], shop_scenario: Scenario,
    shop_sample_times: object, shop_end: datetime, slo_id: str, window: int,
) -> None:
    imported, native = evaluations
    ours = next(s for s in imported.slos if s.slo_id == slo_id).window(window)
    theirs = next(s for s in native.slos if s.slo_id == EQUIVALENT[slo_id]).window(window)
    assert ours is not None and theirs is not None
    assert ours.sli is not None and theirs.sli is not None
    assert ours.sli == pytest.approx(theirs.sli, rel=1e-9, abs=1e-12)
    expected = truth_of(slo_id, shop_scenario, shop_end, window, shop_sample_times)
    assert ours.error_ratio == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert ours.coverage == pytest.approx(1.0)


@pytest.mark.parametrize("slo_id", EQUIVALENT)
def test_the_slo_window_is_measured_too(
    evaluations: tuple[Evaluation, Evaluation], shop_scenario: Scenario,
    shop_sample_times: object, shop_end: datetime, slo_id: str,
) -> None:
    """Sloth's SLOs run over 30 days (the shop's sloctl/v1 specs over 28): each against the
    truth of its own window; the others also equal their sloctl/v1 twin."""
    imported, native = evaluations
    status = next(s for s in imported.slos if s.slo_id == slo_id)
    twin = next(s for s in native.slos if s.slo_id == EQUIVALENT[slo_id])
    assert status.sli is not None
    if status.period_elapsed == twin.period_elapsed:
        assert status.sli == pytest.approx(twin.sli, rel=1e-9)
    expected = truth_of(slo_id, shop_scenario, shop_end, status.period_elapsed,
                        shop_sample_times)
    assert 1 - status.sli == pytest.approx(expected, rel=1e-6, abs=1e-12)


def instant(url: str, expr: str, at: datetime) -> list[dict[str, Any]]:
    params: dict[str, str | float] = {"query": expr, "time": at.timestamp()}
    body = requests.get(f"{url}/api/v1/query", params=params, timeout=30).json()
    assert body["status"] == "success", (expr, body)
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def generated_rules() -> list[dict[str, Any]]:
    files = plan_rule_files(load_specs([EXAMPLES]), Settings())
    return [r.as_dict() for f in files for g in f.groups for r in g.rules]


RULES = generated_rules()
WINDOWS = {window_name(w): w for w in ALERT_WINDOWS}
SLI_RULES = [r for r in RULES if str(r.get("record", "")).startswith(SLI_ERROR_PREFIX)
             and r["labels"]["sloth_window"] in WINDOWS]


@pytest.mark.parametrize(
    "rule", SLI_RULES,
    ids=lambda r: f"{r['labels']['sloth_id']}-{r['labels']['sloth_window']}",
)
def test_generated_sli_recordings_equal_the_truth(
    prometheus_shop: PrometheusServer, shop_scenario: Scenario, shop_sample_times: object,
    shop_end: datetime, rule: dict[str, Any],
) -> None:
    labels = rule["labels"]
    slo_id = f"{labels['sloth_service']}/{labels['sloth_slo']}"
    expected = truth_of(slo_id, shop_scenario, shop_end, WINDOWS[labels["sloth_window"]],
                        shop_sample_times)
    (sample,) = instant(prometheus_shop.url, rule["expr"], shop_end)
    assert sample["metric"] == {}  # only the rule's sloth labels identify the series
    recorded = float(sample["value"][1])
    # The rule is 1 - good/total as written: the generator's floor artifact (see truth_of) can
    # make it a hair below 0 where the truth, read as Prometheus clients count, is 0.
    assert max(recorded, 0.0) == pytest.approx(expected, rel=1e-6, abs=1e-12)
    assert recorded > -1e-4


def test_absent_alerts_of_the_examples_are_silent_while_their_series_exist(
    prometheus_shop: PrometheusServer, shop_end: datetime,
) -> None:
    absent = [r for r in RULES if r.get("alert") == "SLOMetricAbsent"]
    assert len(absent) == len(EQUIVALENT) - 1  # inventory/latency has alerting disabled
    for rule in absent:
        assert instant(prometheus_shop.url, rule["expr"], shop_end) == [], rule["labels"]


def live(url: str, at: datetime, path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    monkeypatch.setenv("SLOCTL_PROMETHEUS_URL", url)
    result = CliRunner().invoke(app, ["validate", "--live", "--at", at.isoformat(), str(path)])
    return result.exit_code, " ".join(result.stdout.split())


def test_validate_live_finds_the_series_of_every_example(
    prometheus_shop: PrometheusServer, shop_end: datetime, monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out = live(prometheus_shop.url, shop_end, EXAMPLES, monkeypatch)
    assert code == 0, out
    assert out.count("the total query returns series") == len(EQUIVALENT)


def test_validate_live_says_when_an_imported_query_finds_nothing(
    prometheus_shop: PrometheusServer, shop_end: datetime, monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    spec = tmp_path / "ghost.yaml"
    spec.write_text(
        "version: prometheus/v1\nservice: ghost\nslos:\n  - name: availability\n"
        "    objective: 99\n    sli:\n      events:\n"
        "        error_query: sum(rate(ghost_requests_total{code=\"500\"}[{{.window}}]))\n"
        "        total_query: sum(rate(ghost_requests_total[{{.window}}]))\n"
        "    alerting: {name: Ghost}\n"
    )
    code, out = live(prometheus_shop.url, shop_end, spec, monkeypatch)
    assert code == EXIT_NO_DATA, out
    assert f"ghost/availability ({spec}:4): the total query returns no series over the last 1h" \
        in out
