"""A loopback Prometheus whose answers a test scripts, streamed chunk by chunk.

Each request takes the next ``Answer`` of the script (the last one repeats), or, with a ``route``,
the answer the route gives for it (``None``: the script's). The body goes out
with chunked transfer encoding as the iterator yields it, and the server records every request
(path, query, headers) and whether each body was written to its end, so a test can tell an
abandoned download (the client hung up) from a complete one.
"""

from __future__ import annotations

import gzip
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Answer:
    """One scripted answer: status, extra headers and the body's chunks; status 0 hangs up
    before answering."""

    chunks: Iterable[bytes]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """One request as the server got it, and how its answer ended."""

    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    finished: threading.Event = field(default_factory=threading.Event)
    sent_all: bool = False


def vector(n: int, labels: int = 1, per_chunk: int = 100) -> Iterator[bytes]:
    """A valid instant-vector answer with ``n`` series, ``per_chunk`` series per chunk."""
    yield b'{"status":"success","data":{"resultType":"vector","result":['
    for start in range(0, n, per_chunk):
        items = []
        for i in range(start, min(start + per_chunk, n)):
            metric = {f"l{j}": str(i) for j in range(labels)}
            items.append(json.dumps({"metric": metric, "value": [1.0, "1"]}))
        yield (b"," if start else b"") + ",".join(items).encode()
    yield b"]}}"


def gzipped(chunks: Iterable[bytes]) -> Answer:
    """``chunks`` compressed as one gzip body (``Content-Encoding: gzip``)."""
    return Answer([gzip.compress(b"".join(chunks))], headers={"Content-Encoding": "gzip"})


class StreamingPrometheus:
    """The server; use as a context manager (it stops and closes on exit)."""

    def __init__(
        self, *script: Answer, route: Callable[[Seen], Answer | None] | None = None
    ) -> None:
        self.script = list(script)
        self.route = route
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.handle_error = lambda *_: None  # type: ignore[method-assign]
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> StreamingPrometheus:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, seen: Seen) -> Answer:
        with self._lock:
            self.seen.append(seen)
            routed = self.route(seen) if self.route is not None else None
            if routed is not None:
                return routed
            return self.script[min(len(self.seen), len(self.script)) - 1]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                url = urlsplit(self.path)
                seen = Seen(url.path, parse_qs(url.query), dict(self.headers.items()))
                answer = fake._next(seen)
                if answer.status == 0:
                    self.close_connection = True
                    seen.finished.set()
                    return
                try:
                    self.send_response(answer.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Transfer-Encoding", "chunked")
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for chunk in answer.chunks:
                        if chunk:
                            self._write(chunk)
                    self._write(b"")
                    seen.sent_all = True
                except OSError:  # the client hung up: an abandoned download
                    self.close_connection = True
                finally:
                    seen.finished.set()

            def _write(self, data: bytes) -> None:
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()

            def log_message(self, *args: object) -> None:
                pass

        return Handler
