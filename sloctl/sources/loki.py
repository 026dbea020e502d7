"""Loki adapter: log and metric queries, labels and series over Loki's HTTP API (httpx).

Timestamps are always sent as integer nanoseconds (Loki reads a value of 10 digits or fewer as
seconds), log results past Loki's 5000-entry limit are fetched page by page, and ``tenant`` goes
out as ``X-Scope-OrgID``. Loki's errors are plain text; they are surfaced verbatim. Failures
map to typed errors through the shared table of ``sources.http_errors``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Literal

import httpx

from sloctl.errors import BackendProtocolError, BackendUnreachable
from sloctl.settings import LokiSettings
from sloctl.sources.capped import Caps, read_capped
from sloctl.sources.http_errors import FAILURES, Endpoint, request_error, status_error
from sloctl.sources.promql import check_label_name

BACKEND = "loki"
MAX_ENTRIES = 5000  # Loki's default max_entries_limit_per_query
Direction = Literal["backward", "forward"]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ns(at: datetime) -> int:
    """Exact integer nanoseconds since the epoch of an aware ``datetime``."""
    if at.tzinfo is None:
        raise ValueError(f"datetime {at.isoformat()} has no time zone; pass an aware datetime")
    return (at - _EPOCH) // timedelta(microseconds=1) * 1000


def from_ns(ns: int) -> datetime:
    """UTC ``datetime`` of integer nanoseconds (sub-microsecond digits are dropped)."""
    return _EPOCH + timedelta(microseconds=ns // 1000)


@dataclass(frozen=True)
class LogEntry:
    """One log line: nanosecond timestamp, its stream's labels, the line, and (with the
    categorize-labels encoding) its structured metadata and parsed labels."""

    ns: int
    line: str
    labels: Mapping[str, str]
    structured_metadata: Mapping[str, str] = field(default_factory=dict)
    parsed: Mapping[str, str] = field(default_factory=dict)

    @property
    def time(self) -> datetime:
        return from_ns(self.ns)

    def key(self) -> tuple[int, tuple[tuple[str, str], ...], str]:
        """Identity of the entry, for de-duplicating page boundaries."""
        return self.ns, tuple(sorted(self.labels.items())), self.line


@dataclass(frozen=True)
class MetricPoint:
    """One sample of a metric query: unix seconds (ms precision) and value."""

    labels: Mapping[str, str]
    ts: float
    value: float


@dataclass(frozen=True)
class QueryStats:
    """The few ``stats.summary`` fields sloctl reads (the rest differs between Loki versions)."""

    exec_time: float | None
    total_lines_processed: int | None
    total_bytes_processed: int | None
    total_entries_returned: int | None


@dataclass(frozen=True)
class QueryResult:
    """A parsed query answer. ``entries`` for streams; ``points`` for matrix and vector."""

    result_type: str
    entries: tuple[LogEntry, ...] = ()
    points: tuple[MetricPoint, ...] = ()
    warnings: tuple[str, ...] = ()
    stats: QueryStats | None = None
    encoding_flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class Page:
    """Entries of a paged log query, newest first for backward; ``truncated`` if ``limit`` hit."""

    entries: tuple[LogEntry, ...]
    requests: int
    truncated: bool
    warnings: tuple[str, ...] = ()


class LokiSource:
    """A client of one Loki (or a Loki-compatible gateway)."""

    def __init__(
        self, settings: LokiSettings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.settings = settings
        self.url = settings.url.rstrip("/")
        headers = {"Accept": "application/json"}
        if settings.tenant:
            headers["X-Scope-OrgID"] = settings.tenant
        self._http = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=settings.timeout_seconds,
            transport=transport,
        )
        self.endpoint = Endpoint(
            BACKEND,
            self.url,
            name="Loki",
            timeout_seconds=settings.timeout_seconds,
            check_url="Check loki.url / SLOCTL_LOKI_URL",
            timeout_fix="raise loki.timeout_seconds or narrow the query (shorter range, exact "
            "label matchers)",
            status_hints=_HINTS,
        )
        self.caps = Caps(BACKEND, settings.max_bytes, "loki.max_bytes",
                         max_series=settings.max_series, series_setting="loki.max_series")
        self._closed = False
        self.requests_sent = 0

    def __enter__(self) -> LokiSource:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release pooled connections; later requests fail at once with ``BackendUnreachable``."""
        self._closed = True
        self._http.close()

    # --- queries ---

    def query(
        self, logql: str, at: datetime, *, limit: int = 100, direction: Direction = "backward"
    ) -> QueryResult:
        """Instant query at ``at`` (metric queries only; Loki rejects log queries here)."""
        params = {
            "query": logql,
            "time": str(to_ns(at)),
            "limit": str(limit),
            "direction": direction,
        }
        return parse_query(self._get("/loki/api/v1/query", params, logql), logql)

    def query_range(
        self,
        logql: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 100,
        direction: Direction = "backward",
        step_seconds: float | None = None,
        categorize_labels: bool = False,
    ) -> QueryResult:
        """Range query over ``[start, end)``: streams for a log query, matrix for a metric one."""
        return self._range(
            logql, to_ns(start), to_ns(end), limit, direction, step_seconds, categorize_labels
        )

    def metric(self, logql: str, at: datetime) -> list[MetricPoint]:
        """The vector of an instant metric query (what the log SLIs need)."""
        result = self.query(logql, at)
        if result.result_type != "vector":
            raise BackendProtocolError(
                BACKEND,
                f"expected a vector, got {result.result_type!r}; aggregate the metric "
                "query with sum by (...)",
                query=logql,
            )
        self.caps.check_series(len(result.points), logql)
        return list(result.points)

    def entries(
        self,
        logql: str,
        start: datetime,
        end: datetime,
        *,
        limit: int = 100,
        direction: Direction = "backward",
        page_size: int = MAX_ENTRIES,
        categorize_labels: bool = False,
    ) -> Page:
        """Up to ``limit`` log entries of ``[start, end)``, paging past the per-query limit.

        Each next page continues from the last timestamp seen, including it (several lines can
        share a nanosecond), and the entries already returned are dropped.
        """
        lo, hi = to_ns(start), to_ns(end)
        out: list[LogEntry] = []
        seen: set[tuple[int, tuple[tuple[str, str], ...], str]] = set()
        warnings: list[str] = []
        requests = 0
        while len(out) < limit and lo < hi:
            edge = out[-1].ns if out else None
            at_edge = sum(1 for e in out if e.ns == edge) if edge is not None else 0
            want = min(page_size, limit - len(out) + at_edge)
            result = self._range(logql, lo, hi, want, direction, None, categorize_labels)
            requests += 1
            warnings += [w for w in result.warnings if w not in warnings]
            if result.result_type != "streams":
                raise BackendProtocolError(
                    BACKEND,
                    f"expected log lines (streams), got {result.result_type!r}; "
                    "use a log query, not a metric query",
                    query=logql,
                )
            page = sort_entries(result.entries, direction)
            fresh = [e for e in page if e.key() not in seen]
            for e in fresh[: limit - len(out)]:
                seen.add(e.key())
                out.append(e)
            if len(page) < want:
                return Page(tuple(out), requests, False, tuple(warnings))
            if not fresh:  # a full page within one nanosecond: cannot move on
                break
            if direction == "backward":
                hi = page[-1].ns + 1
            else:
                lo = page[-1].ns
        return Page(tuple(out), requests, len(out) >= limit or lo < hi, tuple(warnings))

    # --- labels and series ---

    def labels(self, start: datetime, end: datetime, query: str | None = None) -> list[str]:
        """Label names seen in ``[start, end)``, optionally within a stream selector."""
        return self._string_list("/loki/api/v1/labels", start, end, query)

    def label_values(
        self, name: str, start: datetime, end: datetime, query: str | None = None
    ) -> list[str]:
        """Values of label ``name`` in ``[start, end)``."""
        path = f"/loki/api/v1/label/{check_label_name(name)}/values"
        return self._string_list(path, start, end, query)

    def series(
        self, matchers: Sequence[str], start: datetime, end: datetime
    ) -> list[dict[str, str]]:
        """Label sets of the streams matching any of ``matchers`` (stream selectors)."""
        params: list[tuple[str, str]] = [("match[]", m) for m in matchers]
        params += [("start", str(to_ns(start))), ("end", str(to_ns(end)))]
        doc = self._get("/loki/api/v1/series", params, " ".join(matchers))
        data = doc.get("data")
        if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
            raise BackendProtocolError(BACKEND, "series answer lacks a data list of label sets")
        self.caps.check_series(len(data), " ".join(matchers))
        return [{str(k): str(v) for k, v in d.items()} for d in data]

    # --- transport ---

    def _range(
        self,
        logql: str,
        start_ns: int,
        end_ns: int,
        limit: int,
        direction: Direction,
        step_seconds: float | None,
        categorize_labels: bool,
    ) -> QueryResult:
        params = {
            "query": logql,
            "start": str(start_ns),
            "end": str(end_ns),
            "limit": str(limit),
            "direction": direction,
        }
        if step_seconds is not None:
            params["step"] = f"{step_seconds:g}"
        headers = (
            {"X-Loki-Response-Encoding-Flags": "categorize-labels"} if categorize_labels else {}
        )
        doc = self._get("/loki/api/v1/query_range", params, logql, headers)
        return parse_query(doc, logql)

    def _string_list(
        self, path: str, start: datetime, end: datetime, query: str | None
    ) -> list[str]:
        params = {"start": str(to_ns(start)), "end": str(to_ns(end))}
        if query is not None:
            params["query"] = query
        doc = self._get(path, params, query)
        data = doc.get("data", [])  # Loki omits data when the answer is empty
        if not isinstance(data, list):
            raise BackendProtocolError(BACKEND, f"{path} answer's data is not a list")
        return [str(v) for v in data]

    def _get(
        self,
        path: str,
        params: Mapping[str, str] | list[tuple[str, str]],
        logql: str | None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        if self._closed:
            raise BackendUnreachable(
                BACKEND, f"not sent to {self.url}: this client is closed (sloctl is stopping)",
                query=logql,
            )
        self.requests_sent += 1
        timeout = self.settings.timeout_seconds
        try:
            pairs = tuple(params.items()) if isinstance(params, Mapping) else tuple(params)
            with self._http.stream("GET", path, params=pairs, headers=headers) as answer:
                body = read_capped(
                    answer.iter_bytes(), self.caps, deadline=time.monotonic() + timeout,
                    timeout_seconds=timeout, timeout_fix=self.endpoint.timeout_fix, query=logql,
                )
            if answer.status_code != 200:  # Loki's body is the bare plain-text message
                raise status_error(self.endpoint, answer.status_code, body, query=logql)
            doc = json.loads(body)
        except FAILURES as exc:
            raise request_error(exc, self.endpoint, query=logql) from exc
        if not isinstance(doc, dict) or doc.get("status") != "success":
            status = doc.get("status") if isinstance(doc, dict) else None
            raise BackendProtocolError(
                BACKEND, f"answer status is {status!r}, not 'success'", query=logql
            )
        return doc


_HINTS = {
    400: "the query or its parameters are invalid; fix the LogQL",
    401: "Loki runs with auth_enabled and needs a tenant; set loki.tenant (SLOCTL_LOKI_TENANT)",
    429: "Loki is rate limiting; retry later",
    504: "the query timed out in Loki; shorten the range or add exact label matchers",
}


# --- parsing (pure) ---


def parse_query(doc: Mapping[str, Any], logql: str = "") -> QueryResult:
    """Parse a ``query``/``query_range`` answer: streams, matrix or vector; stats optional."""
    try:
        data = doc["data"]
        kind = str(data["resultType"])
        raw = data["result"]
        warnings = tuple(str(w) for w in doc.get("warnings") or ())
        flags = tuple(str(f) for f in data.get("encodingFlags") or ())
        stats = parse_stats(data.get("stats"))
        if kind == "streams":
            entries = tuple(e for s in raw for e in _stream_entries(s))
            return QueryResult(
                kind, entries=entries, warnings=warnings, stats=stats, encoding_flags=flags
            )
        if kind == "matrix":
            points = tuple(_point(s["metric"], ts, value) for s in raw for ts, value in s["values"])
        elif kind == "vector":
            points = tuple(_point(s["metric"], *s["value"]) for s in raw)
        else:
            raise BackendProtocolError(
                BACKEND,
                f"unsupported resultType {kind!r}; expected streams, matrix or vector",
                query=logql,
            )
        return QueryResult(
            kind, points=points, warnings=warnings, stats=stats, encoding_flags=flags
        )
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise BackendProtocolError(
            BACKEND, f"malformed query answer ({exc!r}); not a Loki query API answer", query=logql
        ) from exc


def _stream_entries(stream: Mapping[str, Any]) -> list[LogEntry]:
    labels = {str(k): str(v) for k, v in stream["stream"].items()}
    out = []
    for value in stream["values"]:
        ns_text, line = value[0], value[1]
        if not isinstance(ns_text, str):
            raise ValueError(f"timestamp {ns_text!r} is not a nanosecond string")
        extra = value[2] if len(value) > 2 else {}
        meta = {str(k): str(v) for k, v in (extra.get("structuredMetadata") or {}).items()}
        parsed = {str(k): str(v) for k, v in (extra.get("parsed") or {}).items()}
        out.append(LogEntry(int(ns_text), str(line), labels, meta, parsed))
    return out


def _point(labels: Mapping[str, Any], ts: Any, value: Any) -> MetricPoint:
    return MetricPoint({str(k): str(v) for k, v in labels.items()}, float(ts), float(value))


def parse_stats(stats: Any) -> QueryStats | None:
    """``stats.summary`` fields, leniently: any missing field or block is ``None``."""
    if not isinstance(stats, dict) or not isinstance(stats.get("summary"), dict):
        return None
    summary = stats["summary"]

    def num(name: str) -> int | None:
        value = summary.get(name)
        return int(value) if isinstance(value, int | float) else None

    exec_time = summary.get("execTime")
    return QueryStats(
        exec_time=float(exec_time) if isinstance(exec_time, int | float) else None,
        total_lines_processed=num("totalLinesProcessed"),
        total_bytes_processed=num("totalBytesProcessed"),
        total_entries_returned=num("totalEntriesReturned"),
    )


def sort_entries(entries: Sequence[LogEntry], direction: Direction) -> list[LogEntry]:
    """Entries of all streams merged in time order: newest first for backward."""
    return sorted(entries, key=lambda e: e.ns, reverse=direction == "backward")
