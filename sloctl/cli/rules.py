"""``sloctl rules generate``: write (or check) Prometheus rule files from the SLO specs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from sloctl.cli.common import get_ctx
from sloctl.errors import EXIT_BREACH
from sloctl.rulegen import check_files, plan_files, write_files
from sloctl.spec.loader import load_specs

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
    "Examples:\n\n"
    "  sloctl rules generate                      # rules/slos -> rules/generated\n\n"
    "  sloctl rules generate --check              # CI: fail when rules/generated is stale\n\n"
    "  sloctl rules generate -s checkout.yaml --out /etc/prometheus/rules"
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
) -> None:
    context = get_ctx(ctx.obj)
    settings = context.settings
    paths = spec or list(settings.specs) or [DEFAULT_SPECS]
    planned = plan_files(load_specs(paths), settings, base=Path.cwd())
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
