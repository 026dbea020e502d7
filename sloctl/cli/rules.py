"""``sloctl rules generate``: write (or check) Prometheus rule files from the SLO specs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from sloctl.cli.common import get_ctx
from sloctl.cli.live_report import print_results, run_live
from sloctl.discover.fetch import Span
from sloctl.discover.live import LiveStatus
from sloctl.errors import EXIT_BREACH, EXIT_USAGE, BackendError
from sloctl.rulegen import check_files, plan_rule_files, render_stream, write_files
from sloctl.rulegen.options import RuleOptions, crd_meta, prometheus_labels
from sloctl.rulegen.output import render_file
from sloctl.settings import Settings
from sloctl.spec.loader import load_specs
from sloctl.spec.models import HistogramLatency, SLOSpec

err = Console(stderr=True, highlight=False, soft_wrap=True)


class RuleFormat(StrEnum):
    PROMETHEUS = "prometheus"
    PROMETHEUS_OPERATOR = "prometheus-operator"

DEFAULT_SPECS = Path("rules/slos")
DEFAULT_OUT = Path("rules/generated")

GENERATE_HELP = (
    "Turn SLO specs into Prometheus recording and alert rule files.\n\n"
    "Per SLO, Sloth-compatible rules: slo:sli_error:ratio_rate<W> for 5m 30m 1h 2h 6h 1d 3d and "
    "the SLO period (28d is spelled 4w), slo:objective:ratio, slo:error_budget:ratio, "
    "slo:current_burn_rate:ratio, slo:period_error_budget_remaining:ratio, sloth_slo_info, and "
    "the multiwindow multi-burn-rate alerts SLOBurnRatePage and SLOBurnRateTicket. Plus the two "
    "default alerts per service from the settings (ServiceErrorRatioHigh, "
    "ServiceLatencyP95High).\n\n"
    "Writes one file per spec file (<spec name>.yml) and sloctl-default-alerts.yml into --out, "
    "and removes generated files whose spec is gone. Output is deterministic: run it from the "
    "repository root so the spec paths in the DO-NOT-EDIT headers stay the same.\n\n"
    "--check writes nothing: it exits 1 and lists the stale, missing or obsolete files when "
    "--out differs from what would be generated (use it in CI).\n\n"
    "Latency rules read one bucket (Prometheus cannot interpolate), so each latency threshold "
    "must be a bucket bound of its histogram. When the Prometheus of the settings "
    "(prometheus.url) answers, the bounds of the last hour are checked first: a threshold that "
    "is not a bound stops the command (exit 2) with the bounds that exist and how to add one. "
    "When Prometheus cannot be reached, a warning says the bounds were not checked; "
    "--no-bound-check skips the check.\n\n"
    "Specs may be sloctl/v1, Sloth (version: prometheus/v1, or the PrometheusServiceLevel CRD) "
    "or OpenSLO v1 (see `sloctl validate --help`).\n\n"
    "Output: --stdout prints one YAML stream instead of writing files (Prometheus: one rule "
    "file with every group; prometheus-operator: one PrometheusRule per file, separated by "
    "---). --format prometheus-operator writes a monitoring.coreos.com/v1 PrometheusRule per "
    "file, named after it (--crd-name-prefix), with --crd-namespace and --crd-label KEY=VALUE "
    "(repeatable; e.g. the labels your Prometheus' ruleSelector matches). --extra-label "
    "KEY=VALUE (repeatable) adds a label to every rule (a rule's own labels win); sloctl's own "
    "notifier does not send it, so Alertmanager no longer merges Prometheus' copy of an alert "
    "with sloctl's. --disable-alerts writes recordings only (no SLO or default alerts), "
    "--disable-recordings alerts only (they read recordings you generate elsewhere).\n\n"
    "Examples:\n\n"
    "  sloctl rules generate                      # rules/slos -> rules/generated\n\n"
    "  sloctl rules generate --check              # CI: fail when rules/generated is stale\n\n"
    "  sloctl rules generate -s checkout.yaml --out /etc/prometheus/rules\n\n"
    "  sloctl rules generate --no-bound-check     # offline: bounds checked elsewhere\n\n"
    "  sloctl rules generate -s sloth/ --stdout --extra-label cluster=prod\n\n"
    "  sloctl rules generate --format prometheus-operator --crd-namespace monitoring "
    "--crd-label prometheus=k8s --out k8s/"
)

rules_app = typer.Typer(
    name="rules",
    help="Prometheus rules generated from the SLO specs (see `sloctl rules generate --help`).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add the ``rules`` command group to ``app``."""
    app.add_typer(rules_app, name="rules")


