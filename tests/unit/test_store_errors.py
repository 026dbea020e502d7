"""An unusable store URL gives one typed StoreError that says how to fix it, password masked:
for the writer, the reader, and the commands."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import app
from sloctl.errors import EXIT_USAGE, StoreError
from sloctl.store import Store, StoreReader
from sloctl.store.database import shown
from tests.support.postgres import PostgresCluster
from tests.support.processes import free_port
from tests.support.store_backends import postgres  # noqa: F401 (fixture)

SECRET = "s3cr3t-Pa55"


def bad_urls(tmp_path: Path) -> list[tuple[str, str]]:
    """(url, what the message says)."""
    a_file = tmp_path / "plain-file"
    a_file.write_text("not a folder")
    return [
        (f"postgresql+psycopg://sloctl:{SECRET}@127.0.0.1:{free_port()}/sloctl",
         "sloctl:***@127.0.0.1"),
        (f"postgresql+psycopg://sloctl:{SECRET}@127.0.0.1:port/sloctl",
         "not a valid SQLAlchemy URL"),
        (f"nosuchdb://sloctl:{SECRET}@127.0.0.1/x", "nosuchdb://sloctl:***@127.0.0.1/x"),
        (f"postgresql+nodriver://sloctl:{SECRET}@127.0.0.1/x", "Install the database driver"),
        (f"sqlite:///{a_file}/sloctl.db", "cannot create the folder"),
        ("not a url", "not a valid SQLAlchemy URL"),
    ]


@pytest.mark.parametrize("opener", [Store, StoreReader], ids=["writer", "reader"])
def test_bad_urls_give_one_store_error_with_the_fix(tmp_path: Path, opener: type) -> None:
    for url, says in bad_urls(tmp_path):
        if opener is StoreReader and "cannot create the folder" in says:
            says = "does not exist yet"
        with pytest.raises(StoreError) as caught:
            opener(url)
        message = str(caught.value)
        assert says in message, (url, message)
        assert "SLOCTL_STORE_URL" in message or "sloctl db upgrade" in message, message
        assert SECRET not in message


def test_a_wrong_password_is_masked_in_the_error(
    postgres: PostgresCluster,  # noqa: F811
) -> None:
    # trust authentication accepts any password: an unknown database fails the connection
    url = postgres.url("no_such_database", password=SECRET)
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert SECRET not in message and "postgres:***@" in message
    assert "no_such_database" in message


def test_commands_exit_2_with_the_masked_url(tmp_path: Path) -> None:
    url = f"postgresql+psycopg://sloctl:{SECRET}@127.0.0.1:{free_port()}/sloctl"
    for args in (["status"], ["db", "current"], ["db", "upgrade"], ["incidents", "unlink",
                 "checkout@2026-11-27T09:00:00Z"]):
        result = CliRunner().invoke(app, args, env={"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": ""})
        assert result.exit_code == EXIT_USAGE, (args, result.output)
        text = " ".join(result.output.split())
        assert SECRET not in text and "sloctl:***@127.0.0.1" in text, (args, text)


def test_shown_masks_passwords_even_in_unparseable_urls() -> None:
    assert shown(f"postgresql://u:{SECRET}@db/x") == "postgresql://u:***@db/x"
    assert SECRET not in shown(f"postgresql://u:{SECRET}@[db/x")
