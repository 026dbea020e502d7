"""sloctl as a user installs it: the wheel, built from the sources, in clean virtualenvs at the
lock's versions (tests/support/wheel.py). The base install runs the CLI on the packaged specs
and names the extra for serve and the app; [serve] serves and stops on SIGTERM; [dashboard]
serves the packaged app on loopback. One virtualenv per set of extras, made once per session.
"""

from __future__ import annotations

import email
import importlib.metadata
import os
import re
import signal
import subprocess
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import yaml

from sloctl.spec.loader import load_specs
from tests.support import wheel
from tests.support.chromium import CHROMIUM, Chromium
from tests.support.processes import free_port, http_get, stop_group, wait_until

REPO = wheel.REPO
SPECS = REPO / "sloctl" / "demo" / "specs"
# what only an extra may bring (distribution names)
SERVE_ONLY = {"fastapi", "uvicorn", "starlette", "apscheduler", "prometheus-client",
              "opentelemetry-sdk", "jinja2", "matplotlib", "scipy"}
DASHBOARD_ONLY = {"streamlit", "pandas", "plotly", "pyarrow"}

Venv = Callable[..., Path]


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return wheel.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="session")
def venv(built: Path, tmp_path_factory: pytest.TempPathFactory) -> Venv:
    """``venv("serve")``: the bin/ of a virtualenv with the wheel and those extras (cached)."""
    made: dict[tuple[str, ...], Path] = {}
    root = tmp_path_factory.mktemp("venvs")

    def make(*extras: str) -> Path:
        if extras not in made:
            made[extras] = wheel.install(built, extras, root / ("-".join(extras) or "base"))
        return made[extras]

    return make


def clean_env(**settings: str) -> dict[str, str]:
    """The environment without this run's SLOCTL_* variables nor virtualenv, plus ``settings``."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SLOCTL_") and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    return {**env, **settings}


@dataclass(frozen=True)
class Shop:
    """Settings for the packaged demo specs, a new SQLite store and a Prometheus that is down."""

    store: str
    specs: str

    def env(self, **more: str) -> dict[str, str]:
        return clean_env(SLOCTL_STORE_URL=self.store, SLOCTL_SPECS=self.specs,
                         SLOCTL_PROMETHEUS_URL=f"http://127.0.0.1:{free_port()}",
                         SLOCTL_PROMETHEUS_TIMEOUT="2", **more)


def sloctl(bin_dir: Path, *args: str, cwd: Path, env: dict[str, str] | None = None,
           ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(bin_dir / "sloctl"), *args], cwd=cwd, env=env or clean_env(),
                          capture_output=True, text=True, timeout=120)


def shop(bin_dir: Path, tmp_path: Path) -> Shop:
    """The demo's specs as the installed wheel holds them, and a store in ``tmp_path``."""
    specs = sloctl(bin_dir, "assets", "demo-specs", cwd=tmp_path).stdout.strip()
    return Shop(f"sqlite:///{tmp_path / 'sloctl.db'}", specs)


def test_the_wheel_holds_the_app_the_assets_and_light_requirements(built: Path) -> None:
    names = set(zipfile.ZipFile(built).namelist())
    for folder in ("grafana", "rules", "docs", "collector_config"):
        files = {f"sloctl/assets/{p.relative_to(REPO)}" for p in (REPO / folder).rglob("*")
                 if p.is_file() and "__pycache__" not in p.parts}
        assert files and files <= names, sorted(files - names)
    assert "sloctl/assets/sloctl.example.yaml" in names
    pages = {f"sloctl/dashboard/app_pages/{p.name}"
             for p in (REPO / "sloctl" / "dashboard" / "app_pages").glob("*.py")}
    assert {"sloctl/dashboard/app.py", "sloctl/dashboard/data.py", *pages} <= names
    assert "sloctl/demo/specs/shop.yaml" in names
    assert not any(n.startswith(("dashboard/", "tests/", "bench/")) for n in names)

    (metadata,) = [n for n in names if n.endswith(".dist-info/METADATA")]
    info = email.message_from_bytes(zipfile.ZipFile(built).read(metadata))
    unconditional = {re.match(r"[\w.-]+", r)[0].lower()  # type: ignore[index]
                     for r in info.get_all("Requires-Dist") or [] if "extra ==" not in r}
    assert "pydantic" in unconditional
    assert unconditional.isdisjoint(SERVE_ONLY | DASHBOARD_ONLY), unconditional
    extras = set(info.get_all("Provides-Extra") or [])
    assert {"serve", "dashboard", "postgres", "all", "demo"} <= extras


