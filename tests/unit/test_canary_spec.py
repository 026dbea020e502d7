"""A spec's ``canary:`` section: each label layout real rollouts produce resolves per service,
and a section naming neither a label nor a service is a located problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloctl.spec.canary_layout import CanaryLayout
from sloctl.spec.loader import check_paths

HEAD = "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec:\n  services: [order, payment]\n"


def layouts(tmp_path: Path, canary: str) -> dict[str, CanaryLayout | None]:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + f"  canary: {canary}\n")
    check = check_paths([path])
    assert check.problems == []
    return {s.slo_id: s.canary for s in check.specs}


@pytest.mark.parametrize(
    ("canary", "order"),
    [
        ("{label: version}", CanaryLayout(label="version")),
        ("{label: track, canary: canary, baseline: stable}",
         CanaryLayout(label="track", canary="canary", baseline="stable")),
        ("{label: rollouts_pod_template_hash}",
         CanaryLayout(label="rollouts_pod_template_hash")),
        ('{service: "{service}-canary", baselineService: "{service}-primary"}',
         CanaryLayout(canary_service="order-canary", baseline_service="order-primary")),
    ],
    ids=["version", "track", "pod-template-hash", "canary-service"],
)
def test_each_layout_resolves_for_every_service_and_slo(
    tmp_path: Path, canary: str, order: CanaryLayout
) -> None:
    found = layouts(tmp_path, canary)
    assert found["order/availability"] == found["order/latency"] == order
    payment = found["payment/availability"]
    assert payment is not None and payment.label == order.label
    if order.canary_service:
        assert (payment.canary_service, payment.baseline_service) == (
            "payment-canary", "payment-primary")


def test_an_slo_without_canary_has_none(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD)
    assert {s.canary for s in check_paths([path]).specs} == {None}


def test_a_canary_without_label_or_service_is_a_located_problem(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "apiVersion: sloctl/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  service: cart\n"
        "  objective: 99\n  indicator: {preset: otel-http-availability}\n"
        "  canary: {canary: v2}\n"
    )
    problems = [(p.line, p.path) for p in check_paths([path]).problems]
    assert problems == [(8, "spec.canary"), (8, "spec.canary.canary")]


def test_an_invalid_label_name_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(HEAD + "  canary: {label: rollouts-pod-template-hash}\n")
    problems = check_paths([path]).problems
    assert [(p.line, p.path) for p in problems] == [(5, "spec.canary.label")]
