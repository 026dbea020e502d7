"""Exemplar traces for a breaching SLO or a firing alert: the slowest and the failing traces,
found in Jaeger (the values themselves are ``sloctl.core.exemplars``)."""

from __future__ import annotations

from datetime import UTC, datetime

from sloctl.core.exemplars import Exemplars, TraceLink
from sloctl.core.spans import TraceSummary, trace_summaries
from sloctl.sources.jaeger import JaegerSource


def trace_link(summary: TraceSummary, url: str) -> TraceLink:
    """A ``TraceLink`` from a trace summary and its UI URL."""
    start = datetime.fromtimestamp(summary.start_ns / 1e9, UTC)
    return TraceLink(
        trace_id=summary.trace_id,
        root_service=summary.root_service,
        root_operation=summary.root_operation,
        start=start.isoformat(),
        duration_seconds=summary.duration_ns / 1e9,
        spans=summary.span_count,
        errors=summary.error_count,
        url=url,
    )


def find_exemplars(
    client: JaegerSource,
    service: str,
    start: datetime,
    end: datetime,
    limit: int = 3,
    search_depth: int = 100,
) -> Exemplars:
    """Up to ``limit`` slowest and ``limit`` failing traces of ``service`` in the window.

    Searches the ``search_depth`` most recent traces; when fewer than ``limit`` of them fail,
    a second search asks Jaeger (>= v2.19) for traces with ``error=true`` spans.
    Raises ``BackendError`` when Jaeger cannot answer.
    """
    summaries = trace_summaries(client.search(service, start, end, limit=search_depth), service)
    failing = [s for s in summaries if s.error_count > 0]
    if len(failing) < limit:
        seen = {s.trace_id for s in failing}
        extra = client.search(service, start, end, limit=search_depth, attributes={"error": "true"})
        failing += [
            s
            for s in trace_summaries(extra, service)
            if s.error_count > 0 and s.trace_id not in seen
        ]
    slowest = sorted(summaries, key=lambda s: (-s.duration_ns, s.trace_id))[:limit]
    failing = sorted(failing, key=lambda s: (-s.start_ns, s.trace_id))[:limit]
    return Exemplars(
        service=service,
        start=start.astimezone(UTC).isoformat(),
        end=end.astimezone(UTC).isoformat(),
        slowest=tuple(trace_link(s, client.trace_url(s.trace_id)) for s in slowest),
        failing=tuple(trace_link(s, client.trace_url(s.trace_id)) for s in failing),
    )


__all__ = ["Exemplars", "TraceLink", "find_exemplars", "trace_link"]
