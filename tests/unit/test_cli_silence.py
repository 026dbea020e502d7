"""The silences client (``sloctl.runtime.silences``) on a mock transport: the API v2 bodies it
sends, the answers it reads, typed errors; the matchers of a service's and an SLO's alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sloctl.core import alert_rules
from sloctl.errors import BackendProtocolError, BackendQueryError, SettingsError
from sloctl.runtime.silences import Matcher, SilenceClient, UnknownSilence
from sloctl.settings import AlertmanagerSettings

URL = "http://127.0.0.1:9093"
START = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
GETTABLE = {  # a silence as Alertmanager 0.25 lists it
    "id": "8c0a2f4e-6b1d-4b55-9f3c-2f0a3b1c9d10",
    "status": {"state": "active"},
    "updatedAt": "2026-11-20T14:00:00.123456789Z",
    "comment": "bank maintenance",
    "createdBy": "alice",
    "endsAt": "2026-11-20T16:00:00.000Z",
    "startsAt": "2026-11-20T14:00:00.000Z",
    "matchers": [{"isEqual": True, "isRegex": False, "name": "service", "value": "payment"}],
}


def client(handler: Any) -> tuple[SilenceClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)  # type: ignore[no-any-return]

    settings = AlertmanagerSettings(url=URL)
    return SilenceClient(settings, transport=httpx.MockTransport(record)), seen


def test_matchers_of_a_service_and_of_an_slo_are_its_alerts_identity_labels() -> None:
    assert alert_rules.silence_matchers(service="payment") == {"service": "payment"}
    slo = alert_rules.silence_matchers(slo_id="payment/availability")
    assert slo == {"slo": "availability", "sloth_service": "payment"}
    labels = alert_rules.slo_alert_labels(alert_rules.BURN_RATE_PAGE, "payment", "availability")
    assert slo.items() <= labels.items()  # the SLO's alerts carry them, so the silence holds
    with pytest.raises(ValueError, match="not SERVICE/NAME"):
        alert_rules.silence_matchers(slo_id="availability")
    with pytest.raises(ValueError, match="not both"):
        alert_rules.silence_matchers(service="a", slo_id="a/b")


def test_create_posts_equality_matchers_times_author_and_comment() -> None:
    c, seen = client(lambda r: httpx.Response(200, json={"silenceID": "abc"}))
    with c:
        got = c.create({"sloth_service": "order", "slo": "availability"}, START,
                       START + timedelta(hours=2), created_by="alice", comment="deploying")
    assert got == "abc"
    (request,) = seen
    assert (request.method, str(request.url)) == ("POST", f"{URL}/api/v2/silences")
    assert json.loads(request.content) == {
        "matchers": [
            {"name": "slo", "value": "availability", "isRegex": False, "isEqual": True},
            {"name": "sloth_service", "value": "order", "isRegex": False, "isEqual": True},
        ],
        "startsAt": "2026-11-20T14:00:00.000Z",
        "endsAt": "2026-11-20T16:00:00.000Z",
        "createdBy": "alice",
        "comment": "deploying",
    }


def test_list_reads_alertmanagers_silences() -> None:
    c, seen = client(lambda r: httpx.Response(200, json=[GETTABLE]))
    (silence,) = c.list()
    assert str(seen[0].url) == f"{URL}/api/v2/silences"
    assert (silence.id, silence.state, silence.created_by, silence.comment) == (
        GETTABLE["id"], "active", "alice", "bank maintenance")
    assert silence.matchers == (Matcher("service", "payment"),)
    assert str(silence.matchers[0]) == 'service="payment"'
    assert str(Matcher("slo", "a.*", is_regex=True, is_equal=False)) == 'slo!~"a.*"'
    assert (silence.starts_at, silence.ends_at) == (START, START + timedelta(hours=2))
    assert silence.updated_at == START.replace(microsecond=123456)
    assert silence.labels() == {"service": "payment"}


def test_expire_deletes_by_id_and_names_an_unknown_one() -> None:
    c, seen = client(lambda r: httpx.Response(200))
    c.expire(GETTABLE["id"])
    assert (seen[0].method, str(seen[0].url)) == (
        "DELETE", f"{URL}/api/v2/silence/{GETTABLE['id']}")
    for status, body in ((404, b'"silence not found"'), (500, b'"silence not found"\n')):
        gone, _ = client(lambda r, s=status, b=body: httpx.Response(s, content=b))
        with pytest.raises(UnknownSilence, match=f"Alertmanager {URL} has no silence 'x'"):
            gone.expire("x")
    other, _ = client(lambda r: httpx.Response(500, content=b'"database locked"'))
    with pytest.raises(BackendQueryError, match="HTTP 500: database locked"):
        other.expire("x")


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ({"unexpected": 1}, "GET /api/v2/silences: answer is not Alertmanager's silences API v2 "
                            "(not a list)"),
        ([{"id": "x"}], "GET /api/v2/silences: answer is not Alertmanager's silences API v2 "
                        "(a silence lacks 'status')"),
    ],
)
def test_a_malformed_list_is_a_protocol_error(answer: Any, message: str) -> None:
    c, _ = client(lambda r: httpx.Response(200, json=answer))
    with pytest.raises(BackendProtocolError, match=message.replace("(", r"\(").replace(
            ")", r"\)")):
        c.list()


def test_no_alertmanager_url_says_which_setting() -> None:
    with pytest.raises(SettingsError, match="set SLOCTL_ALERTMANAGER_URL"):
        SilenceClient(AlertmanagerSettings())
