"""sloctl's HTTP listener: webhooks, deployment events, ``/metrics``, ``/healthz``, ``/readyz``.

    server = HttpServer(settings, store).start()   # uvicorn in a background thread
    print(server.url)                             # http://127.0.0.1:9464 (port 0: a free port)
    server.stop()

``POST /api/v1/alertmanager`` takes Alertmanager's webhook (payload version 4) with
``Authorization: Bearer <receiver.token>``. The body is stored in one transaction BEFORE the 2xx
answer, so a store failure answers 503 and Alertmanager retries. Errors are JSON ``{"error": msg}``:
401 bad or missing token, 413 body above ``receiver.max_body_bytes``, 400 invalid body (nothing
stored), 503 no token configured or store unavailable.

``POST /api/v1/deployments`` (same token and body limit) takes a native deployment event or a
GitHub ``deployment_status`` webhook body (``X-GitHub-Event: deployment_status`` or the body's
shape); see ``sloctl.dora.deploy_events``. It answers 201 with the stored event when new, 200
when the key (service, environment, version, finish time) was already recorded, 202 for a GitHub
state that is not final (nothing stored), and 400 ``{"error", "field", "problems"}`` naming every
bad field (nothing stored). The event is stored before the answer.

Malformed bodies always get a 400 naming the field, never a 5xx (Alertmanager retries those
forever): huge numbers, year-1 or year-9999 timestamps, timestamps outside
``receiver.earliest_timestamp`` .. now + ``receiver.max_future_seconds``, deep nesting, wrong
types, NUL characters. Connections are bounded by ``sloctl.runtime.guard`` (timeouts, a cap with
a fast 503, one summary log line); a client that hangs up mid-body is one log line.

Each webhook is a span (``sloctl.webhook``, OpenTelemetry API) with its answer's status.
``GET /metrics`` renders the latest evaluation and DORA scorecards through one prometheus-client
registry (``runtime.metrics.EvaluationCollector`` over the store, and the daemon's ``collectors``
such as the replica's role); 503 when the store fails. ``GET /healthz``: the process answers
(liveness). ``GET /readyz``: ``runtime.readiness`` (200 ready, 503 not, JSON naming each check).
"""

from __future__ import annotations

import copy
import hmac
import json
import logging
import socket
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, time, timedelta
from time import monotonic, sleep
from typing import Any

import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.registry import Collector
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from sloctl.canary.api import canary_routes
from sloctl.dora.deploy_events import (
    DeployEventError,
    DeployEventNotFinal,
    NativeDeploymentEvent,
    is_github_body,
    parse_deployment_event,
)
from sloctl.dora.model import Deployment
from sloctl.errors import SettingsError, StoreError
from sloctl.report.gauges import ReportCollector
from sloctl.runtime.guard import Guard, Limits, protocol_class
from sloctl.runtime.metrics import EvaluationCollector
from sloctl.runtime.readiness import Readiness
from sloctl.runtime.receiver import TimeBounds, WebhookError, WebhookMessage, parse_webhook
from sloctl.settings import Settings
from sloctl.store import Store

log = logging.getLogger(__name__)
_tracer = trace.get_tracer(__name__)

WEBHOOK_SPAN = "sloctl.webhook"
WEBHOOK_PATH = "/api/v1/alertmanager"
DEPLOYMENTS_PATH = "/api/v1/deployments"
GITHUB_EVENT = "deployment_status"
LISTEN_QUEUE = 4096
NO_TOKEN = (
    "the Alertmanager webhook and the deployment events are disabled: no receiver token is "
    "configured. Set SLOCTL_RECEIVER_TOKEN (or receiver.token in sloctl.yaml) and send it as "
    "'Authorization: Bearer <token>' (Alertmanager: http_config.authorization.credentials of "
    "the webhook_config)"
)
BAD_TOKEN = (
    "missing or wrong bearer token: send 'Authorization: Bearer <token>' with the token of "
    "SLOCTL_RECEIVER_TOKEN (Alertmanager: webhook_config http_config.authorization.credentials)"
)
Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


@contextmanager
def _webhook_span(source: str, path: str) -> Iterator[Span]:
    """Span of one incoming webhook; set its answer with ``_answered``. Internal: the HTTP
    framework's own span of the request (FastAPI's, when a tracer provider is set) is the
    server span, and this one is its child."""
    attributes = {"http.request.method": "POST", "url.path": path, "sloctl.webhook.source": source}
    with _tracer.start_as_current_span(
        WEBHOOK_SPAN, kind=SpanKind.INTERNAL, attributes=attributes
    ) as span:
        yield span


def _answered(span: Span, response: Response) -> Response:
    span.set_attribute("http.response.status_code", response.status_code)
    if response.status_code >= 500:
        span.set_status(Status(StatusCode.ERROR))
    return response


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


