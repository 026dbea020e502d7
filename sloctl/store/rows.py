"""Row helpers shared by the parts of the store: batches and a portable upsert."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any, TypeVar

from sqlalchemy import Connection, Table, bindparam, insert, select, update

IN_CHUNK = 500  # keys per IN (...) list
T = TypeVar("T")


def batched(items: Iterable[T], size: int) -> Iterator[tuple[T, ...]]:
    """``itertools.batched`` (Python 3.12) for Python 3.11."""
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    iterator = iter(items)
    while batch := tuple(islice(iterator, size)):
        yield batch


def upsert(conn: Connection, table: Table, key: str, rows: list[dict[str, Any]]) -> None:
    """Insert or update rows by primary key, portably (select the existing keys first).

    Rows with the same key: the last one wins.
    """
    by_key = {row[key]: row for row in rows}
    if not by_key:
        return
    existing: set[Any] = set()
    for chunk in batched(list(by_key), IN_CHUNK):
        existing.update(conn.scalars(select(table.c[key]).where(table.c[key].in_(chunk))))
    new = [row for k, row in by_key.items() if k not in existing]
    old = [
        {"key_": k, **{c: v for c, v in row.items() if c != key}}
        for k, row in by_key.items()
        if k in existing
    ]
    if new:
        conn.execute(insert(table), new)
    if old:
        conn.execute(update(table).where(table.c[key] == bindparam("key_")), old)
