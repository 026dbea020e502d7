"""OpenSLO v1 documents load into resolved SLOs with known values, across a file set; what is
not supported is a located problem, what is accepted and ignored a located warning."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sloctl.spec.loader import check_paths, load_specs, validate_paths
from sloctl.spec.models import QueryRatio, SLOSpec, Window

SLI_FILE = """\
apiVersion: openslo/v1
kind: SLI
metadata:
  name: api-good-requests
spec:
  description: Requests without a 5xx.
  ratioMetric:
    counter: true
    good:
      metricSource:
        metricSourceRef: prom
        spec:
          query: sum(http_requests_total{job="api",code!~"5.."})
    total:
      metricSource:
        type: Prometheus
        spec:
          query: http_requests_total{job="api"}
---
apiVersion: openslo/v1
kind: DataSource
metadata:
  name: prom
spec:
  type: Prometheus
  connectionDetails: {url: "http://prometheus:9090"}
"""

SLO_FILE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-availability
  labels:
    team: [core, web]
    app.kubernetes.io/name: api
spec:
  service: api
  indicatorRef: api-good-requests
  timeWindow:
    - duration: 4w
      isRolling: true
  budgetingMethod: Occurrences
  objectives:
    - displayName: Strict
      target: 0.999
    - targetPercent: 99
  alertPolicies: [page]
---
apiVersion: openslo/v1
kind: SLO
metadata:
  name: api-latency
spec:
  description: Requests within 300 ms, per calendar month.
  service: api
  indicator:
    metadata:
      name: api-fast
    spec:
      ratioMetric:
        bad:
          metricSource:
            type: prometheus
            spec:
              query: |
                sum(rate(latency_count{job="api"}[{{window}}]))
                - sum(rate(latency_bucket{job="api",le="0.3"}[{{.window}}]))
        total:
          metricSource:
            type: Prometheus
            spec:
              query: sum(rate(latency_count{job="api"}[{{window}}]))
  timeWindow:
    - duration: 1M
      calendar: {startTime: 2025-01-01 00:00:00, timeZone: Europe/Paris}
  budgetingMethod: Occurrences
  objectives:
    - target: 0.95
      op: lte
      value: 0.3
---
apiVersion: openslo/v1
kind: AlertPolicy
metadata:
  name: page
spec:
  conditions: [{conditionRef: fast}]
  notificationTargets: [{targetRef: oncall}]
"""


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def test_slos_of_a_file_set(tmp_path: Path) -> None:
    write(tmp_path, "a_slis.yaml", SLI_FILE)
    slos = write(tmp_path, "b_slos.yaml", SLO_FILE)
    strict, loose, latency = load_specs([tmp_path])
    good_total = QueryRatio(
        total='sum(increase(http_requests_total{job="api"}[{{window}}]))',
        bad=None,
        good='sum(increase(http_requests_total{job="api",code!~"5.."}[{{window}}]))',
        ungrouped=True,
    )
    assert strict == SLOSpec(
        service="api",
        name="api-availability-strict",  # several objectives: one SLO each
        objective=99.9,
        window=Window(28 * 86400),
        service_label="service",
        indicator=good_total,
        labels=(("team", "core,web"),),
        description="Requests without a 5xx.",  # the SLI's, the SLO has none
        spec_format="openslo/v1",
        source=str(slos),
        line=16,
    )
    assert (loose.name, loose.objective, loose.line) == ("api-availability-1", 99.0, 18)
    assert latency.slo_id == "api/api-latency"
    assert latency.window == Window(None, "month")
    assert (latency.objective, latency.line, latency.description) == (
        95.0, 24, "Requests within 300 ms, per calendar month.")
    assert latency.indicator == QueryRatio(
        total='sum(rate(latency_count{job="api"}[{{window}}]))',
        bad='sum(rate(latency_count{job="api"}[{{window}}]))\n'
            '- sum(rate(latency_bucket{job="api",le="0.3"}[{{window}}]))',
        good=None,
        ungrouped=True,
    )


