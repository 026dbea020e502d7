"""Canary judgements against a real Prometheus holding generated histories with known truth.

1,000 requests a minute per service, 5 % of them to the canary (50 a minute, 950 to the
baseline), from ``S`` (the canary's start, samples every minute) for 3 hours. The baseline errs
at 0.25 %; its latency: 60 % within 50 ms, 95 % within 100 ms (p95 exactly 0.1 s), 1 % above
300 ms. Per service (prometheus-http preset, ``job`` names the service, ``version`` v1/v2):

  five      canary errs at 1.25 % (5x): 18.75 of 1,500 requests in 30 minutes
  twice     canary errs at 0.5 % (2x): 7.5 of 1,500
  slow      canary 100 ms slower at p95 (0.2 s), same errors and the same 1 % above 300 ms
  same      canary identical to the baseline (A/A): passes once the margins are covered
  five-*    the five case in the other label layouts: a track label, Argo's pod template
            hash, a separate canary service (job five-svc-canary vs five-svc-primary)

Samples lie on both edges of every window judged (closed ranges): ``increase()`` equals the
generator's counts exactly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.canary.judge import CanaryReport, CanaryRequest, judge_canary
from sloctl.cli.main import app
from sloctl.core.canary import Verdict
from sloctl.demo.backfill import backfill
from sloctl.demo.prometheus_server import PrometheusServer
from sloctl.settings import Settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
from sloctl.spec.models import SLOSpec
from tests.support.truth_history import INF, Family, History, Life, Series, counter, histogram

pytestmark = pytest.mark.integration

H, M = 3600, 60
BASELINE_RPM, CANARY_RPM = 950, 50
BOUNDS = ("0.05", "0.1", "0.2", "0.3", "0.5", "1", INF)
BASE_SHARES = (0.60, 0.35, 0.03, 0.01, 0.005, 0.003, 0.002)  # p95 = 0.1 s exactly
SLOW_SHARES = (0.40, 0.30, 0.25, 0.04, 0.005, 0.003, 0.002)  # p95 = 0.2 s exactly
SPECS = """\
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: prometheus-http
  services: [five, twice, slow, same]
  canary: {label: version}
---
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: prometheus-http
  services: [five-track]
  canary: {label: track, canary: canary, baseline: stable}
---
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: prometheus-http
  services: [five-hash]
  canary: {label: rollouts_pod_template_hash}
---
apiVersion: sloctl/v1
kind: ServiceSLOs
spec:
  preset: prometheus-http
  services: [five-svc]
  canary: {service: "{service}-canary", baselineService: "{service}-primary"}
