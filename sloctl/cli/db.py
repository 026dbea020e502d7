"""`sloctl db current`, `sloctl db upgrade` and `sloctl db prune`: the store's schema revision,
migrating it, and its retention."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from sloctl.cli.common import get_ctx
from sloctl.runtime.prune import policy
from sloctl.store import Store, StoreReader, migrate
from sloctl.store.database import Database, shown
from sloctl.store.retention import PruneReport, summary

out = Console()
err = Console(stderr=True)

app = typer.Typer(
    name="db",
    no_args_is_help=True,
    help="""The store's schema (which revision it is at, upgrading it) and its retention.

Every sloctl release knows the schema revisions up to its own (its head). A store at an older
revision, or written by a sloctl from before revisions existed, must be upgraded before sloctl
reads or writes it: commands then stop with "run `sloctl db upgrade`". Upgrading applies the
missing revisions in one transaction: on any failure nothing changes, and the store stays
usable by the sloctl that wrote it. It is safe to run twice.

The store is SLOCTL_STORE_URL (or store_url in sloctl.yaml). A new SQLite file needs no
upgrade: `sloctl eval` and `sloctl serve` create its schema. A new PostgreSQL database does:
run `sloctl db upgrade` once, or start `sloctl serve --upgrade-db`.

Typical release upgrade: stop `sloctl serve`, back the store up (SQLite: copy the file while
nothing runs; PostgreSQL: pg_dump), run `sloctl db upgrade`, start the new `sloctl serve`.

`sloctl db prune` applies the retention (settings `retention`): every evaluation is kept for
raw_days, then one roll-up per hour until hourly_days, then one per day until daily_days.
`sloctl serve` prunes once a day by itself; incidents, deployments, alert transitions, received
alerts and scorecards are never pruned.

Examples:

  sloctl db current

  sloctl db current --check && sloctl serve

  SLOCTL_STORE_URL=postgresql+psycopg://sloctl:PASSWORD@db/sloctl sloctl db upgrade

  sloctl db prune --dry-run
""",
)


def _describe(state: migrate.SchemaState) -> str:
    if state.empty:
        return "empty: no schema yet (run `sloctl db upgrade`)"
    if state.before_migrations:
        return "written before schema revisions (run `sloctl db upgrade`)"
    if not state.known:
        return f"revision {state.current}, newer than this sloctl: upgrade sloctl"
    if state.up_to_date:
        return f"revision {state.current}: up to date"
    return f"revision {state.current}, behind {state.head} (run `sloctl db upgrade`)"


@app.command("current")
def current_command(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option(
        "--check", help="Exit 1 unless the store is at this sloctl's revision.")] = False,
) -> None:
    """Show the store's schema revision and whether it needs `sloctl db upgrade`. Reads only.

    Prints the store (password masked), its revision, and this sloctl's newest revision.
    """
    url = get_ctx(ctx.obj).settings.store_url
    db = Database(url, read_only=True)
    try:
        state = migrate.schema_state(db)
    finally:
        db.close()
    out.print(f"store     {shown(url)}")
    out.print(f"schema    {_describe(state)}")
    out.print(f"sloctl    revision {state.head} (known: {', '.join(migrate.revisions())})")
    if check and not state.up_to_date:
        raise typer.Exit(1)


@app.command("upgrade")
def upgrade_command(
    ctx: typer.Context,
    to: Annotated[str, typer.Option(
        "--to", help="Target revision (default: the newest this sloctl knows).")] = "head",
) -> None:
    """Apply the missing schema revisions to the store, in one transaction.

    Creates the schema of an empty database; upgrades a store written by an older sloctl,
    keeping its data. On failure nothing changes. Stop `sloctl serve` and back the store up
    first. Exit 0 when the store is at the target revision (also when it already was).
    """
    url = get_ctx(ctx.obj).settings.store_url
    db = Database(url)
    try:
        before, after = migrate.upgrade(db, to)
    finally:
        db.close()
    if before == after:
        out.print(f"{shown(url)}: already at revision {after}, nothing to do")
    else:
        out.print(f"{shown(url)}: upgraded from revision {before or 'none'} to {after}")


PROGRESS_EVERY = 5.0  # seconds between two progress lines of a long prune


@app.command("prune")
def prune_command(
    ctx: typer.Context,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="Show what would be removed (rows per tier and table); change "
        "nothing.")] = False,
    max_seconds: Annotated[float | None, typer.Option(
        "--max-seconds", min=1, help="Stop after about this long (between two transactions); "
        "the next prune goes on from there.")] = None,
) -> None:
    """Roll up and delete what the retention no longer keeps (settings `retention`).

    Evaluations older than raw_days are rolled up into one row per hour and SLO (and per
    service's signals: the last, least and greatest value of each charted column), those older
    than hourly_days into one per day, and daily ones older than daily_days are deleted. Each
    hour is rolled up and committed before its evaluations are deleted, in batches: an
    interrupted prune loses nothing, and the next one goes on. Safe while `sloctl serve` runs.
    """
    settings = get_ctx(ctx.obj).settings
    url, retention, now = settings.store_url, policy(settings.retention), datetime.now(UTC)
    out.print(f"store      {shown(url)}")
    out.print(f"retention  every evaluation {retention.raw_days} d, hourly roll-ups "
              f"{retention.hourly_days} d, daily roll-ups {retention.daily_days} d")
    if dry_run:
        with StoreReader(url) as reader:
            report = reader.retention.plan(now, retention)
        _print_cutoffs(report)
        _print_report(report, "would delete", "would write")
        return
    last = time.monotonic()

    def progress(message: str) -> None:
        nonlocal last
        if time.monotonic() - last >= PROGRESS_EVERY:
            last = time.monotonic()
            err.print(f"[dim]{message}[/]")

    with Store(url) as store:
        report = store.retention.prune(now, retention, budget=max_seconds, progress=progress)
    _print_cutoffs(report)
    _print_report(report, "deleted", "written")
    state = "done" if report.finished else "stopped at --max-seconds: run it again to go on"
    out.print(f"{state} in {report.seconds:.1f} s")


def _print_cutoffs(report: PruneReport) -> None:
    cut = report.cutoffs
    out.print(f"cut-offs   raw < {cut.raw:%Y-%m-%d %H:%M}, hourly < {cut.hourly:%Y-%m-%d}, "
              f"daily < {cut.daily:%Y-%m-%d} (UTC)")


def _print_report(report: PruneReport, deleted: str, written: str) -> None:
    if not report.deleted and not report.rolled_up:
        out.print("nothing to prune")
        return
    t = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("tier", "table", f"rows {deleted}", f"roll-ups {written}", "bytes"):
        t.add_column(col, justify="left" if col in ("tier", "table") else "right")
    keys = {(tier, table) for tier, table, _ in (*summary(report.deleted),
                                                 *summary(report.rolled_up))}
    for tier, table, _ in summary(dict.fromkeys(keys, 0)):
        rows = report.deleted.get((tier, table))
        rolled = report.rolled_up.get((tier, table))
        size = report.bytes.get((tier, table))
        t.add_row(tier, table, "" if rows is None else f"{rows:,}",
                  "" if rolled is None else f"{rolled:,}",
                  "" if size is None else f"{size / 1e6:,.1f} MB")
    out.print(t)
    if report.deleted and not report.bytes:
        out.print("[dim]bytes: estimated on PostgreSQL only; SQLite reuses the freed pages (the "
                  "file keeps its size unless VACUUMed)[/]")


def register(root: typer.Typer) -> None:
    root.add_typer(app)
