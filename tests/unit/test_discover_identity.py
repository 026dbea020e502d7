"""Where a series names its service, from plain label sets (sloctl.discover.identity)."""

from __future__ import annotations

from sloctl.discover.identity import (
    IdentityKind,
    Target,
    resolve,
    target_services,
)

SDK = Target("otel-app", "127.0.0.1:9464")
OTHER = Target("otel-app", "127.0.0.1:9465")


def row(**labels: str) -> dict[str, str]:
    return dict(labels)


def test_target_info_names_the_services_of_its_targets() -> None:
    info = [
        row(job="otel-app", instance="127.0.0.1:9464", service_name="checkout",
            telemetry_sdk_language="python"),
        row(job="otel-app", instance="127.0.0.1:9465", service_name="cart"),
        row(job="otel-app", instance="127.0.0.1:9466"),  # no service_name: ignored
    ]
    assert target_services(info, "service_name") == {SDK: "checkout", OTHER: "cart"}


def test_series_without_the_label_take_it_from_target_info() -> None:
    rows = [
        row(job="otel-app", instance="127.0.0.1:9464", le="0.25"),
        row(job="otel-app", instance="127.0.0.1:9464", le="+Inf"),
        row(job="otel-app", instance="127.0.0.1:9465", le="0.3"),
    ]
    found = resolve(rows, {SDK: "checkout", OTHER: "cart"}, "service_name")
    assert sorted(found.services) == ["cart", "checkout"]
    checkout = found.services["checkout"]
    assert checkout.kind is IdentityKind.TARGET_INFO
    assert checkout.label == "service_name"
    assert checkout.le_by_target == {SDK: {"0.25", "+Inf"}}
    assert found.unnamed == ()


def test_a_label_on_the_series_wins_and_job_is_the_last_resort() -> None:
    rows = [
        row(service_name="payment", job="otelcol", instance="collector:8889", le="0.3"),
        row(job="billing", instance="10.0.0.1:8080"),  # classic client: named by job
        row(job="shop/orders", instance="4f1c"),  # Prometheus' OTLP receiver
    ]
    found = resolve(rows, {}, "service_name")
    assert {s: (v.kind, v.label) for s, v in found.services.items()} == {
        "payment": (IdentityKind.LABEL, "service_name"),
        "billing": (IdentityKind.JOB, "job"),
        "shop/orders": (IdentityKind.JOB, "job"),
    }


def test_a_service_on_the_label_and_through_target_info_is_a_target_info_service() -> None:
    rows = [
        row(service_name="checkout", job="otelcol", instance="c:8889", le="1"),
        row(job="otel-app", instance="127.0.0.1:9464", le="1"),
    ]
    found = resolve(rows, {SDK: "checkout"}, "service_name")
    checkout = found.services["checkout"]
    assert checkout.kind is IdentityKind.TARGET_INFO
    assert checkout.targets == [SDK, Target("otelcol", "c:8889")]


def test_without_join_or_job_fallback_unnamed_targets_are_reported() -> None:
    rows = [row(job="otel-app", instance="127.0.0.1:9464"), row(service_name="cart", job="x",
                                                                instance="y")]
    found = resolve(rows, {SDK: "checkout"}, "service_name", join=False, job_fallback=False)
    assert list(found.services) == ["cart"]
    assert found.unnamed == (SDK,)


def test_the_job_label_itself_as_the_service_label() -> None:
    rows = [row(job="billing", instance="a:1"), row(job="billing", instance="b:1")]
    found = resolve(rows, {}, "job", join=False, job_fallback=False)
    billing = found.services["billing"]
    assert billing.kind is IdentityKind.LABEL and billing.label == "job"
    assert billing.targets == [Target("billing", "a:1"), Target("billing", "b:1")]


def test_a_name_on_the_label_wins_over_the_same_name_as_a_job() -> None:
    rows = [
        row(job="cart", instance="a:1", le="0.5"),  # named by job
        row(service_name="cart", job="otelcol", instance="c:1", le="0.3"),  # on the label
    ]
    found = resolve(rows, {}, "service_name")
    assert found.services["cart"].kind is IdentityKind.LABEL
    assert found.services["cart"].le_by_target == {Target("otelcol", "c:1"): {"0.3"}}
