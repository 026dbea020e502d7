"""A throwaway PostgreSQL cluster (tests, `python -m sloctl.demo --postgres`): initdb in a temp
folder, a unix socket, no TCP.

    with postgres_cluster() as pg:          # ~1.5 s: initdb, then pg_ctl start -w
        url = pg.create_database("case1")   # postgresql+psycopg://postgres@/case1?host=...
        ...
    # stopped (pg_ctl -m fast) and its folder removed, whatever happened

Debian's ``postgresql`` 15 (``/usr/lib/postgresql/15/bin``; `make test` installs it). PostgreSQL
refuses to run as root, so as root the cluster runs as the ``postgres`` user (``runuser``) in a
folder it owns under /tmp. ``skip_reason()`` says why tests cannot run (binaries missing), so
tests skip with that reason instead of failing on a machine without them; the demo says it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("SLOCTL_PG_BIN", "/usr/lib/postgresql/15/bin"))
RUN_AS = "postgres"  # the unprivileged user the cluster runs as when the tests run as root
PORT = 5432  # only names the socket file: the cluster listens on no TCP address


def skip_reason() -> str | None:
    """Why a PostgreSQL cluster cannot be started here, or None when it can."""
    missing = [name for name in ("initdb", "pg_ctl") if not (PG_BIN / name).is_file()]
    if missing:
        return (
            f"PostgreSQL binaries {', '.join(missing)} not found in {PG_BIN}: install Debian's "
            "postgresql (`make test` does) or set SLOCTL_PG_BIN"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(RUN_AS)
        except KeyError:
            return f"running as root and there is no {RUN_AS!r} user to run PostgreSQL as"
    return None


@dataclass(frozen=True)
class PostgresCluster:
    """A running cluster: connect over the unix socket in ``socket_dir``."""

    data_dir: Path
    socket_dir: Path
    port: int = PORT

    def url(self, database: str = "postgres", password: str | None = None) -> str:
        """A SQLAlchemy URL (psycopg 3) of ``database`` as the superuser ``postgres``."""
        auth = "postgres" if password is None else f"postgres:{password}"
        return f"postgresql+psycopg://{auth}@/{database}?host={self.socket_dir}&port={self.port}"

    def psql(self, sql: str, database: str = "postgres") -> None:
        """Run SQL in autocommit mode (CREATE/DROP DATABASE cannot run in a transaction)."""
        import psycopg

        with psycopg.connect(
            dbname=database, user="postgres", host=str(self.socket_dir), port=self.port,
            autocommit=True,
        ) as conn:
            conn.execute(sql.encode())  # our own statements, never user input

    def create_database(self, name: str) -> str:
        """A new empty database; returns its URL."""
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _as_owner(argv: list[str]) -> list[str]:
    return ["runuser", "-u", RUN_AS, "--", *argv] if os.geteuid() == 0 else argv


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(_as_owner(argv), capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        raise RuntimeError(f"{what} failed ({done.returncode}): {done.stdout}{done.stderr}")


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """Start a new cluster; stop it and remove its folder on exit (see module docstring)."""
    reason = skip_reason()
    if reason is not None:
        raise RuntimeError(reason)
    root = Path(tempfile.mkdtemp(prefix="sloctl-pg-"))  # short: socket paths max ~100 bytes
    data = root / "data"
    if os.geteuid() == 0:
        owner = pwd.getpwnam(RUN_AS)
        os.chown(root, owner.pw_uid, owner.pw_gid)
    started = False
    try:
        _run([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "--no-sync", "-E", "UTF8", "--locale=C"], "initdb")
        options = (f"-k {root} -c listen_addresses='' -p {PORT} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
              str(root / "server.log"), "-w", "-t", "60", "start"], "pg_ctl start")
        started = True
        yield PostgresCluster(data, root, PORT)
    finally:
        if started:
            _run([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                 "pg_ctl stop")
        shutil.rmtree(root, ignore_errors=True)
