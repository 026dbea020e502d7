"""A small local Loki for tests: the real routes, answers shaped exactly like the fixtures.

Loki cannot be installed here, so this server (stdlib ``ThreadingHTTPServer`` on 127.0.0.1)
evaluates the LogQL subset sloctl emits -- stream selectors, line filters, label filters and
``sum by (l) (count_over_time(... [d]))`` -- over in-memory streams, and answers like Loki does:
ns timestamps as strings, length-dependent timestamp parsing, ``stats`` from the fixture, plain-text
400 parse errors, ``401 no org id`` without a tenant, the 5000-entry limit, categorize-labels.

    with FakeLoki([FakeStream({"service_name": "a"}, [(ns, "line", {})])]) as loki:
        LokiSource(LokiSettings(url=loki.url))...
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "loki"
STATS = json.loads((FIXTURES / "stats_block_all_fields_zero.json").read_text())
MAX_ENTRIES = 5000
NO_ORG_ID = "no org id"
LOG_INSTANT = (
    "log queries are not supported as an instant query type, please change your query to a "
    "range query type"
)
EMPTY_COMPATIBLE = (
    "queries require at least one regexp or equality matcher that does not have an "
    'empty-compatible value. For instance, app=~".*" does not meet this requirement, but '
    'app=~".+" will'
)
_UNITS = {
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
_STR = r'"(?:[^"\\\n]|\\.)*"'


@dataclass
class FakeStream:
    """One stream: labels and (ns, line, structured metadata) entries."""

    labels: dict[str, str]
    entries: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)


class LogQLError(Exception):
    """A 400 with Loki's plain-text message."""


# --- the LogQL subset ---


@dataclass(frozen=True)
class LogQuery:
    matchers: tuple[tuple[str, str, str], ...]
    line_filters: tuple[tuple[str, str], ...]
    label_filters: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class MetricQuery:
    by: str
    inner: LogQuery
    range_ns: int


class _Parser:
    def __init__(self, text: str) -> None:
        self.text, self.pos = text, 0

    def fail(self, what: str = "") -> LogQLError:
        rest = self.text[self.pos :]
        token = what or (repr(rest[:12]) if rest else "end of input")
        return LogQLError(
            f"parse error at line 1, col {self.pos + 1}: syntax error: unexpected {token}"
        )

    def take(self, pattern: str) -> re.Match[str] | None:
        m = re.compile(pattern).match(self.text, self.pos)
        if m:
            self.pos = m.end()
        return m

    def expect(self, pattern: str) -> re.Match[str]:
        m = self.take(pattern)
        if m is None:
            raise self.fail()
        return m

    def string(self) -> str:
        m = self.expect(_STR)
        value: str = json.loads(m.group(0))
        return value

    def log_query(self) -> LogQuery:
        self.expect(r"\{\s*")
        matchers = []
        while True:
            name = self.expect(r"[a-zA-Z_][a-zA-Z0-9_]*").group(0)
            op = self.expect(r"=~|!~|!=|=").group(0)
            matchers.append((name, op, self.string()))
            if not self.take(r"\s*,\s*"):
                break
        self.expect(r"\s*\}")
        lines, labels = [], []
        while True:
            if m := self.take(r"\s*(\|=|!=|\|~|!~)\s*"):
                lines.append((m.group(1), self.string()))
            elif self.take(r"\s*\|\s*"):
                name = self.expect(r"[a-zA-Z_][a-zA-Z0-9_]*").group(0)
                op = self.expect(r"=~|!~|!=|=").group(0)
                labels.append((name, op, self.string()))
            else:
                break
        return LogQuery(tuple(matchers), tuple(lines), tuple(labels))

    def query(self) -> LogQuery | MetricQuery:
        if by := self.take(r"sum by \(([a-zA-Z_][a-zA-Z0-9_]*)\) \(count_over_time\("):
            inner = self.log_query()
            rng = self.expect(r"\s*\[(\d+)(ms|s|m|h|d|w)\]\)\)")
            result: LogQuery | MetricQuery = MetricQuery(
                by.group(1), inner, int(rng.group(1)) * _UNITS[rng.group(2)]
            )
        else:
            result = self.log_query()
        if self.pos != len(self.text):
            raise self.fail()
        return result


def parse_logql(text: str) -> LogQuery | MetricQuery:
    """Parse the subset; a ``LogQLError`` carries Loki's message for anything else."""
    query = _Parser(text).query()
    inner = query.inner if isinstance(query, MetricQuery) else query
    if all(_label_match(op, value, "") for _, op, value in inner.matchers):
        raise LogQLError(EMPTY_COMPATIBLE)
    return query


