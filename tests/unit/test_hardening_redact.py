"""Credentials never shown: the one redaction function, the settings that feed it, the errors,
the store's messages and the CLI's consoles that use it; control characters escaped."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from sloctl.cli.fmt import SafeConsole, escape_controls, safe
from sloctl.cli.output import write_json_stream
from sloctl.errors import BackendUnreachable, StoreError, exit_code_help
from sloctl.redact import MASK, forget_secrets, redact, register_secret, register_url
from sloctl.settings import load_settings
from sloctl.store.database import redact as store_redact
from sloctl.store.database import shown


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot connect to http://bob:hunter22@prom:9090/api",
         "cannot connect to http://bob:***@prom:9090/api"),
        ("https://ghp:abcdef@github.com/x", "https://ghp:***@github.com/x"),
        ("postgresql://postgres@127.0.0.1/db", "postgresql://postgres@127.0.0.1/db"),
        ("postgresql+psycopg://sloctl:pa%40ss@db/sloctl", "postgresql+psycopg://sloctl:***@db/sloctl"),
        ("smtp://mailer:m41l@smtp.example:587", "smtp://mailer:***@smtp.example:587"),
        ("http://u:p@ss@host:9/x", "http://u:***@host:9/x"),  # an unencoded @ in the password
        ("http://h/q?a=1&token=t0k3n&b=2", "http://h/q?a=1&token=***&b=2"),
        ("http://h/q?api_key=k3y", "http://h/q?api_key=***"),
        ("no credentials http://prom:9090/", "no credentials http://prom:9090/"),
    ],
)
def test_urls_lose_their_credentials(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_registered_secrets_are_masked_raw_and_percent_encoded() -> None:
    register_secret("p@ss word!")
    assert redact("a p@ss word! b p%40ss%20word%21 c") == f"a {MASK} b {MASK} c"
    register_secret("abc")  # too short to mask outside URLs
    assert redact("abc") == "abc"


def test_register_url_takes_password_and_token_params() -> None:
    register_url("http://u:Zeta-9917@h:1/?token=Omega-4411")
    assert redact("Zeta-9917 and Omega-4411") == f"{MASK} and {MASK}"


def test_settings_register_every_credential(tmp_path: object) -> None:
    env = {
        "SLOCTL_PROMETHEUS_URL": "http://p:Prom-Secret-1@127.0.0.1:9090",
        "SLOCTL_ALERTMANAGER_URL": "http://a:Am-Secret-2@127.0.0.1:9093",
        "SLOCTL_LOKI_URL": "http://l:Loki-Secret-3@127.0.0.1:3100",
        "SLOCTL_JAEGER_URL": "http://j:Jaeger-Secret-4@127.0.0.1:16686",
        "SLOCTL_STORE_URL": "postgresql+psycopg://s:Store-Secret-5@127.0.0.1/sloctl",
        "SLOCTL_RECEIVER_TOKEN": "Receiver-Token-6",
        "SLOCTL_OTLP_ENDPOINT": "http://o:Otlp-Secret-7@127.0.0.1:4318",
    }
    load_settings(env=env)
    text = " ".join(value.split("//")[-1] for value in env.values())
    for secret in ("Prom-Secret-1", "Am-Secret-2", "Loki-Secret-3", "Jaeger-Secret-4",
                   "Store-Secret-5", "Receiver-Token-6", "Otlp-Secret-7"):
        assert secret not in redact(text + " " + secret)


def test_a_bad_url_setting_does_not_echo_its_password() -> None:
    with pytest.raises(Exception) as info:
        load_settings(env={"SLOCTL_PROMETHEUS_URL": "ftp://u:Nope-Secret-8@h"})
    assert "Nope-Secret-8" not in str(info.value)
    assert "ftp://u:***@h" in str(info.value)


def test_error_messages_are_redacted_whatever_built_them() -> None:
    exc = BackendUnreachable("prometheus", "cannot connect to http://u:Err-Secret-9@h:9090")
    assert str(exc) == "prometheus: cannot connect to http://u:***@h:9090"
    assert "Err-Secret-9" not in repr(str(StoreError("x http://u:Err-Secret-9@h")))


def test_the_store_masks_its_url_with_the_same_function() -> None:
    url = "postgresql+psycopg://u:Db-Secret-10@127.0.0.1/sloctl"
    assert shown(url) == "postgresql+psycopg://u:***@127.0.0.1/sloctl"
    assert store_redact("failed: password Db-Secret-10 refused", url) == (
        "failed: password *** refused"
    )


def test_safe_console_masks_and_escapes_every_printed_string() -> None:
    from rich.table import Table

    register_secret("Console-Secret-11")
    buffer = io.StringIO()
    console = SafeConsole(file=buffer, force_terminal=False, width=200)
    table = Table("label")
    table.add_row("evil\x1b]0;pwned\x07\x00\x9b31m Console-Secret-11")
    console.print(table)
    console.print("url http://u:Console-Secret-11@h")
    text = buffer.getvalue()
    assert "\x1b" not in text and "\x00" not in text and "\x9b" not in text
    assert "evil\\x1b]0;pwned\\x07\\x00\\x9b31m ***" in text
    assert "url http://u:***@h" in text
    assert "Console-Secret-11" not in text


def test_escape_controls_keeps_newlines_and_text() -> None:
    assert escape_controls("a\nb\tc\x1bd\u202ee") == "a\nb\tc\\x1bd\\u202ee"
    assert safe("x") == "x"


def test_json_stream_writes_a_valid_array_item_by_item(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    assert write_json_stream(iter([{"a": 1}, {"b": "http://u:Json-Secret-12@h"}])) == 2
    register_secret("Json-Secret-12")
    assert write_json_stream(iter([])) == 0
    first, second = capsys.readouterr().out.split("]\n")[:2]
    assert json.loads(first + "]") == [{"a": 1}, {"b": "http://u:***@h"}]
    assert json.loads(second + "]") == []


def test_exit_code_table_lists_every_code_once() -> None:
    lines = exit_code_help().split("\n\n")
    assert [line.split()[0] for line in lines] == ["0", "1", "2", "3", "4", "5", "6"]
