"""The systemd unit and the Containerfile in packaging/: what they rely on, read from the files.

The unit is also checked by systemd's own ``systemd-analyze verify`` (and its offline security
score) when systemd-analyze is installed, as on Debian 12; the Containerfile has no linter here
(hadolint is not in Debian), so its directives are checked structurally and its install steps
and HEALTHCHECK run for real in tests/integration/test_packaging_run.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from sloctl.runtime.daemon import CYCLE_GRACE_SECONDS
from tests.support.containerfile import Instruction, instructions

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "packaging" / "sloctl.service"
CONTAINERFILE = ROOT / "packaging" / "Containerfile"
MAX_EXPOSURE = 2.0  # systemd-analyze security: below 2 is "OK"
HARDENING = {
    "DynamicUser": "yes", "NoNewPrivileges": "yes", "ProtectSystem": "strict",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "CapabilityBoundingSet": "", "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "SystemCallArchitectures": "native", "UMask": "0077",
}


Unit = dict[str, dict[str, list[str]]]


def unit() -> Unit:
    """Section -> key -> every value in order (a key may repeat, as Environment= does)."""
    sections: Unit = {}
    current: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
            continue
        key, sep, value = line.partition("=")
        assert sep, f"{UNIT.name}: not a directive: {line!r}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def one(section: str, key: str) -> str:
    [value] = unit()[section][key]
    return value


def test_the_unit_runs_serve_as_a_notify_service_restarted_on_failure() -> None:
    assert (one("Service", "Type"), one("Service", "NotifyAccess")) == ("notify", "main")
    assert one("Service", "ExecStart").split()[1:] == ["serve"]
    assert one("Service", "ExecStart").split()[0].endswith("/bin/sloctl")
    assert (one("Service", "Restart"), one("Service", "RestartSec")) == ("on-failure", "5s")
    # optional file, read after the Environment= lines: its values (secrets) win
    assert one("Service", "EnvironmentFile") == "-/etc/sloctl/sloctl.env"
    environment = unit()["Service"]["Environment"]
    assert "SLOCTL_LOG_FORMAT=json" in environment
    assert "SLOCTL_STORE_URL=sqlite:////var/lib/sloctl/sloctl.db" in environment
    assert one("Service", "KillSignal") == "SIGTERM"
    # serve's own stop bound (the cycle's grace, then a few seconds) fits inside systemd's
    assert int(one("Service", "TimeoutStopSec")) >= 3 * CYCLE_GRACE_SECONDS
    assert one("Install", "WantedBy") == "multi-user.target"
    assert "network-online.target" in one("Unit", "After")


def test_the_unit_is_hardened() -> None:
    assert {key: one("Service", key) for key in HARDENING} == HARDENING
    assert one("Service", "StateDirectory") == "sloctl"  # /var/lib/sloctl: the SQLite store
    assert one("Service", "WorkingDirectory") == "/var/lib/sloctl"


def verifiable_copy(tmp_path: Path) -> Path:
    """The unit with ExecStart pointing at this checkout's sloctl (verify checks it exists)."""
    sloctl = Path(sys.executable).parent / "sloctl"
    text = UNIT.read_text().replace("/opt/sloctl/bin/sloctl", str(sloctl))
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    return copy


@pytest.mark.skipif(shutil.which("systemd-analyze") is None,
                    reason="systemd-analyze is not installed (Debian: the systemd package)")
def test_systemd_analyze_verifies_the_unit_and_scores_it_ok(tmp_path: Path) -> None:
    copy = verifiable_copy(tmp_path)
    verify = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True,
                            text=True, timeout=60, check=False)
    assert verify.returncode == 0 and verify.stderr.strip() == "", verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(copy)],
                              capture_output=True, text=True, timeout=60, check=False)
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", security.stdout)
    assert level is not None, security.stdout[-2000:] + security.stderr
    assert float(level.group(1)) < MAX_EXPOSURE


def stages() -> dict[int, list[Instruction]]:
    found: dict[int, list[Instruction]] = {}
    for ins in instructions(CONTAINERFILE):
        found.setdefault(ins.stage, []).append(ins)
    return found


def uv_syncs() -> list[list[str]]:
    return [ins.words() for ins in stages()[0] if ins.keyword == "RUN"
            and ins.words()[:2] == ["uv", "sync"]]


def test_the_container_is_slim_and_runs_serve_as_a_non_root_user() -> None:
    [arg] = [i for i in instructions(CONTAINERFILE) if i.keyword == "ARG"]
    assert re.fullmatch(r"PYTHON_IMAGE=python:3\.11-slim-\w+", arg.args)
    final = stages()[max(stages())]
    assert final[0].args == "${PYTHON_IMAGE}"
    [user] = [i.args for i in final if i.keyword == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    entry = [i.exec_form() for i in final if i.keyword in ("ENTRYPOINT", "CMD")]
    assert entry == [["sloctl"], ["serve"]]
    [healthcheck] = [i for i in final if i.keyword == "HEALTHCHECK"]
    assert "/readyz" in " ".join(healthcheck.exec_form())
    assert "--start-period=" in healthcheck.args
    [copied] = [i.args for i in final if i.keyword == "COPY"]
    assert copied == "--from=build /opt/sloctl /opt/sloctl"  # the venv only, no build tools


def test_the_container_installs_exactly_the_lock_with_the_makefile_uv() -> None:
    makefile = (ROOT / "Makefile").read_text()
    pinned = re.search(r"^UV_VERSION\s*:=\s*(\S+)", makefile, re.M)
    assert pinned is not None
    build = stages()[0]
    assert f"uv=={pinned.group(1)}" in " ".join(i.args for i in build if i.keyword == "RUN")
    syncs = uv_syncs()
    assert len(syncs) == 2 and all({"--locked", "--no-dev", "--no-editable"} <= set(s)
                                   for s in syncs)
    first_copy = next(i for i in build if i.keyword == "COPY")
    assert first_copy.args.split()[:2] == ["pyproject.toml", "uv.lock"]
    extras = {s[k + 1] for s in syncs for k, word in enumerate(s) if word == "--extra"}
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert extras and extras <= set(project["optional-dependencies"]), extras
