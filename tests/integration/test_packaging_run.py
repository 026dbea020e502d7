"""packaging/ run for real, as far as this machine allows (no Docker daemon, no systemd PID 1).

The Containerfile's install steps (its `uv sync` lines, with its environment) build a venv from
the lock; `sloctl serve` from that venv, with the image's environment, answers its HEALTHCHECK
command: healthy once a cycle reached Prometheus, unhealthy when Prometheus is gone; SIGTERM
stops it. The systemd unit's Type=notify contract: serve sends READY=1, then STOPPING=1.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from sloctl.demo.prometheus_server import PrometheusServer
from tests.support.containerfile import Instruction, instructions
from tests.support.processes import free_port, stop_group, wait_until
from tests.support.sloctl_process import SPECS, sloctl_env

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "packaging" / "Containerfile"
UV = ROOT / ".venv-tools" / "bin" / "uv"  # the Makefile's pinned uv
STOP_BOUND = 15.0  # seconds from SIGTERM to exit (the unit allows 30)


def env_of(stage: list[Instruction]) -> dict[str, str]:
    """The ENV settings of a stage (``ENV A=1 B=2`` form)."""
    found: dict[str, str] = {}
    for ins in stage:
        if ins.keyword == "ENV":
            found.update(word.split("=", 1) for word in ins.words())  # type: ignore[misc]
    return found


def stage(number: int) -> list[Instruction]:
    return [i for i in instructions(CONTAINERFILE) if i.stage == number]


def install_like_the_build_stage(tmp_path: Path) -> Path:
    """Run the build stage's COPY and `uv sync` steps in order; returns the venv."""
    src, venv = tmp_path / "src", tmp_path / "venv"
    src.mkdir()
    env = {**os.environ, **env_of(stage(0)), "UV_PROJECT_ENVIRONMENT": str(venv),
           "UV_PYTHON": "python3", "UV_COMPILE_BYTECODE": "0"}  # .pyc: only slower here
    for ins in stage(0):
        if ins.keyword == "COPY":
            *sources, _dest = ins.words()
            for name in sources:
                if (ROOT / name).is_dir():
                    shutil.copytree(ROOT / name, src / name,
                                    ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(ROOT / name, src / name)
        elif ins.keyword == "RUN" and ins.words()[:2] == ["uv", "sync"]:
            done = subprocess.run([str(UV), *ins.words()[1:]], cwd=src, env=env,
                                  capture_output=True, text=True, timeout=600, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
    return venv


def healthcheck(venv: Path, port: int) -> subprocess.CompletedProcess[str]:
    """The HEALTHCHECK command as Docker runs it (a hung check counts as failed, as there)."""
    [check] = [i for i in stage(1) if i.keyword == "HEALTHCHECK"]
    env = {"PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "SLOCTL_RECEIVER_PORT": str(port)}
    try:
        return subprocess.run(check.exec_form(), env=env, capture_output=True, text=True,
                              timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(check.exec_form(), 1, "", "timed out")


def unhealthy(venv: Path, port: int) -> subprocess.CompletedProcess[str] | None:
    check = healthcheck(venv, port)
    return check if check.returncode != 0 else None


@pytest.mark.skipif(not UV.is_file(), reason=f"{UV} missing: `make test` installs it")
def test_the_container_steps_install_the_lock_and_serve_passes_its_healthcheck(
    tmp_path: Path,
) -> None:
    venv = install_like_the_build_stage(tmp_path)
    site = next((venv / "lib").glob("python3*/site-packages"))
    assert (site / "fastapi").is_dir() and (site / "psycopg").is_dir()  # serve, postgres
    assert not (site / "pytest").exists()  # --no-dev: no test tools in the image
    port = free_port()
    image_env = {**env_of(stage(1)), "SLOCTL_RECEIVER_HOST": "127.0.0.1",  # loopback here
                 "SLOCTL_RECEIVER_PORT": str(port),
                 "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}",
                 "PATH": f"{venv / 'bin'}:{os.environ['PATH']}", "SLOCTL_SPECS": str(SPECS)}
    log = tmp_path / "serve.log"
    with PrometheusServer(tmp_path / "prom") as prom:
        env = {**sloctl_env(tmp_path), **image_env, "SLOCTL_PROMETHEUS_URL": prom.url}
        [entry] = [i.exec_form() for i in stage(1) if i.keyword == "ENTRYPOINT"]
        [cmd] = [i.exec_form() for i in stage(1) if i.keyword == "CMD"]
        with log.open("wb") as out:
            proc = subprocess.Popen([*entry, *cmd, "--interval", "2"], env=env, cwd=tmp_path,
                                    stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        try:
            assert Path(shutil.which(entry[0], path=env["PATH"]) or "").parent == venv / "bin"
            wait_until(lambda: healthcheck(venv, port).returncode == 0 or None, 120,
                       "the HEALTHCHECK passing", proc)
        finally:
            prom.stop()
        try:
            failing = wait_until(lambda: unhealthy(venv, port), 30, "the HEALTHCHECK failing",
                                 proc)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(STOP_BOUND) == 0
        finally:
            stop_group(proc)
    assert "503" in failing.stderr
    lines = [json.loads(line) for line in log.read_text().splitlines()]  # the image logs JSON
    assert any(line.get("event") == "cycle" for line in lines)


def test_serve_tells_systemd_it_is_ready_and_then_stopping(tmp_path: Path) -> None:
    address = tmp_path / "notify"
    env = {**sloctl_env(tmp_path, receiver_port=str(free_port()),
                        prometheus_url=f"http://127.0.0.1:{free_port()}"),
           "NOTIFY_SOCKET": str(address)}
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind(str(address))
        systemd.settimeout(60)
        proc = subprocess.Popen([sys.executable, "-m", "sloctl.cli.main", "serve"], env=env,
                                cwd=tmp_path, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            assert systemd.recv(4096).split(b"\n")[0] == b"READY=1"
            proc.send_signal(signal.SIGTERM)
            assert systemd.recv(4096) == b"STOPPING=1"
            assert proc.wait(STOP_BOUND) == 0
        finally:
            stop_group(proc)
