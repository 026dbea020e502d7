"""The canary judgement over HTTP, on ``sloctl serve`` (added by ``runtime.http.create_app``).

``GET /api/v1/canary?service=order&canary=v2&baseline=v1&since=30m`` answers the JSON of ``sloctl
canary -o json`` with 200 whatever the verdict, for Argo Rollouts' web metric provider (a JSON
path to ``$.code``, ``$.pass`` or ``$.fail``). ``POST /api/v1/canary/flagger`` takes a Flagger
webhook (its ``metadata`` holds the same parameters; ``service`` defaults to the canary's name)
and answers 200 only when its ``gate`` opens: ``promotion`` (a ``confirm-promotion`` hook, the
default) on pass, ``rollback`` (a ``rollback`` hook) on fail; 403 otherwise, with the same body.

Both need ``Authorization: Bearer <receiver.token>`` (Flagger, which sends no headers:
``metadata.token``) since they query Prometheus and store the judgement. Errors are JSON
``{"error", "field"}``: 400 bad parameter, 401 bad token, 503 no token, Prometheus or store
failing, 500 specs invalid.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from sloctl.errors import BackendError, SloctlError, SpecError
from sloctl.settings import Settings
from sloctl.spec.durations import parse_duration
from sloctl.store import Store

CANARY_PATH = "/api/v1/canary"
FLAGGER_PATH = "/api/v1/canary/flagger"
GATES = ("promotion", "rollback")
NO_TOKEN = (
    "the canary endpoints are disabled: no receiver token is configured. Set "
    "SLOCTL_RECEIVER_TOKEN (receiver.token) and send 'Authorization: Bearer <token>' (Argo "
    "Rollouts: provider.web.headers; Flagger: metadata.token)"
)
Clock = Callable[[], datetime]


class ParameterError(SloctlError):
    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


def _error(status: int, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "field": field}, status_code=status)


def _authorized(given: str | None, token: bytes) -> bool:
    return hmac.compare_digest((given or "").strip().encode(), token)


def _bearer(header: str | None) -> str | None:
    scheme, _, value = (header or "").partition(" ")
    return value if scheme.lower() == "bearer" else None


def parse_request(params: Mapping[str, str], objectives: Sequence[str]) -> Any:
    """A ``CanaryRequest`` from query parameters (or Flagger's metadata); ``ParameterError``
    naming the bad one."""
    from sloctl.canary.judge import CanaryRequest
    from sloctl.canary.sides import CanaryRequestError
    from sloctl.core.canary import Policy

    service = (params.get("service") or "").strip()
    if not service:
        raise ParameterError("service", "required: the service whose canary to judge")

    def number(name: str, default: float, kind: type = float) -> Any:
        text = params.get(name)
        try:
            return default if text in (None, "") else kind(text)
        except ValueError:
            raise ParameterError(name, f"not a number: {text!r}") from None

    try:
        since = parse_duration(params.get("since") or "15m")
    except (ValueError, SloctlError) as exc:
        raise ParameterError("since", str(exc)) from None
    try:
        policy = Policy(number("alpha", 0.01), number("power", 0.8),
                        number("min_requests", 100, int), number("tolerance", 0.5))
    except ValueError as exc:
        raise ParameterError("policy", str(exc)) from None
    try:
        return CanaryRequest(
            service=service, canary=params.get("canary"), baseline=params.get("baseline"),
            canary_service=params.get("canary_service") or None,
            baseline_service=params.get("baseline_service") or None, since=since,
            objectives=tuple(o for o in objectives if o), policy=policy,
            version=params.get("version") or None,
            environment=params.get("environment") or None,
        )
    except CanaryRequestError as exc:
        raise ParameterError(exc.field, str(exc)) from None


def parse_at(text: str | None, clock: Clock) -> datetime:
    """``at``: unix seconds or ISO 8601 (naive = UTC); default now."""
    if not text:
        return clock()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ParameterError("at", f"not unix seconds nor ISO 8601: {text!r}") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def judge_and_store(settings: Settings, store: Store, request: Any, at: datetime, source: str,
                    now: datetime) -> dict[str, Any]:
    """Load the specs, query Prometheus, judge, store; the JSON answer."""
    from sloctl.canary.judge import judge_canary
    from sloctl.canary.record import record
    from sloctl.canary.sides import CanaryRequestError
    from sloctl.sources.prometheus import PrometheusSource
    from sloctl.spec.loader import load_specs

    specs = load_specs(list(settings.specs)) if settings.specs else []
    prometheus = PrometheusSource(settings.prometheus)
    try:
        report = judge_canary(request, specs, settings, prometheus, at)
    except CanaryRequestError as exc:
        raise ParameterError(exc.field, str(exc)) from None
    finally:
        prometheus.close()
    return record(store, report, source, now)


async def _answer(settings: Settings, store: Store, request: Any, at: datetime, source: str,
                  now: datetime) -> dict[str, Any] | JSONResponse:
    try:
        return await run_in_threadpool(judge_and_store, settings, store, request, at, source, now)
    except ParameterError as exc:
        return _error(400, str(exc), exc.field)
    except SpecError as exc:
        return _error(500, f"the SLO specs are invalid: {exc}")
    except (BackendError, SloctlError) as exc:  # Prometheus or the store: retry later
        return _error(503, str(exc))


def canary_routes(settings: Settings, store: Store, clock: Clock) -> APIRouter:
    """The two canary routes (see the module docstring)."""
    secret = settings.receiver.token
    token = secret.get_secret_value().encode() if secret is not None else None
    router = APIRouter()

    @router.get(CANARY_PATH)
    async def canary(request: Request) -> Response:
        """Judge a canary; 200 with the judgement whatever the verdict."""
        if token is None:
            return _error(503, NO_TOKEN)
        if not _authorized(_bearer(request.headers.get("authorization")), token):
            return _error(401, "missing or wrong bearer token (receiver.token)")
        params = request.query_params
        try:
            judged = parse_request(params, params.getlist("objective"))
            at = parse_at(params.get("at"), clock)
        except ParameterError as exc:
            return _error(400, str(exc), exc.field)
        body = await _answer(settings, store, judged, at, "http", clock())
        return body if isinstance(body, JSONResponse) else JSONResponse(body)

    @router.post(FLAGGER_PATH)
    async def flagger(request: Request) -> Response:
        """A Flagger webhook: 200 when the gate opens, 403 when it stays closed."""
        if token is None:
            return _error(503, NO_TOKEN)
        try:
            payload = json.loads(await request.body())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            return _error(400, f"the body is not JSON ({exc})", "<body>")
        if not isinstance(payload, dict) or not isinstance(payload.get("metadata", {}), dict):
            return _error(400, "expected Flagger's webhook body: {name, namespace, metadata}",
                          "metadata")
        meta = {str(k): str(v) for k, v in (payload.get("metadata") or {}).items()}
        given = _bearer(request.headers.get("authorization")) or meta.get("token")
        if not _authorized(given, token):
            return _error(401, "missing or wrong token (metadata.token or a bearer header)")
        gate = meta.get("gate", "promotion")
        if gate not in GATES:
            return _error(400, f"gate must be one of {', '.join(GATES)}, got {gate!r}", "gate")
        meta.setdefault("service", str(payload.get("name") or ""))
        try:
            judged = parse_request(meta, meta.get("objective", "").split(","))
            at = parse_at(meta.get("at"), clock)
        except ParameterError as exc:
            return _error(400, str(exc), exc.field)
        body = await _answer(settings, store, judged, at, "flagger", clock())
        if isinstance(body, JSONResponse):
            return body
        opens = body["verdict"] == ("pass" if gate == "promotion" else "fail")
        return JSONResponse(body, status_code=200 if opens else 403)

    return router
