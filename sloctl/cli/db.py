"""`sloctl db current` and `sloctl db upgrade`: the store's schema revision, and migrating it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from sloctl.cli.common import get_ctx
from sloctl.store import migrate
from sloctl.store.database import Database, shown

out = Console()
err = Console(stderr=True)

app = typer.Typer(
    name="db",
    no_args_is_help=True,
    help="""The store's schema: which revision it is at, and upgrading it.

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

Examples:

  sloctl db current

  sloctl db current --check && sloctl serve

  SLOCTL_STORE_URL=postgresql+psycopg://sloctl:PASSWORD@db/sloctl sloctl db upgrade
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


def register(root: typer.Typer) -> None:
    root.add_typer(app)
