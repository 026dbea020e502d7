"""Alertmanager silences over API v2: create, list and expire (``sloctl silence``).

``POST /api/v2/silences`` creates one (``{"silenceID": ...}`` back), ``GET /api/v2/silences``
lists them (active, pending and expired, with ``status.state``), ``DELETE
/api/v2/silence/{id}`` expires one. Matchers are equality matchers on the identity labels of
``sloctl.core.alert_rules`` (``silence_matchers``), so one silence covers the same alerts
whether Prometheus' generated rules or sloctl's own notifier sent them. Every failure is a
typed ``BackendError`` (``sloctl.sources.http_errors``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from urllib.parse import quote

import httpx

from sloctl.errors import BackendProtocolError, BackendQueryError, SettingsError, SloctlError
from sloctl.runtime.alertmanager import rfc3339
from sloctl.settings import AlertmanagerSettings
from sloctl.sources.http_errors import FAILURES, Endpoint, request_error, status_error


class UnknownSilence(SloctlError):
    """No silence has this id (exit 2: a usage error, not a backend failure)."""


@dataclass(frozen=True)
class Matcher:
    """One silence matcher: ``name`` ``=`` (or ``!=``, ``=~``, ``!~``) ``value``."""

    name: str
    value: str
    is_regex: bool = False
    is_equal: bool = True

    def __str__(self) -> str:
        op = ("=~" if self.is_regex else "=") if self.is_equal else ("!~" if self.is_regex
                                                                     else "!=")
        return f'{self.name}{op}"{self.value}"'


@dataclass(frozen=True)
class Silence:
    """A silence as Alertmanager holds it."""

    id: str
    state: str  # active, pending or expired
    matchers: tuple[Matcher, ...]
    starts_at: datetime
    ends_at: datetime
    created_by: str
    comment: str
    updated_at: datetime | None = None

    def labels(self) -> dict[str, str]:
        """The equality matchers as labels (what ``sloctl silence`` creates)."""
        return {m.name: m.value for m in self.matchers if m.is_equal and not m.is_regex}


class SilenceClient:
    """Alertmanager's silences API; a context manager closing its HTTP client."""

    def __init__(
        self, settings: AlertmanagerSettings, *, transport: httpx.BaseTransport | None = None
    ) -> None:
        if settings.url is None:
            raise SettingsError(
                "alertmanager.url is not set, so there is no Alertmanager to silence alerts in; "
                "set SLOCTL_ALERTMANAGER_URL (e.g. http://127.0.0.1:9093)"
            )
        self.url = settings.url
        self.endpoint = Endpoint(
            "alertmanager",
            settings.url,
            name="Alertmanager",
            timeout_seconds=settings.timeout_seconds,
            check_url="Check alertmanager.url / SLOCTL_ALERTMANAGER_URL",
            timeout_fix="raise alertmanager.timeout_seconds or check Alertmanager",
        )
        self._client = httpx.Client(timeout=settings.timeout_seconds, transport=transport)

    def create(
        self,
        labels: Mapping[str, str],
        starts_at: datetime,
        ends_at: datetime,
        *,
        created_by: str,
        comment: str,
    ) -> str:
        """A new silence matching ``labels`` exactly; returns its id."""
        body = {
            "matchers": [
                {"name": k, "value": v, "isRegex": False, "isEqual": True}
                for k, v in sorted(labels.items())
            ],
            "startsAt": rfc3339(starts_at),
            "endsAt": rfc3339(ends_at),
            "createdBy": created_by,
            "comment": comment,
        }
        doc = self._call("POST", "/api/v2/silences", body)
        if not isinstance(doc, dict) or not isinstance(doc.get("silenceID"), str):
            raise self._malformed("POST /api/v2/silences", "no silenceID")
        return str(doc["silenceID"])

    def list(self) -> list[Silence]:
        """Every silence Alertmanager holds (expired ones until its retention drops them)."""
        doc = self._call("GET", "/api/v2/silences")
        if not isinstance(doc, list):
            raise self._malformed("GET /api/v2/silences", "not a list")
        try:
            return [_silence(item) for item in doc]
        except (KeyError, TypeError, ValueError) as exc:
            raise self._malformed("GET /api/v2/silences", f"a silence lacks {exc}") from None

    def expire(self, silence_id: str) -> None:
        """Expire one silence (its alerts notify again); ``UnknownSilence`` for an id
        Alertmanager does not hold (404; 500 "silence not found" before 0.27) or that is not
        one (422: not a UUID)."""
        try:
            self._call("DELETE", f"/api/v2/silence/{quote(silence_id, safe='')}")
        except BackendQueryError as exc:
            unknown = exc.status == 404 or (exc.status == 500 and "not found" in str(exc))
            if not unknown and exc.status != 422:
                raise
            what = "has no silence" if unknown else "says this is not a silence id (a UUID):"
            raise UnknownSilence(
                f"Alertmanager {self.url} {what} {silence_id!r}; `sloctl silence list --all` "
                "shows their ids"
            ) from None

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        request = f"{method} {path}"
        try:
            response = self._client.request(method, self.url + path, json=body)
        except FAILURES as exc:
            raise request_error(exc, self.endpoint, request=request) from exc
        if response.status_code >= 300:
            raise status_error(self.endpoint, response.status_code, response.content,
                               request=request)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError as exc:
            raise request_error(exc, self.endpoint, request=request) from exc

    def _malformed(self, request: str, why: str) -> BackendProtocolError:
        return BackendProtocolError(
            "alertmanager", f"{request}: answer is not Alertmanager's silences API v2 ({why}); "
            f"is {self.url} really Alertmanager?"
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _silence(item: Mapping[str, Any]) -> Silence:
    return Silence(
        id=str(item["id"]),
        state=str(item["status"]["state"]),
        matchers=tuple(
            Matcher(str(m["name"]), str(m["value"]), bool(m.get("isRegex", False)),
                    bool(m.get("isEqual", True)))
            for m in item["matchers"]
        ),
        starts_at=_time(item["startsAt"]),
        ends_at=_time(item["endsAt"]),
        created_by=str(item.get("createdBy", "")),
        comment=str(item.get("comment", "")),
        updated_at=_time(item["updatedAt"]) if item.get("updatedAt") else None,
    )