def test_the_base_install_runs_the_cli_and_names_the_extras(venv: Venv, tmp_path: Path) -> None:
    bin_dir = venv()
    assert wheel.installed(bin_dir).isdisjoint(SERVE_ONLY | DASHBOARD_ONLY)
    version = sloctl(bin_dir, "--version", cwd=tmp_path)
    assert version.stdout.strip() == f"sloctl {importlib.metadata.version('sloctl')}"
    it = shop(bin_dir, tmp_path)
    assert Path(it.specs).is_relative_to(bin_dir.parent)  # the installed copy, not this checkout
    count = len(load_specs([SPECS]))

    valid = sloctl(bin_dir, "validate", it.specs, cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert f"OK: {count} SLOs in 1 file" in valid.stdout

    rules = sloctl(bin_dir, "rules", "generate", "--stdout", "--no-bound-check", "-s", it.specs,
                   cwd=tmp_path)
    assert rules.returncode == 0, rules.stderr
    groups = {g["name"] for g in yaml.safe_load(rules.stdout)["groups"]}
    committed = {g["name"] for path in (REPO / "rules" / "generated").glob("*.yml")
                 for g in yaml.safe_load(path.read_text())["groups"]}
    assert groups == committed

    # one evaluation with Prometheus down: stored, every value unknown (exit 3), then read
    evaluated = sloctl(bin_dir, "eval", "-q", cwd=tmp_path, env=it.env())
    assert evaluated.returncode == 3, evaluated.stderr
    status = sloctl(bin_dir, "status", "-o", "json", cwd=tmp_path, env=it.env())
    assert status.returncode == 3, status.stderr
    assert len(yaml.safe_load(status.stdout)["slos"]) == count

    for command, extra in (("serve", "serve"), ("dashboard", "dashboard")):
        refused = sloctl(bin_dir, command, cwd=tmp_path, env=it.env())
        assert refused.returncode == 2
        assert f"`sloctl {command}` needs the '{extra}' extra" in refused.stderr.replace("\n", " ")
        assert f"pip install 'sloctl[{extra}]'" in refused.stderr.replace("\n", " ")


def test_serve_from_the_serve_extra_answers_and_stops_on_sigterm(venv: Venv,
                                                                 tmp_path: Path) -> None:
    bin_dir = venv("serve")
    assert wheel.installed(bin_dir).isdisjoint(DASHBOARD_ONLY)
    port = free_port()
    env = shop(bin_dir, tmp_path).env(SLOCTL_RECEIVER_PORT=str(port))
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(bin_dir / "sloctl"), "serve"], cwd=tmp_path, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        body = wait_until(lambda: http_get(f"http://127.0.0.1:{port}/healthz"), 60,
                          "sloctl serve from the wheel", proc)
        assert b"ok" in body.lower()
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        stop_group(proc)
        log.close()
    assert "sloctl serve: stopped" in (tmp_path / "serve.log").read_text()


@dataclass(frozen=True)
class App:
    url: str
    store: str
    proc: subprocess.Popen[bytes]


@pytest.fixture(scope="module")
def app(venv: Venv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    """``sloctl dashboard`` from the [dashboard] install, on a store holding one evaluation."""
    bin_dir = venv("dashboard")
    work = tmp_path_factory.mktemp("app")
    it = shop(bin_dir, work)
    assert sloctl(bin_dir, "eval", "-q", cwd=work, env=it.env()).returncode == 3
    port = free_port()
    log = (work / "dashboard.log").open("wb")
    proc = subprocess.Popen(
        [str(bin_dir / "sloctl"), "dashboard", "--port", str(port), "--store", it.store],
        cwd=work, env=clean_env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: http_get(f"{url}/_stcore/health"), 90, "sloctl dashboard", proc)
        yield App(url, it.store, proc)
    finally:
        stop_group(proc)
        log.close()


def test_the_app_from_the_dashboard_extra_serves_a_page_on_loopback(app: App) -> None:
    assert http_get(f"{app.url}/_stcore/health") == b"ok"
    page = http_get(f"{app.url}/")
    assert page is not None and b'<div id="root"></div>' in page  # Streamlit's page
    listening = {c.laddr for c in psutil.Process(app.proc.pid).net_connections("inet")
                 if c.status == psutil.CONN_LISTEN}
    port = int(app.url.rsplit(":", 1)[1])
    assert {(a.ip, a.port) for a in listening if a.port == port} == {("127.0.0.1", port)}


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_the_app_from_the_wheel_renders_the_store_given(app: App) -> None:
    with Chromium() as browser, browser.page() as page:
        page.navigate(app.url)
        # the page's text once the store line and the navigation are both drawn (the store
        # line can come first)
        text: str = page.wait_for(
            f"document.body && document.body.innerText.includes({app.store!r}) "
            "&& document.body.innerText.includes('Reports') && document.body.innerText", 90)
        assert page.evaluate("document.querySelectorAll('[data-testid=\"stException\"]')"
                             ".length") == 0
    for title in ("Overview", "Services", "SLOs", "DORA", "Incidents", "Reports"):
        assert title in text
