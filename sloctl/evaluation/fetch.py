"""Run a cycle's queries: every backend at one instant, concurrently, each failure kept.

The only I/O of a cycle's measuring part. Prometheus and Loki queries share one thread pool; a
query that fails keeps its ``BackendError`` as its result, so one bad answer never sinks a cycle.
Each query is a client span (``sloctl.backend_query``, OpenTelemetry API) whose parent is the
span current where ``fetch`` was called (the cycle's), carried into the pool's threads explicitly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import urlsplit

from opentelemetry import context, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from sloctl.core.samples import Sample
from sloctl.errors import BackendError, BackendUnreachable
from sloctl.evaluation.plan import Backend, Query

Outcome = list[Sample] | BackendError
Results = Mapping[Query, Outcome]
QUERY_SPAN = "sloctl.backend_query"
MAX_QUERY_TEXT = 2048  # characters of a query's text kept on its span

_tracer = trace.get_tracer(__name__)


class MetricsBackend(Protocol):
    """One backend's instant queries: samples, or a ``BackendError`` raised. ``url`` is its base
    URL (its host and port go on the query spans)."""

    url: str

    def query(self, text: str, at: datetime) -> list[Sample]: ...


class LokiMetrics:
    """Loki's instant metric queries (``LokiSource.metric``) as samples."""

    def __init__(self, source: Any) -> None:
        self.source = source
        self.url: str = source.url

    def query(self, text: str, at: datetime) -> list[Sample]:
        return [Sample(p.labels, p.value) for p in self.source.metric(text, at)]


def fetch(
    queries: Sequence[Query],
    at: datetime,
    backends: Mapping[Backend, MetricsBackend],
    *,
    workers: int = 8,
    on_done: Callable[[int, int], None] | None = None,
) -> dict[Query, Outcome]:
    """Every distinct query evaluated at ``at``, concurrently; ``on_done(done, total)`` after each.

    A query whose backend is not configured fails with a ``BackendUnreachable`` naming it.
    """
    unique = list(dict.fromkeys(queries))
    if not unique:
        return {}
    parent = context.get_current()  # thread pools do not carry it: pass it to each span

    def run(q: Query) -> Outcome:
        backend = backends.get(q.backend)
        if backend is None:
            return BackendUnreachable(q.backend, f"no {q.backend} source is configured",
                                      query=q.text)
        with _tracer.start_as_current_span(
            QUERY_SPAN, context=parent, kind=SpanKind.CLIENT,
            attributes=query_attributes(q, backend.url),
        ) as span:
            try:
                return backend.query(q.text, at)
            except BackendError as exc:
                span.record_exception(exc)
                span.set_attribute("error.type", type(exc).__qualname__)
                span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
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


def query_attributes(q: Query, url: str) -> dict[str, str | int]:
    """Attributes of a query span: the backend's host and port (not its URL), the query text
    (its first ``MAX_QUERY_TEXT`` characters)."""
    parts = urlsplit(url)
    return {
        "server.address": parts.hostname or "",
        "server.port": parts.port or (443 if parts.scheme == "https" else 80),
        "sloctl.backend": q.backend,
        "sloctl.query.text": q.text[:MAX_QUERY_TEXT],
    }
