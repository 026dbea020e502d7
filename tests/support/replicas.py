"""Helpers of the replica tests: a recording proxy in front of Alertmanager, a webhook sink for
Alertmanager's notifications, and a bounded Alertmanager-webhook load on sloctl's receivers.

    with AlertmanagerProxy(am.url) as proxy:     # replica i posts to proxy.url_for(i)
        ... proxy.posts                           # [(replica, monotonic time, body)]
    with WebhookSink() as sink: sink.bodies       # what Alertmanager notified
    with WebhookLoad(urls, token) as load: ...    # load.acked: fingerprints answered 2xx
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

MAX_POSTS_PER_TARGET = 5000  # the load's bound per receiver


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 in a thread; ``handle(path, body)`` -> (status, body)."""

    def __init__(self) -> None:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, answer = owner.handle(self.path, body)
                self.send_response(status)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self.lock = threading.Lock()

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()


class AlertmanagerProxy(_Server):
    """Forwards ``/r<i>/api/v2/alerts`` to Alertmanager and records who posted what."""

    def __init__(self, alertmanager_url: str) -> None:
        super().__init__()
        self.alertmanager_url = alertmanager_url
        self.posts: list[tuple[int, float, list[dict[str, Any]]]] = []

    def url_for(self, replica: int) -> str:
        return f"{self.url}/r{replica}"

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        replica = int(path.split("/")[1][1:])
        with self.lock:
            self.posts.append((replica, time.monotonic(), json.loads(body)))
        request = urllib.request.Request(
            f"{self.alertmanager_url}/api/v2/alerts", data=body, method="POST",
            headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as err:
            return err.code, err.read()


class WebhookSink(_Server):
    """Records every notification Alertmanager sends (answers 200)."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[dict[str, Any]] = []

    def handle(self, path: str, body: bytes) -> tuple[int, bytes]:
        with self.lock:
            self.bodies.append(json.loads(body))
        return 200, b"{}"


def notification(fingerprint: str, starts: datetime) -> bytes:
    """An Alertmanager webhook (version 4) with one firing alert of ``fingerprint``."""
    at = starts.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    labels = {"alertname": "LoadTest", "service": "checkout", "severity": "page",
              "instance": fingerprint}
    return json.dumps({
        "receiver": "load", "status": "firing", "version": "4",
        "groupKey": f"{{}}:{{instance=\"{fingerprint}\"}}", "truncatedAlerts": 0,
        "groupLabels": {"instance": fingerprint}, "commonLabels": labels,
        "commonAnnotations": {}, "externalURL": "http://127.0.0.1:9093",
        "alerts": [{"status": "firing", "labels": labels, "annotations": {},
                    "startsAt": at, "endsAt": "0001-01-01T00:00:00Z",
                    "generatorURL": "http://127.0.0.1/load", "fingerprint": fingerprint}],
    }).encode()


class WebhookLoad:
    """One thread per receiver URL posting one new alert per webhook, back to back, until
    stopped (at most ``MAX_POSTS_PER_TARGET`` each). ``acked``: fingerprints answered 2xx."""

    def __init__(self, urls: list[str], token: str) -> None:
        self.urls = urls
        self.token = token
        self.acked: set[str] = set()
        self.failed = 0  # refused, reset or 5xx: not acknowledged, so not promised
        self.starts = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._post_all, args=(i, url), daemon=True)
                         for i, url in enumerate(urls)]

    def _post_all(self, target: int, url: str) -> None:
        for n in range(MAX_POSTS_PER_TARGET):
            if self._stop.is_set():
                return
            fingerprint = f"load{target}x{n:05d}"
            request = urllib.request.Request(
                url, data=notification(fingerprint, self.starts), method="POST",
                headers={"Content-Type": "application/json",
                         "Authorization": f"Bearer {self.token}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as answer:
                    ok = 200 <= answer.status < 300
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                ok = False
                self._stop.wait(0.05)  # a dead receiver: do not spin
            with self._lock:
                if ok:
                    self.acked.add(fingerprint)
                else:
                    self.failed += 1

    def __enter__(self) -> Self:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)
