"""Synthetic report inputs with known figures, for tests and ``bench/report_render.py``.

``sample_inputs(n)``: ``n`` services (``svc-00``...) in two teams plus one service without a
team, each with an availability (99.5 %) and a latency (95 %) SLO over 28 days; 12 weekly
periods ending with ISO week 2026-W49 in ``tz``. Known figures, per week:

- ``svc-00`` availability: 1,000,000 events, 8,000 bad (SLI 99.2 %), budget left -0.6: BREACHED
  (the week before: 4,000 bad, budget left 0.3: OK);
- ``svc-01`` availability: 2,000,000 events, 9,000 bad, budget left 0.2: WARNING;
- every other SLO: (1 + i % 3) million events, 0.1 % bad, budget left 0.8: OK;
- the last service's latency SLO: no series (INSUFFICIENT_DATA, "no series match ...").

Deployments (3 a day per service on weekdays, lead time 30 min; on svc-00 one failed by an
incident of 25 min and rolled back) go through DORA's real computation.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from sloctl.dora.compute import rollups, scorecard
from sloctl.dora.history import build_histories
from sloctl.dora.model import Commit, Deployment, DeployStatus, DoraConfig, DoraIncident
from sloctl.report.inputs import (
    FailedDeployment,
    IncidentFigure,
    PeriodFigures,
    ReportInputs,
    SignalFigure,
    SloFigures,
    Thresholds,
)
from sloctl.report.period import Period, iso_week

WEEK = "2026-W49"
TEAMS = ("payments", "platform")


def service_name(i: int) -> str:
    return f"svc-{i:02d}"


def team_of(i: int, n: int) -> str | None:
    return None if i == n - 1 and n > 2 else TEAMS[i % 2]


def _slo(i: int, n: int, kind: str, weeks_ago: int) -> SloFigures:
    service = service_name(i)
    total = float((1 + i % 3) * 1_000_000)
    bad, left = total * 0.001, 0.8
    objective = 0.995 if kind == "availability" else 0.95
    if kind == "availability" and i == 0:
        total = 1_000_000.0
        bad, left = (8_000.0, -0.6) if weeks_ago == 0 else (4_000.0, 0.3)
    elif kind == "availability" and i == 1:
        total, bad, left = 2_000_000.0, 9_000.0, 0.2
    if kind == "latency" and i == n - 1:
        return SloFigures(
            slo_id=f"{service}/latency", service=service, name="latency", objective=objective,
            window="28d", team=team_of(i, n), tier="2", total=None, bad=None, sli=None,
            burn_rate=None, budget_spent=None, budget_left=None, kind=kind,
            no_data_reason="no series match http_server_request_duration_seconds_bucket"
                           f"{{service_name=\"{service}\"}}",
        )
    budget = total * (1 - objective)
    return SloFigures(
        slo_id=f"{service}/{kind}", service=service, name=kind, objective=objective,
        window="28d", team=team_of(i, n), tier="1" if i < 2 else "2", total=total, bad=bad,
        sli=1 - bad / total, burn_rate=(bad / total) / (1 - objective),
        budget_spent=bad / (budget * 4), budget_left=left, kind=kind,
    )


def _signals(i: int, weeks_ago: int) -> tuple[SignalFigure, ...]:
    service = service_name(i)
    traffic = (1 + i % 3) * 1_000_000 / (7 * 86400)
    errors = 0.008 if i == 0 and weeks_ago == 0 else 0.001
    p95 = 0.12 + 0.01 * (i % 5) + (0.02 if weeks_ago else 0.0)
    return (SignalFigure(service, "traffic", traffic), SignalFigure(service, "error_ratio", errors),
            SignalFigure(service, "latency_p95", p95), SignalFigure(service, "latency_p99",
                                                                     p95 * 2))


def _deployments(n: int, first: Period, period: Period, tz: tzinfo) -> list[Deployment]:
    out = []
    day = first.start.astimezone(tz).date()
    while day < period.end.astimezone(tz).date():
        if day.weekday() < 5:
            for i in range(n):
                for k, hour in enumerate((9, 12, 15)):
                    finished = datetime.combine(day, time(hour, 5 + i % 50), tzinfo=tz)
                    version = f"1.{day.toordinal()}.{k}"
                    sha = f"{i:04d}{day.toordinal():08d}{k:04d}"
                    out.append(Deployment(
                        service=service_name(i), environment="production", version=version,
                        sha=sha, finished=finished, commit_time=finished - timedelta(minutes=30),
                        commits=(Commit(sha, finished - timedelta(minutes=30)),)))
        day += timedelta(days=1)
    return out


def sample_inputs(n: int, tz: tzinfo, measured_at: datetime | None = None,
                  week: str = WEEK) -> ReportInputs:
    """The inputs described in the module docstring, for ``n`` >= 3 services (``week``:
    another ISO week than 2026-W49)."""
    period = iso_week(week, tz)
    periods = [period.previous(k, tz) for k in range(11, 0, -1)] + [period]
    history = tuple(
        PeriodFigures(
            period=p,
            slos=tuple(_slo(i, n, kind, 11 - w) for i in range(n)
                       for kind in ("availability", "latency")),
            signals=tuple(s for i in range(n) for s in _signals(i, 11 - w)),
        )
        for w, p in enumerate(periods)
    )
    deployments = _deployments(n, periods[0], period, tz)
    bad_at = period.start + timedelta(days=2, hours=10)
    bad = Deployment(service=service_name(0), environment="production", version="2.0.0-bad",
                     sha="badbadbad0", finished=bad_at, commit_time=bad_at - timedelta(hours=2))
    back = Deployment(service=service_name(0), environment="production", version="2.0.0-bad",
                      sha="rollback01", finished=bad_at + timedelta(minutes=20),
                      status=DeployStatus.ROLLBACK, commit_time=bad_at - timedelta(hours=3))
    incident = DoraIncident(id=f"{service_name(0)}@{(bad_at + timedelta(minutes=5)).isoformat()}",
                            service=service_name(0), environment="production",
                            start=bad_at + timedelta(minutes=5),
                            end=bad_at + timedelta(minutes=30), severity="critical",
                            labels={"alertname": "HighErrorRate"})
    config = DoraConfig()
    histories = build_histories([*deployments, bad, back], [incident], config)
    teams = {t: tuple(service_name(i) for i in range(n) if team_of(i, n) == t) for t in TEAMS}
    week_cards = {c.scope: c for c in rollups(histories, teams, period.start, period.end, tz,
                                              config)}
    trailing = {c.scope: c for c in rollups(histories, teams, periods[0].start, period.end, tz,
                                             config, card=scorecard)}
    weekly: dict[str, list[tuple[str, float | None]]] = {}
    for p in periods:
        for c in rollups(histories, teams, p.start, p.end, tz, config, card=scorecard):
            for metric in ("deployment_frequency", "lead_time", "change_failure_rate",
                           "time_to_restore"):
                f = next(x for x in c.figures if x.metric.value == metric)
                value = f.value
                if metric == "deployment_frequency":
                    per = f.details.get("per_day_per_service")
                    value = float(per) if isinstance(per, int | float) else None
                weekly.setdefault(f"{metric} {c.scope}", []).append((p.key, value))
    links = [ln for h in histories.values() for ln in h.incidents]
    facts = [f for h in histories.values() for f in h.deployments if f.failed]
    return ReportInputs(
        period=period,
        measured_at=measured_at or period.end + timedelta(hours=8),
        history=history,
        dora_week=week_cards,
        dora_trailing=trailing,
        dora_weekly={k: tuple(v) for k, v in weekly.items()},
        incidents=tuple(IncidentFigure.of(ln) for ln in links),
        last_incident_before={},
        failed_deployments=tuple(FailedDeployment.of(f) for f in facts),
        teams={**teams, "security": ()},
        thresholds=Thresholds(),
        incident_history_since=periods[0].start,
    )
