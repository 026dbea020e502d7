"""Rule generation from tiny specs: exact names, labels and PromQL expressions."""

from __future__ import annotations

import pytest

from sloctl.rulegen import RuleGenError, default_alert_group, plan_files, slo_groups
from sloctl.rulegen.model import Group, Rule
from sloctl.settings import Settings
from sloctl.sources import promql
from sloctl.spec.models import HistogramLatency, Matcher, MetricRatio, QueryRatio, SLOSpec, Window

SETTINGS = Settings()
IDS = 'sloth_id="api-avail",sloth_service="api",sloth_slo="avail"'


def ratio_spec(**changes: object) -> SLOSpec:
    fields: dict[str, object] = {
        "service": "api",
        "name": "avail",
        "objective": 99.9,
        "window": Window(seconds=7 * 86400),
        "service_label": "job",
        "indicator": MetricRatio(
            "http_requests_total", (Matcher("route", "=", "/x"),), (Matcher("code", "=~", "5.."),)
        ),
        "labels": (("team", "a"),),
        "source": "specs/api.yaml",
    }
    fields.update(changes)
    return SLOSpec(**fields)  # type: ignore[arg-type]


def rules_of(groups: list[Group], name: str) -> dict[str, Rule]:
    group = next(g for g in groups if g.name == name)
    return {r.name: r for r in group.rules}


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        pytest.param(300, "5m", id="5m"),
        pytest.param(86400, "1d", id="1d"),
        pytest.param(3 * 86400, "3d", id="3d"),
        pytest.param(7 * 86400, "1w", id="7d-is-1w"),
        pytest.param(28 * 86400, "4w", id="28d-is-4w"),
        pytest.param(30 * 86400, "30d", id="30d-stays-30d"),
        pytest.param(90 * 86400, "90d", id="90d-not-12w6d"),
        pytest.param(365 * 86400, "1y", id="365d-is-1y"),
        pytest.param(90000, "1d1h", id="mixed"),
    ],
)
def test_durations_are_spelled_like_prometheus(seconds: int, text: str) -> None:
    assert promql.prom_duration(seconds) == text


@pytest.mark.parametrize(
    ("bound", "le"),
    [
        pytest.param(0.3, "0.3", id="0.3"),
        pytest.param(1.0, "1", id="whole-second"),
        pytest.param(0.025, "0.025", id="0.025"),
        pytest.param(2.5, "2.5", id="2.5"),
        pytest.param(float("inf"), "+Inf", id="inf"),
    ],
)
def test_le_values_are_spelled_like_client_libraries(bound: float, le: str) -> None:
    assert promql.le_value(bound) == le


def test_sli_recordings_of_a_ratio_slo() -> None:
    groups = slo_groups(ratio_spec(), SETTINGS)
    assert [g.name for g in groups] == [
        "sloth-slo-sli-recordings-api-avail",
        "sloth-slo-meta-recordings-api-avail",
        "sloth-slo-alerts-api-avail",
    ]
    sli = rules_of(groups, "sloth-slo-sli-recordings-api-avail")
    assert list(sli) == [
        f"slo:sli_error:ratio_rate{w}" for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d", "1w")
    ]
    five = sli["slo:sli_error:ratio_rate5m"]
    assert five.expr == (
        '(sum(rate(http_requests_total{job="api",route="/x",code=~"5.."}[5m])))\n'
        "/\n"
        '(sum(rate(http_requests_total{job="api",route="/x"}[5m])))'
    )
    assert dict(five.labels) == {
        "sloth_id": "api-avail",
        "sloth_service": "api",
        "sloth_slo": "avail",
        "sloth_window": "5m",
        "team": "a",
    }
    period = sli["slo:sli_error:ratio_rate1w"]
    assert period.expr == (
        f"sum_over_time(slo:sli_error:ratio_rate5m{{{IDS}}}[1w])\n"
        "/ ignoring (sloth_window)\n"
        f"count_over_time(slo:sli_error:ratio_rate5m{{{IDS}}}[1w])"
    )
    assert period.labels["sloth_window"] == "1w"


def test_meta_recordings() -> None:
    meta = rules_of(slo_groups(ratio_spec(), SETTINGS), "sloth-slo-meta-recordings-api-avail")
    assert {name: r.expr for name, r in meta.items() if r.expr.startswith("vector")} == {
        "slo:objective:ratio": "vector(0.999)",
        "slo:error_budget:ratio": "vector(0.001)",
        "slo:time_period:days": "vector(7)",
        "sloth_slo_info": "vector(1)",
    }
    on = "/ on (sloth_id, sloth_slo, sloth_service) group_left\n"
    budget = f"slo:error_budget:ratio{{{IDS}}}"
    assert meta["slo:current_burn_rate:ratio"].expr == (
        f"slo:sli_error:ratio_rate5m{{{IDS}}}\n{on}{budget}"
    )
    assert meta["slo:period_burn_rate:ratio"].expr == (
        f"slo:sli_error:ratio_rate1w{{{IDS}}}\n{on}{budget}"
    )
    assert meta["slo:period_error_budget_remaining:ratio"].expr == (
        f"1 - slo:period_burn_rate:ratio{{{IDS}}}"
    )
    assert meta["sloth_slo_info"].labels["sloth_objective"] == "99.9"
    assert "sloth_window" not in meta["slo:objective:ratio"].labels


