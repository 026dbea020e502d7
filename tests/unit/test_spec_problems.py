"""Malformed specs: every problem is reported with its exact field path and line number."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from sloctl.errors import SpecError, SpecProblem
from sloctl.spec import load_specs, validate_paths

HEAD = "apiVersion: sloctl/v1\nkind: SLO\nmetadata:\n  name: avail\nspec:\n  service: order\n"
# Lines 1-6 are HEAD; the case bodies below start at line 7.


@dataclass(frozen=True)
class Case:
    text: str
    expected: list[tuple[str, int | None, str]]  # (field path, line, message fragment)


CASES = {
    "yaml-syntax-error": Case(
        "apiVersion: sloctl/v1\nkind: SLO\nmetadata:\n  name: [a, b\nspec: {}\n",
        [("", 5, "YAML syntax error")],
    ),
    "unknown-api-version": Case(
        "apiVersion: sloth/v1\nkind: SLO\n",
        [("apiVersion", 1, "unsupported apiVersion 'sloth/v1'; use sloctl/v1")],
    ),
    "missing-api-version-and-kind": Case(
        "metadata: {name: x}\n",
        [
            ("apiVersion", 1, "required field 'apiVersion' is missing; add apiVersion: sloctl/v1"),
            ("kind", 1, "required field 'kind' is missing; use one of SLO, ServiceSLOs"),
        ],
    ),
    "unknown-kind": Case(
        "apiVersion: sloctl/v1\nkind: Slo\n",
        [("kind", 2, "unknown kind 'Slo'; sloctl/v1 kinds are SLO, ServiceSLOs")],
    ),
    "not-a-mapping": Case("- apiVersion: sloctl/v1\n", [("", 1, "must be a mapping")]),
    "unknown-field-typo": Case(
        HEAD + "  objectve: 99\n  indicator: {preset: otel-http-availability}\n",
        [
            ("spec.objective", 5, "required field 'objective' is missing"),
            ("spec.objectve", 7, "unknown field 'objectve' (did you mean 'objective'?)"),
        ],
    ),
    "wrong-type": Case(
        HEAD + "  objective: high\n  indicator: {preset: otel-http-availability}\n",
        [("spec.objective", 7, "must be a number; got 'high'")],
    ),
    "missing-required-service": Case(
        "apiVersion: sloctl/v1\nkind: SLO\nmetadata: {name: a}\nspec:\n  objective: 99\n"
        "  indicator: {preset: otel-http-availability}\n",
        [("spec.service", 4, "required field 'service' is missing")],  # line of the parent
    ),
    "objective-out-of-range": Case(
        HEAD + "  objective: 995\n  indicator: {preset: otel-http-availability}\n",
        [
            (
                "spec.objective",
                7,
                "objective must be a percentage between 0 and 100 (exclusive), e.g. 99.5; got 995",
            )
        ],
    ),
    "bad-window": Case(
        HEAD
        + "  objective: 99\n  window: 1 month\n  indicator: {preset: otel-http-availability}\n",
        [("spec.window", 8, "invalid window '1 month'")],
    ),
    "bad-latency-threshold": Case(
        HEAD + "  objective: 99\n  indicator:\n    latency:\n      metric: rpc_seconds\n"
        "      threshold: fast\n",
        [("spec.indicator.latency.threshold", 11, "invalid latency threshold 'fast'")],
    ),
    "histogram-bucket-suffix": Case(
        HEAD + "  objective: 99\n  indicator:\n    latency: {metric: rpc_seconds_bucket, "
        "threshold: 1}\n",
        [("spec.indicator.latency.metric", 9, "without _bucket, e.g. rpc_seconds")],
    ),
    "query-without-window": Case(
        HEAD + "  objective: 99\n  indicator:\n    ratio:\n"
        "      totalQuery: sum(rate(t[5m]))\n      errorQuery: sum(rate(e[{{.window}}]))\n",
        [
            ("spec.indicator.ratio.errorQuery", 11, "(not Sloth's {{.window}})"),
            ("spec.indicator.ratio.totalQuery", 10, "query must contain {{window}}"),
        ],
    ),
    "both-error-and-good-query": Case(
        HEAD + "  objective: 99\n  indicator:\n    ratio:\n      totalQuery: t[{{window}}]\n"
        "      errorQuery: e[{{window}}]\n      goodQuery: g[{{window}}]\n",
        [("spec.indicator.ratio.goodQuery", 12, "set exactly one of errorQuery")],
    ),
    "neither-error-nor-good-query": Case(
        HEAD + "  objective: 99\n  indicator:\n    ratio:\n      totalQuery: t[{{window}}]\n",
        [("spec.indicator.ratio", 9, "set exactly one of errorQuery")],
    ),
    "structured-ratio-without-errors": Case(
        HEAD + "  objective: 99\n  indicator:\n    ratio: {metric: http_requests_total}\n",
        [("spec.indicator.ratio.errors", 9, "required: the matchers that mark bad events")],
    ),
    "no-indicator-kind": Case(
        HEAD + "  objective: 99\n  indicator: {selector: {a: b}}\n",
        [("spec.indicator", 8, "set exactly one of preset, ratio or latency; got none")],
    ),
    "two-indicator-kinds": Case(
        HEAD + "  objective: 99\n  indicator:\n    preset: otel-http-latency\n"
        "    latency: {metric: x, threshold: 1}\n",
        [("spec.indicator", 8, "got preset and latency")],
    ),
    "threshold-on-availability-preset": Case(
        HEAD + "  objective: 99\n  indicator:\n    preset: otel-http-availability\n"
        "    threshold: 300ms\n",
        [("spec.indicator.threshold", 10, "threshold only applies to latency presets")],
    ),
    "unknown-indicator-preset": Case(
        HEAD + "  objective: 99\n  indicator: {preset: otel-availability}\n",
        [("spec.indicator.preset", 8, "valid presets: otel-http-availability, otel-http-latency")],
    ),
    "invalid-label-names": Case(
        HEAD + "  objective: 99\n  serviceLabel: service-name\n  indicator:\n"
        "    preset: otel-http-availability\n    selector:\n      http-route: /api\n",
        [
            ("spec.indicator.selector.http-route", 12, "invalid label name 'http-route'"),
            ("spec.serviceLabel", 8, "invalid label name 'service-name'"),
        ],
    ),
    "bad-selector-values": Case(
        HEAD + "  objective: 99\n  indicator:\n    preset: otel-http-availability\n"
        "    selector:\n      a: {like: x}\n      b: {regex: '(('}\n",
        [
            ("spec.indicator.selector.a", 11, "a selector value is a string (equality)"),
            ("spec.indicator.selector.b", 12, "invalid regular expression '(('"),
        ],
    ),
    "bad-metadata": Case(
        "apiVersion: sloctl/v1\nkind: SLO\nmetadata:\n  name: Order_Avail\n"
        "  labels: {tier: 1}\nspec: {service: a, objective: 99, indicator: {preset: "
        "otel-http-availability}}\n",
        [
            ("metadata.labels.tier", 5, "must be a string; quote the value in YAML; got 1"),
            ("metadata.name", 4, "invalid name 'Order_Avail'"),
        ],
    ),
    "duplicate-yaml-key": Case(
        HEAD + "  objective: 99\n  objective: 98\n  indicator: {preset: otel-http-availability}\n",
        [("spec.objective", 8, "key appears twice in this mapping")],
    ),
    "service-slos-problems": Case(
        "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec:\n  preset: otel\n  services:\n"
        "    - order\n    - 7\n    - inventory\n  latency: {threshold: 0}\n",
        [
            ("spec.latency.threshold", 9, "latency threshold must be positive"),
            ("spec.preset", 4, "unknown preset 'otel'"),
            ("spec.services[1]", 7, "must be a string"),
        ],
    ),
    "service-listed-twice": Case(
        "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec:\n  services: [a, b, a]\n",
        [("spec.services[2]", 4, "service 'a' is listed twice (also spec.services[0])")],
    ),
    "second-document-lines-count-from-file-start": Case(
        "apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec: {services: [a]}\n---\n"
        + HEAD
        + "  objective: 0\n  indicator: {preset: otel-http-availability}\n",
        [("spec.objective", 11, "got 0")],
    ),
    "empty-file": Case("# nothing here\n", [("", None, "file has no SLO documents")]),
}


@pytest.mark.parametrize("case", [pytest.param(c, id=name) for name, c in CASES.items()])
def test_problem_is_located(tmp_path: Path, case: Case) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text(case.text)
    _, problems = validate_paths([path])
    got = sorted((p.path, p.line) for p in problems)
    assert got == sorted((path_, line) for path_, line, _ in case.expected)
    by_place = {(p.path, p.line): p for p in problems}
    for field, line, fragment in case.expected:
        problem = by_place[(field, line)]
        assert problem.file == str(path)
        assert fragment in problem.message
    with pytest.raises(SpecError) as excinfo:
        load_specs([path])
    assert excinfo.value.problems == problems


def write_bad(folder: Path, name: str) -> Path:
    path = folder / name
    path.write_text(
        HEAD + "  objective: 100\n  window: 28x\n  indicator: {preset: otel-http-availability}\n"
    )
    return path


def test_load_specs_reports_all_problems_of_all_files_and_returns_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: sloctl/v1\nkind: ServiceSLOs\nspec: {services: [ok]}\n")
    first, second = write_bad(tmp_path, "a.yaml"), write_bad(tmp_path, "b.yaml")
    with pytest.raises(SpecError) as excinfo:
        load_specs([good, first, second])
    assert [(p.file, p.path, p.line) for p in excinfo.value.problems] == [
        (str(first), "spec.objective", 7),
        (str(first), "spec.window", 8),
        (str(second), "spec.objective", 7),
        (str(second), "spec.window", 8),
    ]
    assert excinfo.value.exit_code == 2
    assert str(excinfo.value).splitlines()[0] == (
        f"{first}:7: spec.objective: objective must be a percentage between 0 and 100 "
        "(exclusive), e.g. 99.5; got 100"
    )


def test_duplicate_slo_ids_across_files_report_both_places(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text(
        textwrap.dedent("""\
        apiVersion: sloctl/v1
        kind: ServiceSLOs
        spec:
          services: [order]
          latency: {enabled: false}
        """)
    )
    two = tmp_path / "two.yaml"
    two.write_text(
        textwrap.dedent("""\
        # the same SLO again
        apiVersion: sloctl/v1
        kind: SLO
        metadata:
          name: availability
        spec:
          service: order
          objective: 99
          indicator: {preset: otel-http-availability}
        """)
    )
    _, problems = validate_paths([one, two])
    assert problems == [
        SpecProblem(
            str(one),
            "spec.services[0]",
            4,
            f"duplicate SLO id 'order/availability' (service/name), also defined at {two}:5; "
            "SLO ids must be unique, rename or remove one",
        ),
        SpecProblem(
            str(two),
            "metadata.name",
            5,
            f"duplicate SLO id 'order/availability' (service/name), also defined at {one}:4; "
            "SLO ids must be unique, rename or remove one",
        ),
    ]


def test_missing_empty_folder_and_binary_file(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    binary = tmp_path / "bin.yaml"
    binary.write_bytes(b"\xff\xfe\x00bad")
    _, problems = validate_paths([tmp_path / "nope.yaml", tmp_path / "empty", binary])
    assert [(p.file, p.path, p.line, p.message) for p in problems] == [
        (str(tmp_path / "nope.yaml"), "", None, "no such file or folder; check the path"),
        (str(tmp_path / "empty"), "", None, "folder has no *.yaml or *.yml spec files"),
        (str(binary), "", None, "not UTF-8 text; save the file as UTF-8"),
    ]


def test_unsafe_yaml_tags_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "evil.yaml"
    path.write_text("apiVersion: !!python/object/apply:os.system ['true']\n")
    _, problems = validate_paths([path])
    assert [(p.path, p.line) for p in problems] == [("", 1)]
    assert "could not determine a constructor" in problems[0].message