async def _read_body(request: Request, token: bytes | None, limit: int) -> bytes | JSONResponse:
    """The request body after the token and size checks, or the error answer (also when the
    client hung up: that answer reaches nobody, and one short line is logged)."""
    if token is None:
        return _error(503, NO_TOKEN)
    if not _authorized(request.headers.get("authorization"), token):
        return _error(401, BAD_TOKEN, {"WWW-Authenticate": "Bearer"})
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        return _too_large(limit)
    body = bytearray()
    try:
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return _too_large(limit)
    except ClientDisconnect:
        log.info("a client hung up before sending its whole body to %s", request.url.path)
        return _error(400, "the client hung up before sending its whole body")
    return bytes(body)


def _bad_event(exc: DeployEventError) -> JSONResponse:
    return JSONResponse(
        {
            "error": str(exc),
            "field": exc.field,
            "problems": [{"field": f, "message": m} for f, m in exc.problems],
        },
        status_code=400,
    )


def _deployment_json(d: Deployment) -> dict[str, object]:
    """A stored deployment in the native event's field names."""

    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {
        "service": d.service,
        "environment": d.environment,
        "version": d.version,
        "commit_sha": d.sha,
        "commit_time": iso(d.commit_time),
        "started_at": iso(d.started),
        "finished_at": iso(d.finished),
        "status": d.status.value,
        "commits": [{"sha": c.sha, "time": iso(c.time)} for c in d.commits],
        "ref": d.ref,
    }


def _parse_event(
    body: bytes, github_event: str | None, now: datetime, earliest: datetime
) -> tuple[Deployment, str]:
    """The body as a deployment event and its source (http or github); raises DeployEventError
    naming the bad field."""
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DeployEventError([("<body>", f"is not valid JSON ({exc})")]) from None
    except RecursionError:
        raise DeployEventError([("<body>", "is nested too deeply; send a flat event")]) from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise DeployEventError([("<body>", f"is not acceptable JSON ({exc})")]) from None
    if github_event == GITHUB_EVENT and not is_github_body(data):
        raise DeployEventError(
            [
                (
                    "deployment_status",
                    "field required: the X-GitHub-Event header says deployment_status but the "
                    "body has no deployment_status object",
                )
            ]
        )
    try:
        event = parse_deployment_event(data, now, earliest)
    except RecursionError:
        raise DeployEventError([("<body>", "is nested too deeply; send a flat event")]) from None
    return event, "github" if is_github_body(data) else "http"


def time_bounds(settings: Settings) -> TimeBounds:
    """The plausible range of received timestamps (``receiver.earliest_timestamp`` ..
    now + ``receiver.max_future_seconds``)."""
    receiver = settings.receiver
    return TimeBounds(
        datetime.combine(receiver.earliest_timestamp, time(), UTC),
        timedelta(seconds=receiver.max_future_seconds),
    )


def _body(model: type[BaseModel]) -> dict[str, Any]:
    """The OpenAPI request body of a JSON ``model`` (its definitions under components)."""
    schema = model.model_json_schema(by_alias=True, ref_template=f"{SCHEMAS}{{model}}")
    return {
        "required": True,
        "content": {"application/json": {"schema": schema}},
    }


SCHEMAS = "#/components/schemas/"
ROUTE_BODIES: dict[str, type[BaseModel]] = {
    WEBHOOK_PATH: WebhookMessage,
    DEPLOYMENTS_PATH: NativeDeploymentEvent,
}


