"""The plan builds each shared query once per cycle, not once per SLO (issue #15 item 5: 20,000
SLOs on two metrics), and the shared plan equals the one each SLO gets alone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sloctl.evaluation.plan import log_groups, plan_cycle, plan_slo, shared_bounds
from sloctl.settings import Settings
from sloctl.spec.models import HistogramLatency, LogRatio, Matcher, SLOSpec, Window
from sloctl.spec.presets import PRESETS

AT = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
OTEL = PRESETS["otel-http"]


def spec(service: str, name: str, indicator: object, label: str = "service_name") -> SLOSpec:
    return SLOSpec(service, name, 99.5, Window(28 * 86400), label, indicator)  # type: ignore[arg-type]


def specs() -> list[SLOSpec]:
    out = []
    for s in ("a", "b", "c"):
        out += [spec(s, "availability", OTEL.availability()), spec(s, "latency", OTEL.latency()),
                spec(s, "slow", HistogramLatency("http_server_request_duration_seconds", (), 1.0)),
                spec(s, "logs", LogRatio((Matcher("app", "=", "x"),), error_filter="ERROR"),
                     label="app")]
    out.append(spec("d", "other-label", OTEL.availability(), label="job"))
    return out


def test_slos_of_every_service_share_their_window_queries() -> None:
    plan = plan_cycle(specs(), Settings(), AT)
    by_name: dict[tuple[str, str], list[object]] = {}
    for p in plan.slos:
        by_name.setdefault((p.spec.name, p.spec.service_label), []).append(p)
    for (name, _), plans in by_name.items():
        first = plans[0]
        for other in plans[1:]:
            assert other.windows == first.windows, name  # type: ignore[attr-defined]
            assert all(a is b for a, b in zip(other.windows, first.windows,  # type: ignore[attr-defined]
                                              strict=True)), name
            assert other.coverage is first.coverage, name  # type: ignore[attr-defined]
    # a different service label is a different query
    job = next(p for p in plan.slos if p.spec.service_label == "job")
    svc = next(p for p in plan.slos if p.spec.name == "availability")
    assert job.windows[0].total != svc.windows[0].total


def test_the_shared_plan_equals_each_slos_own() -> None:
    all_specs = specs()
    plan = plan_cycle(all_specs, Settings(), AT)
    bounds, logs = shared_bounds(all_specs), log_groups(all_specs)
    for p, s in zip(plan.slos, all_specs, strict=True):
        alone = plan_slo(s, AT, ZoneInfo("UTC"), bounds, logs, 120)
        assert p == alone, s.slo_id
