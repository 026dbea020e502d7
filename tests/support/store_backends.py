"""Pytest fixtures that run a store test on SQLite and on PostgreSQL (a throwaway cluster).

    from tests.support.store_backends import postgres, store_url  # noqa: F401 (fixtures)

    def test_x(store_url: str) -> None: ...   # runs twice: [sqlite] and [postgresql]

One cluster per test session (``postgres``); every test gets its own new database, dropped
after it. Without PostgreSQL's binaries the [postgresql] cases skip, saying why.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.postgres import PostgresCluster, postgres_cluster, skip_reason

BACKENDS = ("sqlite", "postgresql")
_names = itertools.count(1)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One PostgreSQL cluster for the session (stopped and removed at its end)."""
    reason = skip_reason()
    if reason is not None:
        pytest.skip(reason)
    with postgres_cluster() as cluster:
        yield cluster


def new_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    """A URL of a new, empty database of ``backend`` (dropped after the test)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'store' / 'sloctl.db'}"
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres")
    name = f"t{next(_names)}"
    url = cluster.create_database(name)
    try:
        yield url
    finally:
        cluster.drop_database(name)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A new empty store URL, once per backend."""
    yield from new_database(request, request.param, tmp_path)
