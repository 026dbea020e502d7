"""Loading valid sloctl/v1 specs: shorthand expansion, windows, indicators, file discovery."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest

from sloctl.spec import (
    HistogramLatency,
    Matcher,
    MetricRatio,
    QueryRatio,
    SLOSpec,
    Window,
    load_specs,
)

REPO = Path(__file__).resolve().parents[2]
OTEL_ERRORS = (Matcher("http_response_status_code", "=~", "5.."),)


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_service_slos_shorthand_expands_to_two_slos_per_service(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "shop.yaml",
        """\
        apiVersion: sloctl/v1
        kind: ServiceSLOs
        metadata:
          labels: {team: shop}
        spec:
          preset: otel-http
          services:
            - order
            - inventory
          window: 4w
          availability: {objective: 99.9}
          latency: {objective: 90, threshold: 500ms}
        """,
    )
    specs = load_specs([path])
    availability = MetricRatio("http_server_request_duration_seconds_count", (), OTEL_ERRORS)
    latency = HistogramLatency("http_server_request_duration_seconds", (), 0.5)
    order = SLOSpec(
        service="order",
        name="availability",
        objective=99.9,
        window=Window(2419200),
        service_label="service_name",
        indicator=availability,
        labels=(("team", "shop"),),
        service_from_target_info=True,  # otel-http: the label, else from target_info
        preset="otel-http",
        alerting=True,
        description="99.9% of order requests succeed",
        source=str(path),
        line=8,
    )
    inventory = replace(
        order, service="inventory", description="99.9% of inventory requests succeed", line=9
    )
    assert specs == [
        order,
        replace(
            order,
            name="latency",
            objective=90.0,
            indicator=latency,
            description="90% of order requests take at most 0.5s",
        ),
        inventory,
        replace(
            inventory,
            name="latency",
            objective=90.0,
            indicator=latency,
            description="90% of inventory requests take at most 0.5s",
        ),
    ]


def test_shorthand_defaults_and_disabled_latency(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        """\
        apiVersion: sloctl/v1
        kind: ServiceSLOs
        spec:
          preset: prometheus-http
          services: [cart]
          latency: {enabled: false}
          alerting: {enabled: false}
        """,
    )
    [slo] = load_specs([path])
    assert (slo.slo_id, slo.objective, slo.window, slo.service_label, slo.alerting) == (
        "cart/availability",
        99.5,
        Window(2419200),
        "job",
        False,
    )
    assert slo.indicator == MetricRatio("http_requests_total", (), (Matcher("code", "=~", "5.."),))


def test_shorthand_default_latency_is_95_percent_within_300ms(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec: {services: [a]}\n"
    )
    slos = {slo.name: slo for slo in load_specs([path])}
    assert slos["latency"].objective == 95.0
    assert slos["latency"].indicator == HistogramLatency(
        "http_server_request_duration_seconds", (), 0.3
    )
    assert slos["availability"].objective == 99.5


def test_explicit_slo_with_calendar_window_and_structured_ratio(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "pay.yaml",
        """\
        # payment availability
        apiVersion: sloctl/v1
        kind: SLO
        metadata:
          name: charge-availability
          labels: {tier: "1", team: payments}
        spec:
          service: payment
          description: charges succeed
          objective: 99.95
          window: calendar-month
          indicator:
            ratio:
              metric: http_requests_total
              selector: {route: /charge, method: {not: GET}, env: {regex: "prod|live"}}
              errors: {code: {regex: "5.."}, reason: {notRegex: "client_.*"}}
          alerting: {enabled: false}
        """,
    )
    assert load_specs([path]) == [
        SLOSpec(
            service="payment",
            name="charge-availability",
            objective=99.95,
            window=Window(None, "month"),
            service_label="service",
            indicator=MetricRatio(
                "http_requests_total",
                (
                    Matcher("env", "=~", "prod|live"),
                    Matcher("method", "!=", "GET"),
                    Matcher("route", "=", "/charge"),
                ),
                (Matcher("code", "=~", "5.."), Matcher("reason", "!~", "client_.*")),
            ),
            labels=(("team", "payments"), ("tier", "1")),
            alerting=False,
            description="charges succeed",
            source=str(path),
            line=5,
        )
    ]


@pytest.mark.parametrize(
    ("ratio", "expected"),
    [
        pytest.param(
            "{totalQuery: 'sum by (service) (rate(t[{{window}}]))', "
            "errorQuery: 'sum by (service) (rate(e[{{window}}]))'}",
            QueryRatio(
                "sum by (service) (rate(t[{{window}}]))",
                "sum by (service) (rate(e[{{window}}]))",
                None,
            ),
            id="error-query",
        ),
        pytest.param(
            "{totalQuery: 'sum by (service) (rate(t[{{window}}]))', "
            "goodQuery: 'sum by (service) (rate(g[{{window}}]))'}",
            QueryRatio(
                "sum by (service) (rate(t[{{window}}]))",
                None,
                "sum by (service) (rate(g[{{window}}]))",
            ),
            id="good-query",
        ),
    ],
)
def test_raw_query_ratio(tmp_path: Path, ratio: str, expected: QueryRatio) -> None:
    path = write(
        tmp_path,
        "q.yaml",
        f"""\
        apiVersion: sloctl/v1
        kind: SLO
        metadata: {{name: queue}}
        spec:
          service: worker
          objective: 99
          window: 7d
          indicator:
            ratio: {ratio}
        """,
    )
    [slo] = load_specs([path])
    assert slo.indicator == expected
    assert slo.indicator_kind == "query"
    assert slo.window == Window(604800)


def test_explicit_latency_histogram(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "l.yaml",
        """\
        apiVersion: sloctl/v1
        kind: SLO
        metadata: {name: search-latency}
        spec:
          service: search
          objective: 99
          indicator:
            latency: {metric: rpc_duration_seconds, threshold: 0.75, selector: {rpc: Find}}
        """,
    )
    [slo] = load_specs([path])
    assert slo.indicator == HistogramLatency(
        "rpc_duration_seconds", (Matcher("rpc", "=", "Find"),), 0.75
    )
    assert slo.window == Window(28 * 86400)  # default window


def test_folders_are_searched_recursively_sorted_and_files_deduplicated(tmp_path: Path) -> None:
    slo = "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec: {{services: [{}]}}\n"
    b = write(tmp_path, "specs/b.yaml", slo.format("b"))
    write(tmp_path, "specs/nested/a.yml", slo.format("a"))
    write(tmp_path, "specs/c.yaml", slo.format("c"))
    write(tmp_path, "specs/notes.txt", "not a spec")
    specs = load_specs([tmp_path / "specs", b])
    assert [s.slo_id for s in specs] == [
        "b/availability",
        "b/latency",
        "c/availability",
        "c/latency",
        "a/availability",
        "a/latency",
    ]


def test_objective_ratio_and_budget_are_exact() -> None:
    slo = SLOSpec("s", "n", 99.9, Window(3600), "service", QueryRatio("t", "b", None))
    assert (slo.objective_ratio, slo.error_budget, slo.slo_id) == (0.999, 0.001, "s/n")
    assert Window(2419200).name == "28d"
    assert Window(None, "month").name == "calendar-month"


def test_demo_shop_specs() -> None:
    demo = REPO / "sloctl" / "demo" / "specs" / "shop.yaml"
    specs = load_specs([demo])
    services = ["order", "inventory", "payment", "notification", "user"]
    expected_ids = [f"{s}/{n}" for s in services for n in ("availability", "latency")]
    assert [s.slo_id for s in specs] == [*expected_ids, "order/checkout-latency"]
    checkout = specs[-1]
    assert checkout.window == Window(None, "month")
    assert checkout.objective == 99.0
    assert checkout.indicator == HistogramLatency(
        "http_server_request_duration_seconds",
        (Matcher("http_request_method", "=", "GET"),),
        1.0,
    )
    assert {s.service_label for s in specs} == {"service_name"}
    assert (REPO / "rules" / "slos" / "shop.yaml").read_text() == demo.read_text()