def test_page_and_ticket_alerts_follow_the_burn_rate_table() -> None:
    """A 7-day SLO: factors = budget share x period / long window (3.36 / 1.4 / 0.7 / 0.2333):
    each alert spends the same share of budget as 14.4 / 6 / 3 / 1 do for 30 days."""
    alerts = rules_of(slo_groups(ratio_spec(), SETTINGS), "sloth-slo-alerts-api-avail")
    assert list(alerts) == ["SLOBurnRatePage", "SLOBurnRateTicket", "SLOMetricAbsent"]

    def over(window: str, factor: str) -> str:
        return (
            f"max(slo:sli_error:ratio_rate{window}{{{IDS}}} > ({factor} * 0.001)) "
            "without (sloth_window)"
        )

    page = alerts["SLOBurnRatePage"]
    assert page.expr == (
        f"(\n  {over('5m', '3.36')}\n  and\n  {over('1h', '3.36')}\n)\n"
        f"or\n(\n  {over('30m', '1.4')}\n  and\n  {over('6h', '1.4')}\n)"
    )
    assert dict(page.labels) == {  # the same labels sloctl's notifier sends (one identity)
        "severity": "page",
        "sloth_severity": "page",
        "service": "api",
        "slo": "avail",
        "sloth_id": "api-avail",
        "sloth_service": "api",
        "sloth_slo": "avail",
        "team": "a",
    }
    assert page.for_seconds == 0
    assert page.annotations["runbook_url"].endswith("/docs/runbooks.md#sloburnratepage")
    assert page.annotations["dashboard"] == SETTINGS.dashboard_url
    assert "{{ $value | humanizePercentage }}" in page.annotations["description"]
    assert "3.36x (0.336 % errors) over 1h and 5m" in page.annotations["description"]
    ticket = alerts["SLOBurnRateTicket"]
    assert over("2h", "0.7") in ticket.expr and over("3d", "0.233333333333") in ticket.expr
    assert ticket.labels["severity"] == "ticket"
    absent = alerts["SLOMetricAbsent"]
    assert absent.expr == 'absent(sum(http_requests_total{job="api",route="/x"}))'
    assert absent.for_seconds == 600
    assert dict(absent.labels) == {**page.labels, "severity": "ticket", "sloth_severity": "ticket"}


def test_thirty_day_slo_keeps_the_workbook_factors() -> None:
    alerts = rules_of(
        slo_groups(ratio_spec(window=Window(seconds=30 * 86400)), SETTINGS),
        "sloth-slo-alerts-api-avail",
    )
    for factor in ("14.4", "6"):
        assert f"> ({factor} * 0.001)" in alerts["SLOBurnRatePage"].expr
    for factor in ("3", "1"):
        assert f"> ({factor} * 0.001)" in alerts["SLOBurnRateTicket"].expr


def test_no_alert_group_when_alerting_is_disabled() -> None:
    names = [g.name for g in slo_groups(ratio_spec(alerting=False), SETTINGS)]
    assert names == ["sloth-slo-sli-recordings-api-avail", "sloth-slo-meta-recordings-api-avail"]


def test_latency_sli_reads_the_threshold_bucket() -> None:
    ind = HistogramLatency("h_seconds", (Matcher("method", "=", "GET"),), 0.3)
    sli = rules_of(
        slo_groups(ratio_spec(name="lat", indicator=ind), SETTINGS),
        "sloth-slo-sli-recordings-api-lat",
    )
    assert sli["slo:sli_error:ratio_rate1h"].expr == (
        "(\n"
        '  sum(rate(h_seconds_count{job="api",method="GET"}[1h]))\n'
        "  -\n"
        '  sum(rate(h_seconds_bucket{job="api",method="GET",le=~"0\\\\.30*"}[1h]))\n'
        ")\n/\n"
        '(sum(rate(h_seconds_count{job="api",method="GET"}[1h])))'
    )


def test_raw_query_sli_keeps_only_the_slo_service() -> None:
    ind = QueryRatio(
        total="sum by (job) (rate(reqs[{{window}}]))",
        bad=None,
        good="sum by (job) (rate(ok[{{window}}]))",
    )
    sli = rules_of(
        slo_groups(ratio_spec(service='we"ird$1', indicator=ind), SETTINGS),
        'sloth-slo-sli-recordings-we"ird$1-avail',
    )
    keep = 'and on (job) label_replace(vector(1), "job", "we\\"ird$$1", "", "")'
    assert sli["slo:sli_error:ratio_rate5m"].expr == (
        f"1 - ((sum((sum by (job) (rate(ok[5m]))) {keep}))\n"
        "/\n"
        f"(sum((sum by (job) (rate(reqs[5m]))) {keep})))"
    )