"""


def buckets(per_minute: float, shares: tuple[float, ...]) -> list[tuple[str, float]]:
    out, total = [], 0.0
    for le, share in zip(BOUNDS, shares, strict=True):
        total += share * per_minute
        out.append((le, total))
    out[-1] = (INF, per_minute)
    return out


def side(labels: dict[str, str], per_minute: float, error_share: float,
         shares: tuple[float, ...], life: Life) -> list[Series]:
    return [
        counter("http_requests", {**labels, "code": "200"}, per_minute * (1 - error_share), life),
        counter("http_requests", {**labels, "code": "500"}, per_minute * error_share, life),
        *histogram("http_request_duration_seconds", labels, buckets(per_minute, shares), life,
                   mean=0.08),
    ]


CASES: dict[str, tuple[dict[str, str], dict[str, str], float, tuple[float, ...]]] = {
    # service: (canary labels, baseline labels, canary error share, canary latency)
    "five": ({"job": "five", "version": "v2"}, {"job": "five", "version": "v1"}, 0.0125,
             BASE_SHARES),
    "twice": ({"job": "twice", "version": "v2"}, {"job": "twice", "version": "v1"}, 0.005,
              BASE_SHARES),
    "slow": ({"job": "slow", "version": "v2"}, {"job": "slow", "version": "v1"}, 0.0025,
             SLOW_SHARES),
    "same": ({"job": "same", "version": "v2"}, {"job": "same", "version": "v1"}, 0.0025,
             BASE_SHARES),
    "five-track": ({"job": "five-track", "track": "canary"},
                   {"job": "five-track", "track": "stable"}, 0.0125, BASE_SHARES),
    "five-hash": ({"job": "five-hash", "rollouts_pod_template_hash": "6d4f8b9c7"},
                  {"job": "five-hash", "rollouts_pod_template_hash": "5b7c9d8e1"}, 0.0125,
                  BASE_SHARES),
    "five-svc": ({"job": "five-svc-canary"}, {"job": "five-svc-primary"}, 0.0125, BASE_SHARES),
}


@pytest.fixture(scope="module")
def start() -> int:
    """S: a whole minute 4 hours ago (the data ends 3 hours later)."""
    return int(datetime.now(UTC).timestamp() // M) * M - 4 * H


@pytest.fixture(scope="module")
def prometheus(start: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    life = Life(start, start + 3 * H)
    series: list[Series] = []
    for canary, baseline, error_share, shares in CASES.values():
        series += side(canary, CANARY_RPM, error_share, shares, life)
        series += side(baseline, BASELINE_RPM, 0.0025, BASE_SHARES, life)
    history = History((
        Family("http_requests", "counter",
               tuple(s for s in series if s.name == "http_requests_total")),
        Family("http_request_duration_seconds", "histogram",
               tuple(s for s in series if s.name != "http_requests_total")),
    ))
    root = tmp_path_factory.mktemp("canary-prometheus")
    history.write(root / "history.om")
    backfill(root / "history.om", root / "data")
    with PrometheusServer(root / "data") as server:
        yield server


@pytest.fixture(scope="module")
def specs(tmp_path_factory: pytest.TempPathFactory) -> list[SLOSpec]:
    path = tmp_path_factory.mktemp("canary-specs") / "specs.yaml"
    path.write_text(SPECS)
    return load_specs([path])


def judged(prometheus: PrometheusServer, specs: list[SLOSpec], at: int,
           request: CanaryRequest) -> CanaryReport:
    settings = Settings.model_validate({"prometheus": {"url": prometheus.url}})
    source = PrometheusSource(settings.prometheus)
    try:
        return judge_canary(request, specs, settings, source, datetime.fromtimestamp(at, UTC))
    finally:
        source.close()


def check(report: CanaryReport, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in report.judgement.checks if c.name == name)


def test_five_times_the_error_ratio_fails_within_30_minutes(
    prometheus: PrometheusServer, specs: list[SLOSpec], start: int
) -> None:
    report = judged(prometheus, specs, start + 30 * M,
                    CanaryRequest("five", "v2", "v1", since=30 * M))
    assert report.verdict == Verdict.FAIL and report.exit_code == 1
    errors = check(report, "errors")
    assert (errors.canary.bad, errors.canary.total) == (19, 1500)  # 18.75 rounded
    assert (errors.baseline.bad, errors.baseline.total) == (71, 28500)  # 71.25 rounded
    assert errors.verdict == Verdict.FAIL and errors.p_value < 1e-6
    assert report.version == "v2"


def test_twice_the_error_ratio_is_inconclusive_at_30_minutes_then_fails_once_served(
    prometheus: PrometheusServer, specs: list[SLOSpec], start: int
) -> None:
    first = judged(prometheus, specs, start + 30 * M,
                   CanaryRequest("twice", "v2", "v1", since=30 * M))
    assert first.verdict == Verdict.INCONCLUSIVE and first.exit_code == 6
    errors = check(first, "errors")
    assert (errors.canary.bad, errors.canary.total) == (8, 1500)  # 7.5 rounded half up
    needed = first.judgement.needed
    assert needed is not None and needed.canary > 1500  # far more than 30 minutes gave
    # serve exactly that many more canary requests (50 a minute), then judge all of them
    minutes = 30 + -(-needed.canary // CANARY_RPM)
    assert minutes <= 180, "the history is too short for this case"
    later = judged(prometheus, specs, start + minutes * M,
                   CanaryRequest("twice", "v2", "v1", since=minutes * M))
    assert check(later, "errors").canary.total >= 1500 + needed.canary
    assert check(later, "errors").verdict == Verdict.FAIL
    assert later.verdict == Verdict.FAIL


def test_a_canary_100_ms_slower_at_p95_fails(
    prometheus: PrometheusServer, specs: list[SLOSpec], start: int
) -> None:
    report = judged(prometheus, specs, start + 30 * M,
                    CanaryRequest("slow", "v2", "v1", since=30 * M))
    assert report.verdict == Verdict.FAIL
    p95 = check(report, "p95")
    assert p95.verdict == Verdict.FAIL
    assert p95.detail["baseline_seconds"] == pytest.approx(0.1)
    assert p95.detail["canary_seconds"] == pytest.approx(0.2)
    assert p95.detail["difference_seconds"] == pytest.approx(0.1)
    assert check(report, "errors").verdict != Verdict.FAIL
    assert check(report, "latency").verdict != Verdict.FAIL  # 1 % above 300 ms on both sides


def test_an_identical_canary_is_inconclusive_at_30_minutes_and_passes_at_3_hours(
    prometheus: PrometheusServer, specs: list[SLOSpec], start: int
) -> None:
    early = judged(prometheus, specs, start + 30 * M,
                   CanaryRequest("same", "v2", "v1", since=30 * M))
    assert early.verdict == Verdict.INCONCLUSIVE
    late = judged(prometheus, specs, start + 180 * M,
                  CanaryRequest("same", "v2", "v1", since=180 * M))
    assert late.verdict == Verdict.PASS and late.exit_code == 0
    # 22.5 and 427.5 errors round to 23 of 9,000 and 428 of 171,000: 0.005 pp apart
    assert {c.name: c.difference for c in late.judgement.checks} == {
        "errors": pytest.approx(23 / 9000 - 428 / 171000), "latency": 0.0, "p95": 0.0}


@pytest.mark.parametrize(
    "request_",
    [
        CanaryRequest("five-track", since=30 * M),  # values from the spec
        CanaryRequest("five-hash", "6d4f8b9c7", "5b7c9d8e1", since=30 * M),
        CanaryRequest("five-svc", since=30 * M),
        CanaryRequest("five-track", 'track="canary"', 'track!="canary"', since=30 * M),
    ],
    ids=["track", "pod-template-hash", "canary-service", "matchers"],
)
def test_every_label_layout_sees_the_same_counts(
    prometheus: PrometheusServer, specs: list[SLOSpec], start: int, request_: CanaryRequest
) -> None:
    report = judged(prometheus, specs, start + 30 * M, request_)
    errors = check(report, "errors")
    assert (errors.canary.bad, errors.canary.total) == (19, 1500)
    assert (errors.baseline.bad, errors.baseline.total) == (71, 28500)
    assert report.verdict == Verdict.FAIL


def test_the_cli_exits_by_verdict_prints_json_and_stores_the_judgement(
    prometheus: PrometheusServer, start: int, tmp_path: Path
) -> None:
    spec = tmp_path / "specs.yaml"
    spec.write_text(SPECS)
    env = {"SLOCTL_PROMETHEUS_URL": prometheus.url, "SLOCTL_STORE_URL":
           f"sqlite:///{tmp_path / 's.db'}", "SLOCTL_SPECS": str(spec)}
    at = str(start + 30 * M)
    runner = CliRunner()
    fail = runner.invoke(app, ["canary", "--service", "five", "--canary", 'version="v2"',
                               "--baseline", 'version="v1"', "--since", "30m", "--at", at,
                               "-o", "json"], env=env)
    assert fail.exit_code == 1, fail.output
    body = json.loads(fail.stdout)
    assert (body["verdict"], body["fail"], body["code"]) == ("fail", True, 1)
    assert body["judgement_id"] == 1 and body["version"] == "v2"
    unsure = runner.invoke(app, ["canary", "--service", "twice", "--canary", "v2", "--baseline",
                                 "v1", "--since", "30m", "--at", at], env=env)
    assert unsure.exit_code == 6, unsure.output
    assert "INCONCLUSIVE" in unsure.stdout and "more canary" in unsure.stdout
    nothing = runner.invoke(app, ["canary", "--service", "five", "--canary", "v9", "--baseline",
                                  "v1", "--since", "30m", "--at", at, "--no-store"], env=env)
    assert nothing.exit_code == 4, nothing.output
    from sloctl.store import StoreReader

    with StoreReader(env["SLOCTL_STORE_URL"]) as reader:
        stored = reader.canary.judgements(service="five")
        assert [(j.verdict, j.version, j.source) for j in stored] == [("fail", "v2", "cli")]
        assert [v.verdict for v in reader.canary.verdicts()] == ["fail", "inconclusive"]
