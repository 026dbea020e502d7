"""Trace-id normalisation, correlation queries and the Loki settings section."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sloctl.errors import SettingsError
from sloctl.runtime.correlate import (
    around,
    correlation_queries,
    normalize_trace_id,
    trace_id_forms,
    trace_queries,
)
from sloctl.settings import load_settings


@pytest.mark.parametrize(
    ("given", "normalized"),
    [
        ("4bf92f3577b34da6a3ce929d0e0e4736", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("4BF92F3577B34DA6A3CE929D0E0E4736", "4bf92f3577b34da6a3ce929d0e0e4736"),
        ("a3ce929d0e0e4736", "0000000000000000a3ce929d0e0e4736"),
        (" 0xA3CE929D0E0E4736\n", "0000000000000000a3ce929d0e0e4736"),
    ],
    ids=["32-hex", "upper-case", "16-hex", "0x-and-spaces"],
)
def test_normalize_trace_id(given: str, normalized: str) -> None:
    assert normalize_trace_id(given) == normalized


@pytest.mark.parametrize(
    "bad",
    ["", "xyz", "a3ce929d0e0e473", "4bf92f3577b34da6a3ce929d0e0e47361", 'a"} or {x=~".+'],
    ids=["empty", "not-hex", "15-hex", "33-hex", "injection"],
)
def test_invalid_trace_ids_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="use 32 \\(or 16\\) hexadecimal characters"):
        normalize_trace_id(bad)


def test_trace_id_forms() -> None:
    assert trace_id_forms("a3ce929d0e0e4736") == (
        "0000000000000000a3ce929d0e0e4736",
        "a3ce929d0e0e4736",
    )
    assert trace_id_forms("4bf92f3577b34da6a3ce929d0e0e4736") == (
        "4bf92f3577b34da6a3ce929d0e0e4736",
    )


def test_trace_and_correlation_queries() -> None:
    assert trace_queries("service_name", "checkout", "4BF92F3577B34DA6A3CE929D0E0E4736") == [
        '{service_name="checkout"} |~ "(?i)4bf92f3577b34da6a3ce929d0e0e4736"',
        '{service_name="checkout"} | trace_id=~"(?i)4bf92f3577b34da6a3ce929d0e0e4736"',
    ]
    assert trace_queries("app", None, "a3ce929d0e0e4736", [("|=", "error")]) == [
        '{app=~".+"} |= "error" |~ "(?i)0000000000000000a3ce929d0e0e4736|a3ce929d0e0e4736"',
        '{app=~".+"} |= "error" | trace_id=~'
        '"(?i)0000000000000000a3ce929d0e0e4736|a3ce929d0e0e4736"',
    ]
    assert correlation_queries("service_name", "cart", 'req-"7"\\') == [
        '{service_name="cart"} |= "req-\\"7\\"\\\\"'
    ]
    with pytest.raises(ValueError, match="correlation id is empty"):
        correlation_queries("service_name", "cart", "  ")


def test_around_an_alert() -> None:
    fired = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    span = around(fired, timedelta(minutes=15), timedelta(minutes=5))
    assert (span.start, span.end) == (fired - timedelta(minutes=15), fired + timedelta(minutes=5))


def test_loki_settings_defaults_and_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no sloctl.yaml
    s = load_settings(env={})
    assert (s.loki.url, s.loki.tenant, s.loki.service_label, s.loki.timeout_seconds) == (
        "http://127.0.0.1:3100",
        None,
        "service_name",
        10.0,
    )
    s = load_settings(
        env={"SLOCTL_LOKI_URL": "http://127.0.0.1:3101/", "SLOCTL_LOKI_TENANT": "a|b"}
    )
    assert (s.loki.url, s.loki.tenant) == ("http://127.0.0.1:3101", "a|b")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SLOCTL_LOKI_URL": "localhost:3100"}, "SLOCTL_LOKI_URL (loki.url): "),
        ({"SLOCTL_LOKI_TENANT": "team a"}, "invalid Loki tenant 'team a'"),
    ],
    ids=["url-without-scheme", "tenant-with-space"],
)
def test_bad_loki_settings(
    env: dict[str, str], message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SettingsError, match=message.replace("(", "\\(").replace(")", "\\)")):
        load_settings(env=env)
