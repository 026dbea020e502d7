"""Shell completion (bash and zsh, as `sloctl --install-completion` installs it): commands,
options, and SLO ids from the store's catalog."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sloctl.store import Store
from tests.support import evaluations as ev

SLOCTL = str(Path(sys.executable).parent / "sloctl")


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    at = datetime.now(UTC)
    with Store(url) as store:
        store.evaluations.save(ev.evaluation(at, [
            ev.slo("payment", "availability", at), ev.slo("payment", "latency", at),
            ev.slo("order", "availability", at)]))
    return {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": "", "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path)}


def bash(env: dict[str, str], words: str) -> list[str]:
    parts = words.split(" ")
    done = subprocess.run(
        [SLOCTL], env={**env, "_SLOCTL_COMPLETE": "complete_bash", "COMP_WORDS": words,
                       "COMP_CWORD": str(len(parts) - 1)},
        capture_output=True, text=True, check=True, timeout=60)
    return done.stdout.split()


def test_commands_and_options_complete(env: dict[str, str]) -> None:
    assert bash(env, "sloctl si") == ["signals", "silence"]
    assert bash(env, "sloctl slo h") == ["history"]
    assert bash(env, "sloctl status --se") == ["--service"]


def test_slo_ids_complete_from_the_store(env: dict[str, str]) -> None:
    assert bash(env, "sloctl slo show pay") == ["payment/availability", "payment/latency"]
    assert bash(env, "sloctl slo history o") == ["order/availability"]
    assert bash(env, "sloctl slo history ava") == []
    assert bash(env, "sloctl silence create --slo ord") == ["order/availability"]
    zsh = subprocess.run(
        [SLOCTL], env={**env, "_SLOCTL_COMPLETE": "complete_zsh",
                       "_TYPER_COMPLETE_ARGS": "sloctl slo show payment/l"},
        capture_output=True, text=True, check=True, timeout=60)
    assert '"payment/latency"' in zsh.stdout and "availability" not in zsh.stdout


def test_an_unreadable_store_completes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    missing = {**env, "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'none.db'}"}
    assert bash(missing, "sloctl slo show pay") == []
    assert not (tmp_path / "none.db").exists()
