"""Opening the store's database: URL checks, SQLite pragmas, errors that say how to fix them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from sloctl.errors import StoreError

SQLITE_BUSY_TIMEOUT_MS = 10_000
URL_HELP = (
    "set SLOCTL_STORE_URL (or store_url in sloctl.yaml) to a SQLAlchemy URL such as "
    "sqlite:///.sloctl/sloctl.db or postgresql+psycopg://user:password@host/sloctl"
)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def shown(url: str | URL) -> str:
    """The URL with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for in-memory databases."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return None
    return Path(database)


def _use_sqlite_pragmas(engine: Engine) -> None:
    """WAL journal, synchronous=NORMAL, a busy timeout, foreign keys, and real BEGINs.

    pysqlite defers BEGIN until the first write; emitting it ourselves makes every transaction,
    reads included, atomic and consistent (SQLAlchemy's documented recipe).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN")


def open_engine(url: str) -> Engine:
    """An Engine for ``url``; creates the folder of a SQLite file. Raises StoreError."""
    try:
        parsed = make_url(url)
    except ArgumentError as err:
        raise StoreError(
            f"the store URL {url!r} is not a valid SQLAlchemy URL: {URL_HELP}"
        ) from err
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite and (path := _sqlite_file(parsed)) is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise StoreError(
                f"cannot create the folder {path.parent} of the store {shown(parsed)}: "
                f"{err.strerror}. Create it or {URL_HELP}"
            ) from err
    try:
        engine = create_engine(parsed, json_serializer=_compact_json)
    except (NoSuchModuleError, ArgumentError, ImportError) as err:
        raise StoreError(
            f"cannot open the store {shown(parsed)}: {err}. Install the database driver "
            f"(PostgreSQL: pip install 'sloctl[postgres]') or {URL_HELP}"
        ) from err
    if is_sqlite:
        _use_sqlite_pragmas(engine)
    return engine
