"""`sloctl canary`: is the canary worse than the baseline? pass / fail / inconclusive.

The statistics live in ``sloctl.core.canary`` and the queries in ``sloctl.canary``; this module
parses options, prints and exits. Heavy imports (scipy) wait until the command runs.
"""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from sloctl.cli.common import OutputFormat, OutputOption, SpecOption, get_ctx
from sloctl.errors import SloctlError
from sloctl.spec.durations import DURATION_HELP, parse_duration

if TYPE_CHECKING:
    from sloctl.canary.judge import CanaryRequest

out = Console()
err = Console(stderr=True)
_RELATIVE = re.compile(r"^-(\S+)$")

EPILOG = """Exit codes: 0 pass, 1 fail (the canary is worse), 6 inconclusive (the answer says how
many more requests each side needs), 4 a side matches no series at all, 3 Prometheus failed,
2 usage or spec error."""


def _seconds(value: str, option: str) -> int:
    try:
        return parse_duration(value)
    except (ValueError, SloctlError) as exc:
        raise typer.BadParameter(f"{option}: {exc}") from None


def _at(text: str | None) -> datetime:
    """--at: ISO 8601 (naive = UTC), unix seconds, or relative like -2h; default now."""
    now = datetime.now(UTC)
    if text is None:
        return now
    text = text.strip()
    relative = _RELATIVE.match(text)
    try:
        if relative:
            return now - timedelta(seconds=parse_duration(relative.group(1)))
        if re.fullmatch(r"\d+(\.\d+)?", text):
            return datetime.fromtimestamp(float(text), UTC)
        at = datetime.fromisoformat(text)
    except (ValueError, SloctlError) as exc:
        raise typer.BadParameter(
            f"--at: cannot read {text!r} ({exc}); use ISO 8601 like 2026-11-20T14:00:00Z, unix "
            "seconds, or a relative time like -2h") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def canary_command(
    ctx: typer.Context,
    service: Annotated[str, typer.Option("--service", help="The service whose canary to judge.")],
    canary: Annotated[str | None, typer.Option(
        "--canary", help='The canary\'s series: matchers (version="v2") or a bare value of the '
        "spec's canary label; default: the spec's canary: value.")] = None,
    baseline: Annotated[str | None, typer.Option(
        "--baseline", help='The baseline\'s series, as --canary (version="v1").')] = None,
    canary_service: Annotated[str | None, typer.Option(
        "--canary-service", help="The canary's own service name (e.g. podinfo-canary).")] = None,
    baseline_service: Annotated[str | None, typer.Option(
        "--baseline-service", help="The baseline's service name (e.g. podinfo-primary).")] = None,
    since: Annotated[str, typer.Option(
        "--since", help=f"The interval judged, ending at --at (default 15m); {DURATION_HELP}. "
        "Give the canary's age to judge all of it.")] = "15m",
    at: Annotated[str | None, typer.Option(
        "--at", help="End of the interval (default now): ISO 8601, unix s or -2h.")] = None,
    objective: Annotated[list[str] | None, typer.Option(
        "--objective", help="Judge only this SLO of the service (its name, e.g. availability; "
        "repeatable). Default: all its availability and latency SLOs.")] = None,
    alpha: Annotated[float, typer.Option(
        "--alpha", help="False-fail rate of the whole judgement (split over its checks).")] = 0.01,
    power: Annotated[float, typer.Option(
        "--power", help="Power of the 'requests needed' estimate.")] = 0.8,
    min_requests: Annotated[int, typer.Option(
        "--min-requests", help="Requests each side needs before it can pass.")] = 100,
    tolerance: Annotated[float, typer.Option(
        "--tolerance", help="Share of each SLI's error budget the canary may add and pass "
        "(0.5: 0.25 pp of errors on a 99.5 % SLO).")] = 0.5,
    version: Annotated[str | None, typer.Option(
        "--version", help="The version (or SHA) the canary runs: the deployment this judgement "
        "concerns. Default: the canary's version=/service_version= matcher.")] = None,
    environment: Annotated[str | None, typer.Option(
        "--environment", help="The deployment's environment (default: any).")] = None,
    store: Annotated[bool, typer.Option(
        "--store/--no-store", help="Keep the judgement in the store (DORA, the app).")] = True,
    spec: SpecOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Judge a canary against its baseline over the same interval: pass, fail or inconclusive.

    Compares the service's SLIs on both sides: the error ratio (Fisher's exact test, one-sided:
    is the canary worse?), the share of requests slower than the latency SLO's threshold, and
    the share beyond the baseline's p95 (both p95s shown), from the histograms. Fail: a check
    shows the canary worse at --alpha (split over the checks). Pass: every check has
    --min-requests per side and its confidence interval keeps the canary within --tolerance
    of the SLI's error budget. Otherwise inconclusive, with the requests each side still needs
    (power --power to see the observed difference, or the margin). The sides and their labels
    come from the options or the spec's canary: section. See docs/canary.md.

    Examples:

      sloctl canary --service order --canary 'version="v2"' --baseline 'version="v1"' --since 30m

      sloctl canary --service order --canary 6d4f8b9c7 --baseline 5b7c9d8e1   # spec label

      sloctl canary --service podinfo --canary-service podinfo --baseline-service podinfo-primary

      sloctl canary --service order --objective availability -o json --no-store
    """
    from sloctl.canary.judge import CanaryRequest
    from sloctl.core.canary import Policy

    try:
        policy = Policy(alpha=alpha, power=power, min_requests=min_requests, tolerance=tolerance)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    c = get_ctx(ctx.obj)
    if spec:
        c.spec_paths = list(spec)
    request = CanaryRequest(
        service=service, canary=canary, baseline=baseline, canary_service=canary_service,
        baseline_service=baseline_service, since=_seconds(since, "--since"),
        objectives=tuple(objective or ()), policy=policy, version=version,
        environment=environment,
    )
    code = run(ctx, request, _at(at), store, output)
    raise typer.Exit(code)


def run(ctx: typer.Context, request: CanaryRequest, at: datetime, keep: bool,
        output: OutputFormat) -> int:
    from sloctl.canary.judge import judge_canary, report_json
    from sloctl.canary.record import record
    from sloctl.sources.prometheus import PrometheusSource

    c = get_ctx(ctx.obj)
    settings = c.settings
    specs = c.specs()
    source = PrometheusSource(settings.prometheus)
    try:
        report = judge_canary(request, specs, settings, source, at)
    finally:
        source.close()
    body = record(c.store, report, "cli", datetime.now(UTC)) if keep else report_json(report)
    if output == OutputFormat.json:
        sys.stdout.write(json.dumps(body, indent=2) + "\n")
    else:
        _print(body)
    return report.exit_code


def _pct(value: Any) -> str:
    return "-" if value is None else f"{value * 100:.3g} %"


def _counts(side: dict[str, Any]) -> str:
    return f"{side['bad']}/{side['total']} ({_pct(side['ratio'])})"


def _print(body: dict[str, Any]) -> None:
    colour = {"pass": "green", "fail": "red", "inconclusive": "yellow"}[body["verdict"]]
    c, b = body["canary"], body["baseline"]
    out.print(f"[bold {colour}]{body['verdict'].upper()}[/]  {escape(body['service'])}: canary "
              f"{escape(c['service'])}{{{escape(c['selector'])}}} vs baseline "
              f"{escape(b['service'])}{{{escape(b['selector'])}}} over "
              f"{body['since_seconds'] // 60} min to {body['at']}")
    table = Table(show_edge=False)
    for name in ("check", "SLO", "canary", "baseline", "difference [interval]", "p", "verdict"):
        table.add_column(name)
    for check in body["checks"]:
        interval = check["interval"]
        spread = "" if interval is None else (
            f" [{_pct(interval['low'])}, {_pct(interval['high'])}]")
        table.add_row(
            check["name"], escape(str(check.get("slo", ""))),
            _counts(check["canary"]), _counts(check["baseline"]),
            f"{_pct(check['difference'])}{escape(spread)}",
            "-" if check["p_value"] is None else f"{check['p_value']:.3g}",
            check["verdict"],
        )
    out.print(table)
    for check in body["checks"]:
        if check.get("canary_seconds") is not None and check.get("baseline_seconds") is not None:
            out.print(f"p95: canary {check['canary_seconds'] * 1000:.0f} ms, baseline "
                      f"{check['baseline_seconds'] * 1000:.0f} ms")
        out.print(f"{check['name']}: {escape(check['reason'])}")
    if body["needed"]:
        out.print(f"[yellow]Needs about {body['needed']['canary']:,} more canary and "
                  f"{body['needed']['baseline']:,} more baseline requests.[/]")
    for line in [*body["no_data"], *body["notes"]]:
        err.print(f"[yellow]{escape(line)}[/]")


def register(app: typer.Typer) -> None:
    app.command("canary", epilog=EPILOG)(canary_command)