@rules_app.command("generate", help=GENERATE_HELP)
def generate(
    ctx: typer.Context,
    spec: Annotated[
        list[Path] | None,
        typer.Option(
            "--spec",
            "-s",
            help="SLO spec file or folder (repeatable); default: settings `specs`, else "
            "rules/slos.",
            show_default=False,
        ),
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Folder of the generated rule files.")
    ] = DEFAULT_OUT,
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 listing the files that are not up to date."
        ),
    ] = False,
    no_bound_check: Annotated[
        bool,
        typer.Option(
            "--no-bound-check",
            help="Do not check latency thresholds against the live bucket bounds.",
        ),
    ] = False,
    stdout: Annotated[
        bool, typer.Option("--stdout", help="Print one YAML stream; write no files.")
    ] = False,
    extra_label: Annotated[
        list[str] | None,
        typer.Option("--extra-label", metavar="KEY=VALUE",
                     help="Label added to every rule (repeatable).", show_default=False),
    ] = None,
    disable_alerts: Annotated[
        bool, typer.Option("--disable-alerts", help="Recording rules only.")
    ] = False,
    disable_recordings: Annotated[
        bool, typer.Option("--disable-recordings", help="Alert rules only.")
    ] = False,
    output_format: Annotated[
        RuleFormat,
        typer.Option("--format", help="prometheus (rule files) or prometheus-operator "
                     "(PrometheusRule objects)."),
    ] = RuleFormat.PROMETHEUS,
    crd_name_prefix: Annotated[
        str, typer.Option("--crd-name-prefix", help="PrometheusRule names: <prefix><spec name>.")
    ] = "",
    crd_namespace: Annotated[
        str | None,
        typer.Option("--crd-namespace", help="PrometheusRule namespace.", show_default=False),
    ] = None,
    crd_label: Annotated[
        list[str] | None,
        typer.Option("--crd-label", metavar="KEY=VALUE",
                     help="PrometheusRule label (repeatable).", show_default=False),
    ] = None,
) -> None:
    context = get_ctx(ctx.obj)
    settings = context.settings
    if check and stdout:
        raise typer.BadParameter("--check compares files on disk; it cannot be used with --stdout")
    options = RuleOptions(
        extra_labels=prometheus_labels(extra_label or []),
        recordings=not disable_recordings,
        alerts=not disable_alerts,
        output=output_format.value,
        crd=crd_meta(crd_name_prefix, crd_namespace, crd_label or []),
    )
    paths = spec or list(settings.specs) or [DEFAULT_SPECS]
    specs = load_specs(paths)
    files = plan_rule_files(specs, settings, options)
    planned = {f.name: render_file(f, options) for f in files}
    if not no_bound_check:
        check_bounds(settings, specs, paths)
    if options.extra_labels and options.alerts:
        err.print(
            "note: sloctl's own notifier does not send the --extra-label labels: when `sloctl "
            "serve` also sends its alerts to Alertmanager (alertmanager.url), Alertmanager keeps "
            "two alerts per condition (see README: rules generate).", markup=False,
        )
    if stdout:
        typer.echo(render_stream(files, options), nl=False)
        return
    if check:
        problems = check_files(out, planned)
        for status in problems:
            typer.echo(f"{status.state}: {out / status.name}")
        if problems:
            typer.echo(
                f"{len(problems)} rule file(s) in {out} are not up to date; "
                "run `sloctl rules generate` and commit the result",
                err=True,
            )
            raise typer.Exit(EXIT_BREACH)
        typer.echo(f"OK: {len(planned)} rule file(s) in {out} are up to date")
        return
    for status in write_files(out, planned):
        typer.echo(f"{status.state}: {out / status.name}")


def check_bounds(settings: Settings, specs: Sequence[SLOSpec], paths: Sequence[Path]) -> None:
    """Stop (exit 2) when a latency threshold is not a live bucket bound; warn loudly when the
    bounds cannot be read."""
    latency = [s for s in specs if isinstance(s.indicator, HistogramLatency)]
    if not latency:
        return
    span = Span(datetime.now(UTC))
    url = settings.prometheus.url
    try:
        results = run_live(settings, latency, span, bounds_only=True)
    except BackendError as exc:
        shown = " ".join(str(p) for p in paths)
        err.print(
            f"[bold yellow]WARNING: the latency thresholds were NOT checked against the bucket "
            f"bounds[/] ({escape(str(exc))}).\nA latency rule whose threshold is not a bucket "
            "bound of its histogram finds no bucket and records nothing. Check them against the "
            f"Prometheus that holds your metrics: sloctl validate --live {escape(shown)} "
            "(prometheus.url / SLOCTL_PROMETHEUS_URL), or pass --no-bound-check to skip this "
            "check.", markup=True,
        )
        return
    bad = [r for r in results if r.status is LiveStatus.NOT_A_BOUND]
    unchecked = [r for r in results if r.status is LiveStatus.SKIPPED]
    if unchecked:
        ids = ", ".join(r.spec.slo_id for r in unchecked)
        err.print(f"[yellow]note:[/] bounds not checked for {escape(ids)}: no series on "
                  f"{escape(url)} in the last hour.", markup=True)
    if bad:
        print_results(err, bad, url, span)
        err.print(
            f"[bold red]refusing to write rules:[/] {len(bad)} latency threshold(s) are not "
            "bucket bounds, so their rules would record nothing (Prometheus cannot interpolate "
            "between buckets). Add the bound (above), use a threshold that is a bound, or pass "
            "--no-bound-check.", markup=True,
        )
        raise typer.Exit(EXIT_USAGE)