def test_what_is_ignored_is_a_located_warning(tmp_path: Path) -> None:
    write(tmp_path, "a_slis.yaml", SLI_FILE)
    write(tmp_path, "b_slos.yaml", SLO_FILE)
    check = check_paths([tmp_path])
    assert check.problems == []
    warnings = [(Path(w.file).name, w.line, w.path, w.message.split(":")[0])
                for w in check.warnings]
    assert warnings == [
        ("a_slis.yaml", 24, "spec", "DataSource 'prom' is accepted, its connection details are "
                                    "ignored"),
        ("b_slos.yaml", 7, "metadata.labels.app.kubernetes.io/name",
         "label 'app.kubernetes.io/name' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, "
         "not starting with __); not kept"),
        ("b_slos.yaml", 19, "spec.alertPolicies", "alertPolicies are ignored"),
        ("b_slos.yaml", 47, "spec.timeWindow[0].calendar", "calendar.startTime and timeZone are "
                                                           "not used"),
        ("b_slos.yaml", 51, "spec.objectives[0].op", "op and value apply to thresholdMetric SLIs "
                                                     "only; ignored"),
        ("b_slos.yaml", 55, "kind", "kind AlertPolicy is accepted and ignored"),
    ]


def test_no_time_window_is_sloctls_default(tmp_path: Path) -> None:
    text = SLO_FILE.split("---")[0].replace(
        "  timeWindow:\n    - duration: 4w\n      isRolling: true\n", "")
    write(tmp_path, "a_slis.yaml", SLI_FILE)
    write(tmp_path, "b_slos.yaml", text)
    assert {s.window for s in load_specs([tmp_path])} == {Window(28 * 86400)}


LATENCY = SLO_FILE.split("---")[1].lstrip("\n")  # lines 1-32 (21-52 of SLO_FILE): api-latency


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        pytest.param("budgetingMethod: Occurrences", "budgetingMethod: Timeslices",
                     (28, "spec.budgetingMethod",
                      "budgetingMethod Timeslices is not supported: sloctl counts events"),
                     id="timeslices"),
        pytest.param("budgetingMethod: Occurrences", "budgetingMethod: RatioTimeslices",
                     (28, "spec.budgetingMethod", "budgetingMethod RatioTimeslices is not"),
                     id="ratio-timeslices"),
        pytest.param("      ratioMetric:\n        bad:",
                     "      thresholdMetric:\n        metricSource: {type: Prometheus, spec: "
                     "{query: up}}\n      ratioMetric:\n        bad:",
                     (12, "spec.indicator.spec.thresholdMetric",
                      "thresholdMetric SLIs are not supported"),
                     id="threshold-metric"),
        pytest.param("duration: 1M", "duration: 1w",
                     (26, "spec.timeWindow[0].duration",
                      "calendar windows other than the month (1M) are not supported"),
                     id="calendar-week"),
        pytest.param("      calendar: {startTime: 2025-01-01 00:00:00, timeZone: Europe/Paris}",
                     "      isRolling: true",
                     (26, "spec.timeWindow[0].duration", "a rolling window needs a fixed length"),
                     id="rolling-month"),
        pytest.param("type: prometheus", "type: Datadog",
                     (15, "spec.indicator.spec.ratioMetric.bad.metricSource.type",
                      "only Prometheus metric sources are supported; got 'Datadog'"),
                     id="datadog"),
        pytest.param('query: sum(rate(latency_count{job="api"}[{{window}}]))\n',
                     'query: sum(rate(latency_count{job="api"}[5m]))\n',
                     (24, "spec.indicator.spec.ratioMetric.total.metricSource.spec.query",
                      "cannot tell how to count this query over a window"),
                     id="no-window-not-a-counter"),
        pytest.param("    - target: 0.95", "    - target: 95",
                     (30, "spec.objectives[0].target", "target must be a ratio between 0 and 1"),
                     id="target-percent-as-ratio"),
        pytest.param("    - target: 0.95", "    - target: 0.95\n      targetPercent: 95",
                     (30, "spec.objectives[0]", "set exactly one of target"),
                     id="target-and-percent"),
        pytest.param("  indicator:\n", "  indicatorRef: nowhere\n  indicator:\n",
                     (5, "spec", "set exactly one of indicator (inline SLI) or indicatorRef"),
                     id="indicator-and-ref"),
        pytest.param("kind: SLO", "kind: Objective",
                     (2, "kind", "unknown kind 'Objective'; openslo/v1 kinds are SLO, SLI"),
                     id="kind"),
        pytest.param("apiVersion: openslo/v1", "apiVersion: openslo/v1alpha",
                     (1, "apiVersion", "unsupported apiVersion 'openslo/v1alpha'; use sloctl/v1, "
                                       "openslo/v1 or sloth.slok.dev/v1"),
                     id="v1alpha"),
    ],
)
def test_problems_are_located(tmp_path: Path, old: str, new: str,
                              expected: tuple[int, str, str]) -> None:
    assert old in LATENCY
    path = write(tmp_path, "slo.yaml", LATENCY.replace(old, new))
    _, problems = validate_paths([path])
    line, field, fragment = expected
    assert [(p.line, p.path) for p in problems] == [(line, field)], problems
    assert fragment in problems[0].message


