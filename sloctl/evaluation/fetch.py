"""Run a cycle's queries: every backend at one instant, concurrently, each failure kept.

The only I/O of a cycle's measuring part. Prometheus and Loki queries share one thread pool; a
query that fails keeps its ``BackendError`` as its result, so one bad answer never sinks a cycle.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from typing import Any, Protocol

from sloctl.core.samples import Sample
from sloctl.errors import BackendError, BackendUnreachable
from sloctl.evaluation.plan import Backend, Query

Outcome = list[Sample] | BackendError
Results = Mapping[Query, Outcome]


class MetricsBackend(Protocol):
    """One backend's instant queries: samples, or a ``BackendError`` raised."""

    def query(self, text: str, at: datetime, parent: Any = None) -> list[Sample]: ...


class LokiMetrics:
    """Loki's instant metric queries (``LokiSource.metric``) as samples."""

    def __init__(self, source: Any) -> None:
        self.source = source

    def query(self, text: str, at: datetime, parent: Any = None) -> list[Sample]:
        return [Sample(p.labels, p.value) for p in self.source.metric(text, at)]


def fetch(
    queries: Sequence[Query],
    at: datetime,
    backends: Mapping[Backend, MetricsBackend],
    *,
    workers: int = 8,
    on_done: Callable[[int, int], None] | None = None,
    parent: Any = None,
) -> dict[Query, Outcome]:
    """Every distinct query evaluated at ``at``, concurrently; ``on_done(done, total)`` after each.

    A query whose backend is not configured fails with a ``BackendUnreachable`` naming it.
    ``parent`` is the telemetry span the query spans belong to.
    """
    unique = list(dict.fromkeys(queries))
    if not unique:
        return {}

    def run(q: Query) -> Outcome:
        backend = backends.get(q.backend)
        if backend is None:
            return BackendUnreachable(q.backend, f"no {q.backend} source is configured",
                                      query=q.text)
        try:
            return backend.query(q.text, at, parent)
        except BackendError as exc:
            return exc

    results: dict[Query, Outcome] = {}
    with ThreadPoolExecutor(max_workers=min(max(workers, 1), len(unique)),
                            thread_name_prefix="query") as pool:
        futures = {pool.submit(run, q): q for q in unique}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            if on_done:
                on_done(done, len(unique))
    return results
