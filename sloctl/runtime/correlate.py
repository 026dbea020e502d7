"""Correlate logs with traces and alerts: the log lines that carry a trace id or correlation id.

Two LogQL forms are asked and merged, because both layouts exist: a line filter (the id written
in the line text, any case, 32- or 16-hex form) and a ``trace_id`` label filter (structured
metadata from Loki's native OTLP ingestion, or a parsed label).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sloctl.sources import logql
from sloctl.sources.loki import Direction, LogEntry, LokiSource, sort_entries

TRACE_ID_LABEL = "trace_id"
Filters = Sequence[tuple[logql.LineOp, str]]
_HEX = re.compile(r"[0-9a-f]{16}|[0-9a-f]{32}")


def normalize_trace_id(value: str) -> str:
    """32 lower-case hex characters; a 16-character (64-bit) id is left-padded with zeros."""
    text = value.strip().lower().removeprefix("0x")
    if not _HEX.fullmatch(text):
        raise ValueError(
            f"invalid trace id {value!r}: use 32 (or 16) hexadecimal characters, "
            "e.g. 4bf92f3577b34da6a3ce929d0e0e4736"
        )
    return text.rjust(32, "0")


def trace_id_forms(trace_id: str) -> tuple[str, ...]:
    """The spellings a log line may carry: the 32-hex id, and the 16-hex one if it is 64-bit."""
    full = normalize_trace_id(trace_id)
    return (full, full[16:]) if full.startswith("0" * 16) else (full,)


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime


def around(at: datetime, before: timedelta, after: timedelta) -> TimeRange:
    """``[at - before, at + after)``, e.g. around an alert's firing time or a trace's start."""
    return TimeRange(at - before, at + after)


def trace_queries(
    service_label: str, service: str | None, trace_id: str, filters: Filters = ()
) -> list[str]:
    """LogQL for the lines of ``service`` (or any service) that carry ``trace_id``.

    ``filters`` are extra line filters (e.g. the error filter) applied to both forms.
    """
    pattern = "(?i)" + "|".join(trace_id_forms(trace_id))
    sel = logql.service_matchers(service_label, [service] if service else None)
    text = logql.log_query(sel, [*filters, ("|~", pattern)])
    label = logql.log_query(sel, filters, logql.label_filter(TRACE_ID_LABEL, "=~", pattern))
    return [text, label]


def correlation_queries(
    service_label: str, service: str | None, ident: str, filters: Filters = ()
) -> list[str]:
    """LogQL for the lines of ``service`` (or any service) that contain ``ident`` verbatim."""
    if not ident.strip():
        raise ValueError("the correlation id is empty; pass the id the logs carry")
    sel = logql.service_matchers(service_label, [service] if service else None)
    return [logql.log_query(sel, [*filters, ("|=", ident)])]


def merged_entries(
    source: LokiSource,
    queries: Sequence[str],
    span: TimeRange,
    limit: int,
    direction: Direction = "backward",
) -> list[LogEntry]:
    """Entries of all ``queries`` in ``span``, de-duplicated, in time order, at most ``limit``."""
    seen: dict[tuple[int, tuple[tuple[str, str], ...], str], LogEntry] = {}
    for q in queries:
        page = source.entries(q, span.start, span.end, limit=limit, direction=direction)
        for e in page.entries:
            seen.setdefault(e.key(), e)
    return sort_entries(list(seen.values()), direction)[:limit]


def logs_for_trace(
    source: LokiSource,
    service_label: str,
    service: str | None,
    trace_id: str,
    span: TimeRange,
    limit: int = 100,
) -> list[LogEntry]:
    """Log lines carrying ``trace_id`` in ``span``, newest first."""
    return merged_entries(source, trace_queries(service_label, service, trace_id), span, limit)


def logs_for_correlation_id(
    source: LokiSource,
    service_label: str,
    service: str | None,
    ident: str,
    span: TimeRange,
    limit: int = 100,
) -> list[LogEntry]:
    """Log lines containing the correlation id ``ident`` in ``span``, newest first."""
    return merged_entries(source, correlation_queries(service_label, service, ident), span, limit)
