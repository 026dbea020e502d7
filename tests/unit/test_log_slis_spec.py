"""The ``logs`` indicator of sloctl/v1 specs: it loads as ``LogRatio``; problems are located."""

from __future__ import annotations

from pathlib import Path

import pytest

from sloctl.spec import LogRatio, Matcher, load_specs, validate_paths

HEAD = (
    "apiVersion: sloctl/v1\nkind: SLO\nmetadata:\n  name: log-errors\nspec:\n  service: checkout\n"
)
# Lines 1-6 are HEAD, line 7 the objective; the bodies below start at line 8.


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "slo.yaml"
    path.write_text(HEAD + "  objective: 99.5\n" + body)
    return path


def test_logs_indicator_loads(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  indicator:\n    logs:\n      selector: {env: prod, app: {regex: 'shop-.+'}}\n"
        "      errorFilter: level=error\n",
    )
    [spec] = load_specs([path])
    assert spec.indicator == LogRatio(
        (Matcher("app", "=~", "shop-.+"), Matcher("env", "=", "prod")), "level=error", None
    )
    assert spec.service_label == "service_name"  # Loki's label for OTLP service.name
    assert spec.indicator_kind == "logs"
    assert spec.slo_id == "checkout/log-errors"


def test_logs_indicator_regex_and_own_service_label(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "  serviceLabel: app\n  indicator:\n    logs: {errorRegex: 'level=(error|fatal)'}\n",
    )
    [spec] = load_specs([path])
    assert spec.indicator == LogRatio((), None, "level=(error|fatal)")
    assert spec.service_label == "app"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "  indicator:\n    logs: {selector: {env: prod}}\n",
            ("spec.indicator.logs", 9, "set exactly one of errorFilter"),
        ),
        (
            "  indicator:\n    logs:\n      errorFilter: error\n      errorRegex: err.*\n",
            ("spec.indicator.logs.errorRegex", 11, "set exactly one of errorFilter"),
        ),
        (
            "  indicator:\n    logs:\n      errorFilter: ''\n",
            ("spec.indicator.logs.errorFilter", 10, "a line filter cannot be empty"),
        ),
        (
            "  indicator:\n    logs:\n      errorRegex: 'error(?!s)'\n",
            ("spec.indicator.logs.errorRegex", 10, "Loki's RE2 engine does not support"),
        ),
        (
            "  indicator:\n    logs:\n      errorRegex: '(('\n",
            ("spec.indicator.logs.errorRegex", 10, "invalid regular expression"),
        ),
        (
            "  indicator:\n    logs:\n      selector: {bad-label: x}\n      errorFilter: e\n",
            ("spec.indicator.logs.selector.bad-label", 10, "invalid label name"),
        ),
        (
            "  indicator:\n    preset: otel-http-availability\n    logs: {errorFilter: e}\n",
            ("spec.indicator", 8, "got preset and logs"),
        ),
    ],
    ids=[
        "no-filter",
        "both-filters",
        "empty-filter",
        "lookahead",
        "bad-regex",
        "bad-label",
        "two-kinds",
    ],
)
def test_problems_are_located(tmp_path: Path, body: str, expected: tuple[str, int, str]) -> None:
    specs, problems = validate_paths([write(tmp_path, body)])
    assert specs == []
    assert [(p.path, p.line) for p in problems] == [expected[:2]]
    assert expected[2] in problems[0].message