def openapi_description(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI description of ``app`` with its bodies' schemas and the bearer token (for
    fuzzing every endpoint; not served: ``openapi_url`` is off)."""
    doc = copy.deepcopy(app.openapi())
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    for path, model in ROUTE_BODIES.items():
        body = _body(model)
        schema = body["content"]["application/json"]["schema"]
        schemas.update(schema.pop("$defs", {}))
        operation = doc["paths"][path]["post"]
        operation["requestBody"] = body
        operation["security"] = [{"bearer": []}]
    return doc


def create_app(
    settings: Settings, store: Store, *, clock: Clock = _utcnow,
    readiness: Readiness | None = None, collectors: Sequence[Collector] = (),
) -> FastAPI:
    """The FastAPI app of ``sloctl serve`` (see the module docstring). Without ``readiness``,
    ``/readyz`` checks the store and the latest evaluation's age."""
    alert_log = store.alerts
    deployments = store.deployments
    reader = store.reader()  # /metrics reads only
    secret = settings.receiver.token
    token = secret.get_secret_value().encode() if secret is not None else None
    limit = settings.receiver.max_body_bytes
    bounds = time_bounds(settings)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EvaluationCollector(reader.evaluations.latest, reader.scorecards.latest))
    registry.register(ReportCollector(reader.reports.sends))  # the weekly report's emails
    for collector in collectors:
        registry.register(collector)
    ready = readiness or Readiness(reader, settings.interval_seconds, clock=clock)
    app = FastAPI(title="sloctl", docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(canary_routes(settings, store, clock))  # sloctl.canary.api

    @app.post(WEBHOOK_PATH)
    async def alertmanager_webhook(request: Request) -> Response:
        """Store one Alertmanager notification (idempotent per alert fingerprint + startsAt)."""
        with _webhook_span("alertmanager", WEBHOOK_PATH) as span:
            return _answered(span, await receive_notification(request, span))

    async def receive_notification(request: Request, span: Span) -> Response:
        body = await _read_body(request, token, limit)
        if isinstance(body, JSONResponse):
            return body
        try:
            notification = parse_webhook(body, clock(), bounds)
        except WebhookError as exc:
            return _error(400, str(exc))
        span.set_attribute("sloctl.webhook.alert_count", len(notification.alerts))
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

    @app.post(DEPLOYMENTS_PATH)
    async def deployment_event(request: Request) -> Response:
        """Store one deployment event (idempotent per service, environment, version, finish)."""
        with _webhook_span("deploy", DEPLOYMENTS_PATH) as span:
            return _answered(span, await receive_deployment(request))

    async def receive_deployment(request: Request) -> Response:
        body = await _read_body(request, token, limit)
        if isinstance(body, JSONResponse):
            return body
        github_event = request.headers.get("x-github-event")
        if github_event is not None and github_event != GITHUB_EVENT:
            return JSONResponse(
                {
                    "status": "ignored",
                    "reason": f"GitHub event {github_event!r} is not recorded; subscribe the "
                    f"webhook to {GITHUB_EVENT} events only",
                },
                status_code=202,
            )
        now = clock()
        try:
            event, source = _parse_event(body, github_event, now, bounds.earliest)
        except DeployEventNotFinal as exc:
            return JSONResponse({"status": "ignored", "reason": str(exc)}, status_code=202)
        except DeployEventError as exc:
            return _bad_event(exc)
        try:
            recorded = await run_in_threadpool(deployments.record, event, source, now)
        except StoreError as exc:
            log.error("deployment event not stored (answered 503): %s", exc)
            return _error(503, f"not stored, retry later: {exc}")
        return JSONResponse(
            {
                "status": "created" if recorded.created else "already recorded",
                "deployment": _deployment_json(recorded.deployment),
            },
            status_code=201 if recorded.created else 200,
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        """sloctl's latest evaluation and DORA scorecards in the Prometheus text format."""
        try:
            body = await run_in_threadpool(generate_latest, registry)
        except StoreError as exc:
            return Response(f"store unavailable: {exc}\n", 503, media_type="text/plain")
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers HTTP."""
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> Response:
        """Readiness (``runtime.readiness``): 200 when ready, else 503; JSON either way."""
        ok, body = await run_in_threadpool(ready.check)
        return JSONResponse(body, status_code=200 if ok else 503)

    return app


class HttpServer:
    """uvicorn serving ``create_app`` in a background thread on receiver.host/port.

    Port 0 picks a free port (see ``url``); after ``stop()``, ``start()`` listens on the same port.
    """

    def __init__(self, settings: Settings, store: Store, *, app: FastAPI | None = None) -> None:
        self.host = settings.receiver.host
        self.port = settings.receiver.port
        self.app = app if app is not None else create_app(settings, store)
        receiver = settings.receiver
        self.limits = Limits(receiver.max_connections, receiver.idle_timeout_seconds,
                             receiver.header_timeout_seconds, receiver.body_timeout_seconds)
        self.max_header_bytes = receiver.max_header_bytes
        self.guard: Guard | None = None
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
        protocol, self.guard = protocol_class(self.limits)
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            log_config=None,  # uvicorn's records go to the root handlers (format, log guard)
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            http=protocol,
            timeout_keep_alive=max(1, round(self.limits.idle_timeout)),
            h11_max_incomplete_event_size=self.max_header_bytes,
            backlog=self.guard.accept_batch,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="sloctl-http", daemon=True
        )
        self._server, self._thread, self._sock = server, thread, sock
        thread.start()
        deadline = monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or monotonic() > deadline:
                self.stop()
                raise SettingsError(f"the HTTP server on {self.url} did not start; see the log")
            sleep(0.01)
        # The kernel's queue of connections waiting to be accepted: room for bursts. asyncio
        # keeps accepting ``guard.accept_batch`` per turn (the backlog given to uvicorn).
        sock.listen(LISTEN_QUEUE)
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
