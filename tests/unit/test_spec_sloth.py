"""Sloth specs (``version: prometheus/v1`` and the ``PrometheusServiceLevel`` CRD) load into
resolved SLOs with known values; every problem is located by file, line and field."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from sloctl.spec.loader import check_paths, load_specs, validate_paths
from sloctl.spec.models import QueryRatio, SLOSpec, Window

CLI = """\
version: prometheus/v1
service: checkout
labels:
  team: shop
  tier: "2"
slos:
  - name: requests-availability
    objective: 99.9
    description: Requests answered without a 5xx.
    labels:
      tier: "1"
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="checkout"}[{{ .window }}]))
    alerting:
      name: CheckoutHighErrorRate
      page_alert:
        labels: {severity: critical}
      ticket_alert:
        disable: true
        labels: {severity: warning}
  - name: ratio
    objective: 99
    sli:
      raw:
        error_ratio_query: job:errors:ratio_rate{{.window}}
    alerting:
      page_alert: {disable: true}
      ticket_alert: {disable: true}
"""

CRD = """\
apiVersion: sloth.slok.dev/v1
kind: PrometheusServiceLevel
metadata:
  name: search
  namespace: shop
spec:
  service: search
  slos:
    - name: availability
      objective: 99.5
      sli:
        events:
          errorQuery: sum(rate(http_requests_total{job="search",code=~"5.."}[{{.window}}]))
          totalQuery: sum(rate(http_requests_total{job="search"}[{{.window}}]))
      alerting:
        name: SearchErrors
        pageAlert: {disable: false}
"""


def write(tmp_path: Path, text: str, name: str = "slos.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def problems_of(path: Path) -> list[tuple[int | None, str, str]]:
    _, problems = validate_paths([path])
    return [(p.line, p.path, p.message) for p in problems]


def test_cli_format_maps_every_field(tmp_path: Path) -> None:
    path = write(tmp_path, CLI)
    availability, ratio = load_specs([path])
    assert availability == SLOSpec(
        service="checkout",
        name="requests-availability",
        objective=99.9,
        window=Window(30 * 86400),
        service_label="service",
        indicator=QueryRatio(
            total='sum(rate(http_requests_total{job="checkout"}[{{window}}]))',
            bad='sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{window}}]))',
            good=None,
            ungrouped=True,
        ),
        labels=(("team", "shop"), ("tier", "1")),  # the SLO's labels win over the group's
        alerting=True,
        description="Requests answered without a 5xx.",
        spec_format="prometheus/v1",
        source=str(path),
        line=7,
    )
    assert ratio.indicator == QueryRatio(
        total="count((job:errors:ratio_rate{{window}}) >= 0)",
        bad="(job:errors:ratio_rate{{window}}) >= 0",
        good=None,
        ungrouped=True,
    )
    assert ratio.alerting is False  # both severities disabled
    assert ratio.line == 23


def test_one_disabled_severity_is_a_located_warning(tmp_path: Path,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    path = write(tmp_path, CLI)
    check = check_paths([path])
    assert check.problems == []
    [warning] = check.warnings
    assert (warning.line, warning.path) == (21, "slos[0].alerting.ticket_alert.disable")
    assert "keeps both the page and the ticket burn-rate alerts" in warning.message
    with caplog.at_level(logging.WARNING, logger="sloctl.spec.loader"):
        validate_paths([path])
    assert caplog.messages == [f"warning: {warning}"]


def test_crd_reads_camel_case_fields(tmp_path: Path) -> None:
    path = write(tmp_path, CRD)
    [slo] = load_specs([path])
    assert (slo.slo_id, slo.objective, slo.window, slo.line) == (
        "search/availability", 99.5, Window(30 * 86400), 9)
    assert slo.spec_format == "sloth.slok.dev/v1"
    assert slo.indicator == QueryRatio(
        total='sum(rate(http_requests_total{job="search"}[{{window}}]))',
        bad='sum(rate(http_requests_total{job="search",code=~"5.."}[{{window}}]))',
        good=None,
        ungrouped=True,
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            CLI.replace("[{{.window}}]))\n        total", "[5m]))\n        total"),
            (14, "slos[0].sli.events.error_query", "query must contain {{.window}}"),
            id="no-window",
        ),
        pytest.param(
            CRD.replace('errorQuery: sum(rate(http_requests_total{job="search",code=~"5.."}',
                        'errorQuery: sum(rate(http_requests_total{job="search"}'),
            (13, "spec.slos[0].sli.events.errorQuery",
             "error_query and total_query are the same query"),
            id="same-queries",
        ),
        pytest.param(
            CRD.replace("totalQuery:", "totlQuery:"),
            (14, "spec.slos[0].sli.events.totlQuery",
             "unknown field 'totlQuery' (did you mean 'totalQuery'?)"),
            id="typo-camel-case",
        ),
        pytest.param(
            CLI.replace("      raw:\n        error_ratio_query: job:errors:ratio_rate{{.window}}",
                        "      plugin:\n        id: sloth-common/availability\n"
                        "        options: {job: x}"),
            (26, "slos[1].sli.plugin", "Sloth SLI plugins (sloth-common/availability) are not "
                                       "supported"),
            id="sli-plugin",
        ),
        pytest.param(
            CLI.replace("slos:\n", "slo_plugins:\n  chain: [{id: x}]\nslos:\n", 1),
            (6, "slo_plugins", "Sloth SLO plugins are not supported"),
            id="slo-plugins",
        ),
        pytest.param(
            CLI.replace("    sli:\n      raw:", "    sli:\n      events: {}\n      raw:"),
            (25, "slos[1].sli", "set exactly one of events (error_query and total_query) or raw"),
            id="events-and-raw",
        ),
        pytest.param(
            CLI.replace("objective: 99.9", "objective: 100"),
            (8, "slos[0].objective", "objective must be a percentage between 0 and 100"),
            id="objective-100",
        ),
        pytest.param(
            CLI.replace("requests-availability", "Requests_Availability"),
            (7, "slos[0].name", "invalid name 'Requests_Availability'"),
            id="name",
        ),
        pytest.param(
            CLI.replace("version: prometheus/v1", "version: prometheus/v2"),
            (1, "version", "unsupported Sloth version 'prometheus/v2'; use prometheus/v1"),
            id="version",
        ),
        pytest.param(
            CRD.replace("kind: PrometheusServiceLevel", "kind: ServiceLevel"),
            (2, "kind", "unknown kind 'ServiceLevel'; sloth.slok.dev/v1 has kind: "
                        "PrometheusServiceLevel"),
            id="crd-kind",
        ),
        pytest.param(
            CLI.replace("    labels:\n      tier: \"1\"", "    labels:\n      tier-x: \"1\""),
            (11, "slos[0].labels.tier-x", "invalid label name 'tier-x'"),
            id="label-name",
        ),
    ],
)
def test_problems_are_located(tmp_path: Path, text: str,
                              expected: tuple[int, str, str]) -> None:
    problems = problems_of(write(tmp_path, text))
    line, path, fragment = expected
    assert [(p[0], p[1]) for p in problems] == [(line, path)], problems
    assert fragment in problems[0][2]
