"""sloctl's wheel, built from a clean copy of the sources, installed into fresh virtualenvs.

``build_wheel`` copies what the wheel is built from (a stale ``build/`` of the work tree never
leaks in) and runs ``uv build --wheel``; ``install`` makes a virtualenv with the machine's
Python holding the wheel with some extras, at exactly the versions of ``uv.lock`` (``uv export``
of those extras), from uv's cache (PyPI only for what the cache lacks). uv is the Makefile's
pinned one in ``.venv-tools`` (``make test`` installs it), else one on PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What the wheel is built from: the package (its assets are links into the other folders).
SOURCES = ("pyproject.toml", "README.md", "sloctl", "dashboard", "grafana", "rules", "docs",
           "collector_config", "sloctl.example.yaml")


def uv() -> str:
    """The uv binary: the Makefile's pinned one, else one on PATH."""
    pinned = REPO / ".venv-tools" / "bin" / "uv"
    found = str(pinned) if pinned.exists() else shutil.which("uv")
    if found is None:
        raise FileNotFoundError(f"uv not found in {pinned.parent} nor on PATH: run `make test`, "
                                "which installs it")
    return found


def _run(args: list[str], cwd: Path) -> str:
    # no active virtualenv; uv's default link mode (hard links from its cache when it can)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_LINK_MODE")}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def build_wheel(work: Path) -> Path:
    """Build the wheel from a copy of ``SOURCES`` in ``work``; its path."""
    src = work / "src"
    for name in SOURCES:
        origin = REPO / name
        if origin.is_dir():
            shutil.copytree(origin, src / name, symlinks=True,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            src.mkdir(parents=True, exist_ok=True)
            shutil.copy2(origin, src / name)
    _run([uv(), "build", "--wheel", "--quiet", "--out-dir", str(work / "dist"), str(src)], work)
    (wheel,) = (work / "dist").glob("sloctl-*.whl")
    return wheel


def locked_requirements(extras: tuple[str, ...], out: Path) -> Path:
    """The lock's pins for the base install plus ``extras``, as a requirements file."""
    flags = [arg for extra in extras for arg in ("--extra", extra)]
    _run([uv(), "export", "--frozen", "--no-emit-project", "--no-hashes", "--quiet",
          "--format", "requirements.txt", *flags, "--output-file", str(out)], REPO)
    return out


def install(wheel: Path, extras: tuple[str, ...], venv: Path) -> Path:
    """A new virtualenv at ``venv`` with ``wheel[extras]`` at the lock's versions; its bin/."""
    requirements = locked_requirements(extras, venv.with_suffix(".txt"))
    _run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], venv.parent)
    target = f"{wheel}[{','.join(extras)}]" if extras else str(wheel)
    python = venv / "bin" / "python"
    _run([uv(), "pip", "install", "--quiet", "--python", str(python), "-r", str(requirements),
          target], venv.parent)
    return venv / "bin"


def installed(bin_dir: Path) -> set[str]:
    """The normalised names of the distributions installed in the virtualenv of ``bin_dir``."""
    text = _run([uv(), "pip", "list", "--python", str(bin_dir / "python"), "--format",
                 "freeze"], bin_dir)
    return {line.split("==")[0].lower().replace("_", "-") for line in text.split() if line}


def size_bytes(venv: Path) -> int:
    """Disk use of ``venv`` as ``du`` counts it (allocated blocks, hard links once)."""
    done = subprocess.run(["du", "-sk", str(venv)], capture_output=True, text=True, check=True)
    return int(done.stdout.split()[0]) * 1024