def test_calendar_month_uses_a_rolling_30d_period_and_says_so() -> None:
    spec = ratio_spec(window=Window(seconds=None, calendar="month"))
    groups = slo_groups(spec, SETTINGS)
    sli = rules_of(groups, "sloth-slo-sli-recordings-api-avail")
    assert "slo:sli_error:ratio_rate30d" in sli
    meta = rules_of(groups, "sloth-slo-meta-recordings-api-avail")
    assert meta["slo:time_period:days"].expr == "vector(30)"
    assert meta["sloth_slo_info"].labels["sloctl_window"] == "calendar-month"
    header = plan_files([spec], SETTINGS)["api.yml"].splitlines()
    assert header[0] == (
        "# DO NOT EDIT: generated by sloctl rules generate from api.yaml; "
        "regenerate with: sloctl rules generate"
    )
    assert any("api-avail: Prometheus rules cannot follow calendar months" in h for h in header)


def test_default_alerts_per_service_from_the_settings() -> None:
    group = default_alert_group(["web", "api", "web"], SETTINGS)
    assert group is not None and group.name == "sloctl-default-alerts"
    assert [(r.name, r.labels["service"]) for r in group.rules] == [
        ("ServiceErrorRatioHigh", "api"),
        ("ServiceLatencyP95High", "api"),
        ("ServiceErrorRatioHigh", "web"),
        ("ServiceLatencyP95High", "web"),
    ]
    errors, p95 = group.rules[:2]
    count = "http_server_request_duration_seconds_count"
    join = "on (job, instance) group_left () max by (job, instance) "
    info = 'last_over_time(target_info{service_name="api"}[5m])'
    assert errors.expr == (  # otel-http: the service label, else target_info (a direct scrape)
        "(\n"
        f'  (sum(rate({count}{{service_name="api",http_response_status_code=~"5.."}}[5m])) or '
        f'sum(rate({count}{{http_response_status_code=~"5..",service_name=""}}[5m]) * {join}'
        f"({info})))\n"
        "  /\n"
        f'  (sum(rate({count}{{service_name="api"}}[5m])) or '
        f'sum(rate({count}{{service_name=""}}[5m]) * {join}({info})))\n'
        ") > 0.005"
    )
    bucket = "http_server_request_duration_seconds_bucket"
    assert p95.expr == (  # no label survives the aggregation: the alert has only its own
        f'histogram_quantile(0.95, (sum by (le) (rate({bucket}{{service_name="api"}}[5m])) or '
        f'sum by (le) (rate({bucket}{{service_name=""}}[5m]) * {join}({info}))))\n'
        "> 0.3"
    )
    assert errors.as_dict()["for"] == "5m"
    assert dict(errors.labels) == {"service": "api", "severity": "warning"}


def test_default_alerts_follow_changed_settings() -> None:
    settings = Settings.model_validate(
        {
            "signals": {"preset": "prometheus-http"},
            "default_alerts": {
                "error_ratio": {"threshold": 0.01, "window_seconds": "10m", "for_seconds": 0},
                "latency_p95": {"enabled": False},
            },
        }
    )
    group = default_alert_group(["api"], settings)
    assert group is not None
    (rule,) = group.rules
    assert rule.expr.endswith(") > 0.01")
    assert 'http_requests_total{job="api",code=~"5.."}[10m]' in rule.expr
    assert "for" not in rule.as_dict()
    off = Settings.model_validate(
        {"default_alerts": {"error_ratio": {"enabled": False}, "latency_p95": {"enabled": False}}}
    )
    assert default_alert_group(["api"], off) is None


def test_clashing_sloth_ids_are_rejected() -> None:
    a = ratio_spec(service="a-b", name="c")
    b = ratio_spec(service="a", name="b-c")
    with pytest.raises(RuleGenError, match="share the Sloth id 'a-b-c'"):
        plan_files([a, b], SETTINGS)


def test_spec_files_with_the_same_name_are_rejected() -> None:
    a = ratio_spec(source="team1/api.yaml")
    b = ratio_spec(name="other", source="team2/api.yaml")
    with pytest.raises(RuleGenError, match=r"would both generate api\.yml"):
        plan_files([a, b], SETTINGS)


def test_a_period_equal_to_an_alert_window_is_recorded_once() -> None:
    groups = slo_groups(ratio_spec(window=Window(seconds=86400)), SETTINGS)
    sli = [r.name for r in groups[0].rules]
    assert len(sli) == len(set(sli)) == 7
    meta = rules_of(groups, "sloth-slo-meta-recordings-api-avail")
    assert meta["slo:period_burn_rate:ratio"].expr.startswith("slo:sli_error:ratio_rate1d{")
    assert meta["slo:time_period:days"].expr == "vector(1)"