def test_counter_false_needs_the_range_in_the_query(tmp_path: Path) -> None:
    text = SLI_FILE.replace("counter: true", "counter: false")
    write(tmp_path, "a_slis.yaml", text)
    write(tmp_path, "b_slos.yaml", SLO_FILE)
    _, problems = validate_paths([tmp_path])
    assert [(Path(p.file).name, p.line, p.path) for p in problems] == [
        ("a_slis.yaml", 13, "spec.ratioMetric.good.metricSource.spec.query"),
        ("a_slis.yaml", 18, "spec.ratioMetric.total.metricSource.spec.query"),
    ]  # once each, although two objectives read the SLI
    assert "counter: false (a gauge of events per interval)" in problems[0].message


def test_a_missing_or_duplicate_sli_is_located(tmp_path: Path) -> None:
    write(tmp_path, "b_slos.yaml", SLO_FILE)
    _, problems = validate_paths([tmp_path])
    assert [(p.line, p.path) for p in problems] == [(10, "spec.indicatorRef")]
    assert "indicatorRef 'api-good-requests' names no SLI in the loaded files" in (
        problems[0].message)
    write(tmp_path, "a_slis.yaml", SLI_FILE)
    write(tmp_path, "c_slis.yaml", SLI_FILE.split("---")[0])
    _, problems = validate_paths([tmp_path])
    assert [(Path(p.file).name, p.line, p.path) for p in problems] == [
        ("a_slis.yaml", 4, "metadata.name"),
        ("b_slos.yaml", 10, "spec.indicatorRef"),
        ("c_slis.yaml", 4, "metadata.name"),
    ]
    assert f"SLI 'api-good-requests' is defined twice (also at {tmp_path}/c_slis.yaml:4)" in (
        problems[0].message)


MIXED = """\
apiVersion: sloctl/v1
kind: SLO
metadata: {name: availability}
spec:
  service: api
  objective: 99
  indicator: {ratio: {metric: http_requests_total, errors: {code: {regex: "5.."}}}}
---
version: prometheus/v1
service: api
slos:
  - name: availability
    objective: 99.5
    sli:
      events:
        error_query: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total[{{.window}}]))
    alerting: {name: A}
---
apiVersion: openslo/v1
kind: SLO
metadata: {name: latency}
spec:
  service: api
  budgetingMethod: Occurrences
  objectives: [{target: 2}]
  indicator:
    metadata: {name: x}
    spec: {thresholdMetric: {metricSource: {type: Prometheus, spec: {query: up}}}}
"""


def test_a_file_mixes_formats_and_ids_are_unique_across_them(tmp_path: Path) -> None:
    path = write(tmp_path, "mixed.yaml", MIXED)
    _, problems = validate_paths([path])
    assert [(p.line, p.path, p.message.split(";")[0]) for p in problems] == [
        (3, "metadata.name", "duplicate SLO id 'api/availability' (service/name), also defined "
                             f"at {path}:12"),
        (12, "slos[0].name", "duplicate SLO id 'api/availability' (service/name), also defined "
                             f"at {path}:3"),
        (26, "spec.objectives[0].target", "target must be a ratio between 0 and 1 (exclusive), "
                                          "e.g. 0.995"),
        (29, "spec.indicator.spec.thresholdMetric", "thresholdMetric SLIs are not supported: "
                                                    "they are judged per time slice (Timeslices "
                                                    "budgets)"),
    ]
