"""The locked install: `make lock-check` fails when uv.lock and pyproject.toml disagree, and the
Python versions declared are the ones CI tests.

The check runs in a copy of Makefile, pyproject.toml and uv.lock, with the repository's uv
(.venv-tools, installed by `make test`) and ``UV_OFFLINE=1``: it needs no network.
"""

from __future__ import annotations

import os
import re
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".venv-tools"
MISMATCH = "uv.lock does not match pyproject.toml: run 'make lock' and commit uv.lock"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    if not (TOOLS / "bin" / "uv").exists():
        pytest.fail(f"{TOOLS}/bin/uv is missing: run `make test` (it installs the pinned uv)")
    for name in ("Makefile", "pyproject.toml", "uv.lock"):
        (tmp_path / name).write_bytes((ROOT / name).read_bytes())
    (tmp_path / ".venv-tools").symlink_to(TOOLS)
    return tmp_path


def lock_check(folder: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "UV_OFFLINE": "1"}
    return subprocess.run(
        ["make", "-s", "lock-check"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_lock_matches_pyproject(copy: Path) -> None:
    result = lock_check(copy)
    assert (result.returncode, result.stderr) == (0, "")


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param(
            '"msgspec>=0.19",', '"msgspec>=0.19",\n  "tabulate>=0.9",', id="new-dependency"
        ),
        pytest.param('"msgspec>=0.19"', '"msgspec>=99"', id="moved-bound"),
        pytest.param('"pytest>=8",', '"pytest>=8",\n  "tabulate",', id="new-dev-dependency"),
    ],
)
def test_a_pyproject_change_without_make_lock_fails_the_check(
    copy: Path, old: str, new: str
) -> None:
    pyproject = copy / "pyproject.toml"
    text = pyproject.read_text()
    assert old in text
    pyproject.write_text(text.replace(old, new, 1))
    lock_before = (copy / "uv.lock").read_bytes()
    result = lock_check(copy)
    assert result.returncode != 0
    assert MISMATCH in result.stderr
    assert (copy / "uv.lock").read_bytes() == lock_before  # the check never rewrites the lock


def _versions(text: str) -> list[str]:
    return re.findall(r"\b3\.\d+\b", text)


def test_declared_pythons_are_the_tested_ones() -> None:
    """requires-python's lower bound (`make test`'s python3) and TEST_PYTHONS (CI's
    `make test-pythons`) are exactly the classifiers' versions, and the lock covers them."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    classified = [
        c.rsplit(" :: ", 1)[1]
        for c in project["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", c)
    ]
    (lowest,) = _versions(project["requires-python"])
    make = re.search(r"^TEST_PYTHONS \?= (.+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert make is not None
    assert sorted([lowest, *make.group(1).split()]) == sorted(classified)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    assert lock["requires-python"] == project["requires-python"]
