"""sloctl's HTTP listener: Alertmanager webhooks, ``/metrics`` for Prometheus, ``/healthz``.

    server = HttpServer(settings, store).start()   # uvicorn in a background thread
    print(server.url)                             # http://127.0.0.1:9464 (port 0: a free port)
    server.stop()

``POST /api/v1/alertmanager`` takes Alertmanager's webhook (payload version 4) with
``Authorization: Bearer <receiver.token>``. The body is stored in one transaction BEFORE the 2xx
answer, so a store failure answers 503 and Alertmanager retries. Errors are JSON ``{"error": msg}``:
401 bad or missing token, 413 body above ``receiver.max_body_bytes``, 400 invalid body (nothing
stored), 503 no token configured or store unavailable.
"""

from __future__ import annotations

import hmac
import logging
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.concurrency import run_in_threadpool

from sloctl.errors import SettingsError, StoreError
from sloctl.service.metrics import render_metrics
from sloctl.service.receiver import WebhookError, parse_webhook
from sloctl.settings import Settings
from sloctl.store import Store
from sloctl.store.incidents import AlertLog

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/api/v1/alertmanager"
NO_TOKEN = (
    "the Alertmanager webhook is disabled: no receiver token is configured. Set "
    "SLOCTL_RECEIVER_TOKEN (or receiver.token in sloctl.yaml) and the same value as "
    "http_config.authorization.credentials of the Alertmanager webhook_config"
)
BAD_TOKEN = (
    "missing or wrong bearer token: send 'Authorization: Bearer <token>' with the token of "
    "SLOCTL_RECEIVER_TOKEN (Alertmanager: webhook_config http_config.authorization.credentials)"
)
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


def _authorized(header: str | None, token: bytes) -> bool:
    """Constant-time check of ``Authorization: Bearer <token>`` (scheme case-insensitive)."""
    scheme, _, given = (header or "").partition(" ")
    ok_scheme = scheme.lower() == "bearer"
    return hmac.compare_digest(given.strip().encode(), token) and ok_scheme


def _too_large(limit: int) -> JSONResponse:
    return _error(
        413,
        f"the body is larger than receiver.max_body_bytes ({limit} bytes): lower max_alerts in "
        "the Alertmanager webhook_config or raise max_body_bytes in sloctl.yaml",
    )


def create_app(settings: Settings, store: Store, *, clock: Clock = _utcnow) -> FastAPI:
    """The FastAPI app of ``sloctl serve`` (see the module docstring)."""
    alert_log = AlertLog(store)
    secret = settings.receiver.token
    token = secret.get_secret_value().encode() if secret is not None else None
    limit = settings.receiver.max_body_bytes
    app = FastAPI(title="sloctl", docs_url=None, redoc_url=None, openapi_url=None)

    @app.post(WEBHOOK_PATH)
    async def alertmanager_webhook(request: Request) -> Response:
        """Store one Alertmanager notification (idempotent per alert fingerprint + startsAt)."""
        if token is None:
            return _error(503, NO_TOKEN)
        if not _authorized(request.headers.get("authorization"), token):
            return _error(401, BAD_TOKEN, {"WWW-Authenticate": "Bearer"})
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            return _too_large(limit)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _too_large(limit)
        try:
            notification = parse_webhook(bytes(body))
        except WebhookError as exc:
            return _error(400, str(exc))
        try:
            result = await run_in_threadpool(alert_log.record, notification, clock())
        except StoreError as exc:
            log.error("Alertmanager notification not stored (answered 503): %s", exc)
            return _error(503, f"not stored, retry later: {exc}")
        return JSONResponse(
            {
                "status": "stored",
                "notification_id": result.notification_id,
                "alerts": len(notification.alerts),
                "new": result.new,
                "resolved": result.resolved,
                "repeated": result.repeated,
                "truncated_alerts": notification.truncated_alerts,
            }
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        """sloctl's latest evaluation in the Prometheus text format."""
        try:
            ev = await run_in_threadpool(store.latest_evaluation)
        except StoreError as exc:
            return Response(f"store unavailable: {exc}\n", 503, media_type="text/plain")
        return Response(render_metrics(ev), media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers HTTP."""
        return {"status": "ok"}

    return app


class HttpServer:
    """uvicorn serving ``create_app`` in a background thread on receiver.host/port.

    Port 0 picks a free port (see ``url``); after ``stop()``, ``start()`` listens on the same port.
    """

    def __init__(self, settings: Settings, store: Store, *, app: FastAPI | None = None) -> None:
        self.host = settings.receiver.host
        self.port = settings.receiver.port
        self.app = app if app is not None else create_app(settings, store)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only for that proto;
        # without it, Nagle's algorithm delays every keep-alive answer by ~40 ms.
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise SettingsError(
                f"cannot listen on {self.host}:{self.port}: {exc.strerror or exc}. Set "
                "SLOCTL_RECEIVER_HOST/SLOCTL_RECEIVER_PORT (receiver.host/port) to a free local "
                "address; port 0 picks any free port"
            ) from exc
        self.port = sock.getsockname()[1]
        return sock

    def start(self, timeout: float = 10.0) -> HttpServer:
        """Listen and serve; returns once the server accepts connections."""
        if self.running:
            return self
        sock = self._bind()
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sloctl-http", daemon=True
        )
        self._server, self._thread, self._sock = server, thread, sock
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise SettingsError(f"the HTTP server on {self.url} did not start; see the log")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop accepting, finish in-flight requests (at most ~1 s), then return. Idempotent."""
        server, thread, sock = self._server, self._thread, self._sock
        self._server, self._thread, self._sock = None, None, None
        if server is not None and thread is not None:
            server.should_exit = True
            thread.join(timeout)
            if thread.is_alive():
                server.force_exit = True
                thread.join(timeout)
        if sock is not None:
            sock.close()

    def __enter__(self) -> HttpServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
