"""Schema versions of the store: which revision a database is at, and upgrading it (Alembic).

The revisions live in ``sloctl/store/migrations/versions``; the database records its revision in
``alembic_version``. A store written before migrations existed has tables but no revision: its
upgrade starts at revision 0001, which creates whatever tables it lacks.

    state = schema_state(db)       # reads only
    check_schema(db)               # SchemaOutdated unless the store is at this sloctl's head
    upgrade(db)                    # every missing revision in ONE transaction
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, inspect, text

from sloctl.errors import StoreError
from sloctl.store.database import Database, redact, shown, store_error

if TYPE_CHECKING:  # Alembic is imported by upgrades only: reading a store never needs it
    from alembic.config import Config
    from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r"""^revision\s*=\s*["']([^"']+)["']""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision\s*=\s*(?:None|["']([^"']+)["'])""", re.MULTILINE)
VERSION_TABLE = "alembic_version"
UPGRADE_HINT = "run `sloctl db upgrade` (back the store up first)"


class SchemaOutdated(StoreError):
    """The store's schema is not the one this sloctl reads and writes."""


@dataclass(frozen=True)
class SchemaState:
    """Where a database's schema stands against this sloctl's migrations."""

    current: str | None  # the revision in alembic_version; None when there is none
    head: str  # the newest revision this sloctl knows
    tables: frozenset[str]  # the tables present, alembic_version included
    known: bool  # ``current`` is one of this sloctl's revisions (or None)

    @property
    def empty(self) -> bool:
        """No table at all: a brand-new database."""
        return not self.tables

    @property
    def before_migrations(self) -> bool:
        """Tables written by a sloctl older than migrations, no recorded revision."""
        return bool(self.tables) and self.current is None

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def _config(location: Path | None, connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(location or MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def script_directory(location: Path | None = None) -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config(location))


def _linear_chain(location: Path | None) -> list[str] | None:
    """Revision ids oldest first, read from the version files' ``revision`` and
    ``down_revision`` lines without importing them (or Alembic); None unless they form one
    linear history (then Alembic itself decides, and explains)."""
    parent: dict[str, str | None] = {}
    for path in sorted(((location or MIGRATIONS) / "versions").glob("*.py")):
        text_ = path.read_text(encoding="utf-8")
        revision, down = _REVISION.search(text_), _DOWN.search(text_)
        if revision is None:
            continue
        if down is None or revision.group(1) in parent:
            return None
        parent[revision.group(1)] = down.group(1)
    children = {p: r for r, p in parent.items()}
    if not parent or len(children) != len(parent) or None not in children:
        return None
    chain = [children[None]]
    while chain[-1] in children:
        chain.append(children[chain[-1]])
    return chain if len(chain) == len(parent) else None


def head(location: Path | None = None) -> str:
    """The newest revision (one linear history)."""
    chain = _linear_chain(location)
    if chain is not None:
        return chain[-1]
    found = script_directory(location).get_current_head()
    assert found is not None, f"no migrations in {location or MIGRATIONS}"
    return found


def _state(conn: Connection, location: Path | None) -> SchemaState:
    tables = frozenset(inspect(conn).get_table_names())
    current = None
    if VERSION_TABLE in tables:
        current = conn.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    known = current is None or current in revisions(location)
    return SchemaState(current, head(location), tables, known)


def schema_state(db: Database, location: Path | None = None) -> SchemaState:
    """The database's revision and tables (a read: no DDL, no write)."""
    with db.read("reading the schema revision of") as conn:
        return _state(conn, location)


def outdated_message(state: SchemaState, url: str) -> str | None:
    """Why this sloctl cannot use a store in ``state``, naming the fix; None when it can."""
    where = shown(url)
    if state.up_to_date:
        return None
    if state.empty:
        return (f"the store {where} has no schema yet: run `sloctl db upgrade` to create it "
                "(or `sloctl serve --upgrade-db`; `sloctl eval` creates a new SQLite store itself)")
    if state.before_migrations:
        return (f"the store {where} was written by an older sloctl (no schema revision): "
                f"{UPGRADE_HINT} to bring it to revision {state.head}")
    if not state.known:
        return (f"the store {where} is at schema revision {state.current}, newer than this "
                f"sloctl knows ({state.head}): upgrade sloctl, or point SLOCTL_STORE_URL at "
                "another store")
    return (f"the store {where} is at schema revision {state.current}; this sloctl needs "
            f"{state.head}: {UPGRADE_HINT}")


def check_schema(db: Database, location: Path | None = None) -> SchemaState:
    """The state; SchemaOutdated (saying which command fixes it) unless it is at the head."""
    state = schema_state(db, location)
    message = outdated_message(state, db.url)
    if message is not None:
        raise SchemaOutdated(message)
    return state


def upgrade(
    db: Database, to: str = "head", location: Path | None = None
) -> tuple[str | None, str | None]:
    """Apply every revision up to ``to`` in ONE transaction; returns (before, after).

    A failing revision rolls the whole upgrade back: the store stays at the revision it had,
    usable by the sloctl that wrote it. A store at an unknown (newer) revision is refused.
    """
    with db.write("upgrading the schema of") as conn:
        before = _state(conn, location)
        if not before.known:
            message = outdated_message(before, db.url)
            raise SchemaOutdated(message or "unknown schema revision")
        from alembic import command
        from alembic.util.exc import CommandError

        try:
            command.upgrade(_config(location, conn), to)
        except CommandError as err:  # e.g. an unknown target revision
            raise StoreError(redact(
                f"upgrading the schema of the store {shown(db.url)} to {to!r} failed: {err}. "
                f"Known revisions: {', '.join(revisions(location))}", db.url
            )) from None
        except Exception as err:  # a failing revision: the whole upgrade is rolled back
            raise store_error(
                "upgrading the schema of", db.url, err,
                f"Nothing was changed: the store is still at revision {before.current or 'none'}."
                " Report this with the message above.",
            ) from err
        after = conn.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return before.current, after


def revisions(location: Path | None = None) -> list[str]:
    """Every revision, oldest first."""
    chain = _linear_chain(location)
    if chain is not None:
        return chain
    return [r.revision for r in reversed(list(script_directory(location).walk_revisions()))]
