"""The store's database: engines, the one transaction helper, errors that say how to fix them.

``Database(url)`` opens an engine: SQLite in WAL mode with a busy timeout (write transactions
take the write lock at BEGIN, so a writer waits for another process instead of failing with
"database is locked"), PostgreSQL with a connection pool that pings before use. ``read_only``
opens SQLite files with ``mode=ro`` and runs PostgreSQL transactions ``READ ONLY``.

Every SQLAlchemy or driver error leaves as one ``StoreError``: what failed, on which store (its
password masked) and how to fix it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from sloctl.errors import StoreError
from sloctl.redact import redact as redact_text
from sloctl.redact import register_secret

SQLITE_BUSY_TIMEOUT_MS = 30_000  # a writer waits this long for another process's write
POOL_SIZE = 5  # PostgreSQL: connections kept open per process ...
POOL_MAX_OVERFLOW = 5  # ... plus this many more under load
POOL_TIMEOUT_SECONDS = 30  # waiting for a free pooled connection
POOL_RECYCLE_SECONDS = 1800  # reconnect after this long (idle-killing proxies, failovers)
CONNECT_TIMEOUT_SECONDS = 10  # PostgreSQL: an unreachable server fails after this long
URL_HELP = (
    "set SLOCTL_STORE_URL (or store_url in sloctl.yaml) to a SQLAlchemy URL such as "
    "sqlite:///.sloctl/sloctl.db or postgresql+psycopg://user:password@host/sloctl"
)


def shown(url: str | URL) -> str:
    """The URL with its password masked, for messages (also when it does not parse)."""
    text = url.render_as_string(hide_password=False) if isinstance(url, URL) else str(url)
    return redact_text(text)


def redact(text: str, url: str | URL) -> str:
    """``text`` with the URL's password (if any) masked wherever it appears."""
    try:
        password = make_url(url).password
    except (ArgumentError, ValueError):
        password = None
    register_secret(str(password) if password else None)
    return redact_text(text)


def first_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def store_error(action: str, url: str | URL, err: BaseException, fix: str = "") -> StoreError:
    """The one StoreError for a failed store operation: what, where, why, and how to fix it."""
    fix = fix or (
        "Check that the database is reachable and writable (SQLite: disk space and file "
        f"permissions), or {URL_HELP}"
    )
    return StoreError(redact(f"{action} the store {shown(url)} failed: {first_line(err)}. {fix}",
                             url))


def parse_url(url: str) -> URL:
    """The parsed URL; StoreError (password masked) when it is not a SQLAlchemy URL."""
    try:
        return make_url(url)
    except (ArgumentError, ValueError):
        # ``from None``: the parser's message repeats the URL, password included
        raise StoreError(
            f"the store URL {shown(url)!r} is not a valid SQLAlchemy URL: {URL_HELP}"
        ) from None


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL; None for other backends and in-memory databases."""
    if url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:") or url.query.get("uri"):
        return None
    return Path(database)


def _compact_json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _sqlite_events(engine: Engine, read_only: bool) -> None:
    """WAL, synchronous=NORMAL, busy timeout, foreign keys; BEGIN (IMMEDIATE for writes).

    pysqlite defers BEGIN until the first write; emitting it ourselves makes every transaction
    atomic and consistent, and DDL transactional (migrations roll back whole).
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if read_only:
                cursor.execute("PRAGMA query_only=ON")
            else:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get("sloctl_write", False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def open_engine(url: str, *, read_only: bool = False) -> Engine:
    """An Engine for ``url`` (see the module docstring). Raises StoreError.

    A writer creates the folder of a SQLite file; a reader needs the file to exist.
    """
    parsed = parse_url(url)
    backend = parsed.get_backend_name()
    path = sqlite_file(parsed)
    options: dict[str, Any] = {"json_serializer": _compact_json, "pool_pre_ping": True}
    if backend == "sqlite":
        if path is None:  # in memory: one connection, shared, or each would see its own database
            options.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        elif read_only:
            if not path.is_file():
                raise StoreError(
                    f"the store {shown(parsed)} does not exist yet: run `sloctl eval` or "
                    f"`sloctl serve` to create and fill it (or `sloctl db upgrade`), or {URL_HELP}"
                )
            parsed = parsed.set(database=f"file:{path.resolve()}?mode=ro",
                                query={**parsed.query, "uri": "true"})
        else:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as err:
                raise StoreError(
                    f"cannot create the folder {path.parent} of the store {shown(parsed)}: "
                    f"{err.strerror}. Create it or {URL_HELP}"
                ) from err
    elif backend == "postgresql":
        options.update(pool_size=POOL_SIZE, max_overflow=POOL_MAX_OVERFLOW,
                       pool_timeout=POOL_TIMEOUT_SECONDS, pool_recycle=POOL_RECYCLE_SECONDS,
                       connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS})
        if read_only:
            options["execution_options"] = {"postgresql_readonly": True}
    try:
        engine = create_engine(parsed, **options)
    except (NoSuchModuleError, ArgumentError, ImportError, TypeError) as err:
        raise StoreError(redact(
            f"cannot open the store {shown(parsed)}: {first_line(err)}. Install the database "
            f"driver (PostgreSQL: pip install 'sloctl[postgres]') or {URL_HELP}", url
        )) from None
    if backend == "sqlite":
        _sqlite_events(engine, read_only)
    return engine


class Database:
    """An engine and the one transaction helper every part of the store uses.

    ``read`` and ``write`` are transactions (committed on success, rolled back on error) whose
    database errors become ``StoreError``; a read-only Database refuses ``write``.
    """

    def __init__(self, url: str, *, read_only: bool = False, engine: Engine | None = None):
        self.url = url
        self.read_only = read_only
        self._owns_engine = engine is None
        self.engine = engine if engine is not None else open_engine(url, read_only=read_only)
        self.dialect = self.engine.dialect.name
        # SQLite has one writer at a time: this process's writers queue on a lock (no polling
        # in the busy handler); other processes wait in BEGIN IMMEDIATE (busy timeout).
        self._write_lock: AbstractContextManager[Any] = (
            threading.Lock() if self.dialect == "sqlite" else nullcontext()
        )

    def reader(self) -> Database:
        """A read-only view on the same connection pool (PostgreSQL: READ ONLY transactions)."""
        engine = self.engine
        if self.dialect == "postgresql":
            engine = engine.execution_options(postgresql_readonly=True)
        return Database(self.url, read_only=True, engine=engine)

    @contextmanager
    def read(self, action: str = "reading") -> Iterator[Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise store_error(action, self.url, err) from err

    @contextmanager
    def write(self, action: str) -> Iterator[Connection]:
        if self.read_only:
            raise StoreError(f"{action} the store {shown(self.url)} refused: it was opened "
                             "read-only (a reader never writes)")
        try:
            with self._write_lock, self.engine.connect() as conn:
                conn.execution_options(sloctl_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as err:
            raise store_error(action, self.url, err) from err

    def close(self) -> None:
        """Close every pooled connection (a ``reader()`` view leaves its parent's pool alone)."""
        if self._owns_engine:
            self.engine.dispose()