def _label_match(op: str, pattern: str, value: str) -> bool:
    if op == "=":
        return value == pattern
    if op == "!=":
        return value != pattern
    hit = re.fullmatch(pattern, value) is not None
    return hit if op == "=~" else not hit


def _line_match(op: str, text: str, line: str) -> bool:
    if op == "|=":
        return text in line
    if op == "!=":
        return text not in line
    hit = re.search(text, line) is not None
    return hit if op == "|~" else not hit


def parse_timestamp(value: str) -> int:
    """Loki's ``parseTimestamp``: '.' -> float s; <= 10 digits -> s; more -> ns; else RFC3339."""
    if "." in value:
        return round(float(value) * 1000) * 10**6
    if value.isdigit():
        return int(value) * 10**9 if len(value) <= 10 else int(value)
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return int(dt.timestamp()) * 10**9 + dt.microsecond * 1000


# --- the server ---


@dataclass
class Request:
    path: str
    params: dict[str, list[str]]
    headers: dict[str, str]


class FakeLoki:
    """The fake server; ``requests`` records every request (path, params, headers)."""

    def __init__(
        self,
        streams: list[FakeStream],
        *,
        tenant: str | None = None,
        warnings: list[str] | None = None,
        now_ns: int = 0,
    ) -> None:
        self.streams = streams
        self.tenant = tenant
        self.warnings = warnings or []
        self.now_ns = now_ns
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                fake._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeLoki:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    # --- dispatch ---

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in h.headers.items()}
        with self._lock:
            self.requests.append(Request(parts.path, params, headers))
        if self.tenant is not None and "x-scope-orgid" not in headers:
            return _send(h, 401, NO_ORG_ID)
        visible = (
            self.streams if self.tenant is None or headers["x-scope-orgid"] == self.tenant else []
        )
        routes: dict[str, Callable[[dict[str, str], list[FakeStream], dict[str, str]], Any]] = {
            "/loki/api/v1/query_range": self._query_range,
            "/loki/api/v1/query": self._query,
            "/loki/api/v1/labels": self._labels,
            "/loki/api/v1/series": self._series,
        }
        one = {k: v[-1] for k, v in params.items()}
        label_values = re.fullmatch(r"/loki/api/v1/label/([^/]+)/values", parts.path)
        try:
            if label_values:
                body = self._label_values(label_values.group(1), one, visible)
            elif parts.path in routes:
                if parts.path == "/loki/api/v1/series":
                    one["match[]"] = "\x00".join(params.get("match[]", []))
                body = routes[parts.path](one, visible, headers)
            else:
                return _send(h, 404, "404 page not found")
        except LogQLError as exc:
            return _send(h, 400, str(exc))
        return _send(h, 200, json.dumps(body), "application/json; charset=UTF-8")

    # --- routes ---

    def _range_params(self, p: dict[str, str]) -> tuple[int, int, int, str]:
        end = parse_timestamp(p["end"]) if "end" in p else self.now_ns
        start = parse_timestamp(p["start"]) if "start" in p else end - 3600 * 10**9
        limit = int(p.get("limit", "100"))
        direction = p.get("direction", "backward").lower()
        if end <= start:
            raise LogQLError("end timestamp must not be before or equal to start time")
        if limit <= 0:
            raise LogQLError("limit must be a positive value")
        if limit > MAX_ENTRIES:
            raise LogQLError(
                "max entries limit per query exceeded, limit > max_entries_limit_per_query "
                f"({limit} > {MAX_ENTRIES})"
            )
        if direction not in ("forward", "backward"):
            raise LogQLError(f"invalid direction '{p['direction']}'")
        return start, end, limit, direction

    def _query_range(
        self, p: dict[str, str], streams: list[FakeStream], headers: dict[str, str]
    ) -> dict[str, Any]:
        query = parse_logql(p.get("query", ""))
        start, end, limit, direction = self._range_params(p)
        if isinstance(query, MetricQuery):
            step = int(float(p.get("step", str(max((end - start) // 10**9 // 250, 1)))) * 10**9)
            series: dict[str, list[list[Any]]] = {}
            t = start
            while t <= end:
                for group, count in _count(query, streams, t).items():
                    series.setdefault(group, []).append([t / 10**9, str(count)])
                t += step
            result = [{"metric": {query.by: k}, "values": v} for k, v in sorted(series.items())]
            return self._envelope("matrix", result)
        categorize = "categorize-labels" in headers.get("x-loki-response-encoding-flags", "")
        hits = [
            (ns, line, meta, s)
            for s in streams
            for ns, line, meta in s.entries
            if start <= ns < end and _selects(query, s, line, meta)
        ]
        hits.sort(key=lambda e: e[0], reverse=direction == "backward")
        grouped: dict[str, dict[str, Any]] = {}
        for ns, line, meta, s in hits[:limit]:
            labels = s.labels if categorize else {**s.labels, **meta}
            key = json.dumps(labels, sort_keys=True)
            entry: list[Any] = [str(ns), line]
            if categorize:
                entry.append({"structuredMetadata": meta} if meta else {})
            grouped.setdefault(key, {"stream": labels, "values": []})["values"].append(entry)
        return self._envelope("streams", list(grouped.values()), categorize=categorize)

    def _query(
        self, p: dict[str, str], streams: list[FakeStream], headers: dict[str, str]
    ) -> dict[str, Any]:
        query = parse_logql(p.get("query", ""))
        if not isinstance(query, MetricQuery):
            raise LogQLError(LOG_INSTANT)
        at = parse_timestamp(p["time"]) if "time" in p else self.now_ns
        counts = _count(query, streams, at)
        result = [
            {"metric": {query.by: k}, "value": [at / 10**9, str(v)]}
            for k, v in sorted(counts.items())
        ]
        return self._envelope("vector", result)

    def _labels(
        self, p: dict[str, str], streams: list[FakeStream], headers: dict[str, str]
    ) -> dict[str, Any]:
        names = sorted({k for s in self._in_range(p, streams) for k in s.labels})
        return {"status": "success", "data": names} if names else {"status": "success"}

    def _label_values(
        self, name: str, p: dict[str, str], streams: list[FakeStream]
    ) -> dict[str, Any]:
        values = sorted({s.labels[name] for s in self._in_range(p, streams) if name in s.labels})
        return {"status": "success", "data": values} if values else {"status": "success"}

    def _series(
        self, p: dict[str, str], streams: list[FakeStream], headers: dict[str, str]
    ) -> dict[str, Any]:
        selectors = [parse_logql(m) for m in p["match[]"].split("\x00") if m]
        found = [
            s.labels
            for s in self._in_range(p, streams)
            if any(isinstance(q, LogQuery) and _stream_matches(q, s) for q in selectors)
        ]
        return {"status": "success", "data": found}

    def _in_range(self, p: dict[str, str], streams: list[FakeStream]) -> list[FakeStream]:
        end = parse_timestamp(p["end"]) if "end" in p else self.now_ns
        start = parse_timestamp(p["start"]) if "start" in p else end - 3600 * 10**9
        query = parse_logql(p["query"]) if p.get("query") else None
        return [
            s
            for s in streams
            if any(start <= ns < end for ns, _, _ in s.entries)
            and (not isinstance(query, LogQuery) or _stream_matches(query, s))
        ]

    def _envelope(
        self, kind: str, result: list[Any], *, categorize: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {"resultType": kind}
        if categorize:
            data["encodingFlags"] = ["categorize-labels"]
        data["result"] = result
        data["stats"] = STATS
        body: dict[str, Any] = {"status": "success"}
        if self.warnings:
            body["warnings"] = self.warnings
        body["data"] = data
        return body


def _stream_matches(q: LogQuery, s: FakeStream) -> bool:
    return all(_label_match(op, v, s.labels.get(name, "")) for name, op, v in q.matchers)


def _selects(q: LogQuery, s: FakeStream, line: str, meta: dict[str, str]) -> bool:
    labels = {**s.labels, **meta}
    return (
        _stream_matches(q, s)
        and all(_line_match(op, text, line) for op, text in q.line_filters)
        and all(_label_match(op, v, labels.get(name, "")) for name, op, v in q.label_filters)
    )


def _count(q: MetricQuery, streams: list[FakeStream], at: int) -> dict[str, int]:
    """count_over_time over (at - range, at], summed by one label; absent groups omitted."""
    counts: dict[str, int] = {}
    for s in streams:
        for ns, line, meta in s.entries:
            if at - q.range_ns < ns <= at and _selects(q.inner, s, line, meta):
                key = s.labels.get(q.by, "")
                counts[key] = counts.get(key, 0) + 1
    return counts


def _send(
    h: BaseHTTPRequestHandler,
    status: int,
    body: str,
    content_type: str = "text/plain; charset=utf-8",
) -> None:
    data = body.encode()
    h.send_response(status)
    h.send_header("Content-Type", content_type)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    h.wfile.write(data)
