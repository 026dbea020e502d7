"""A package of an extra missing: every way a command reaches it is one typed error naming the
extra (exit 2), never a traceback. Absence is simulated in a fresh interpreter by blocking the
module (``sys.modules[name] = None`` makes its import fail as if it were not installed)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sloctl.errors import EXIT_USAGE, MissingExtraError
from sloctl.extras import EXTRA_MODULES, extra_of, missing_extra, needs, require

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO / "sloctl" / "demo" / "specs"


@pytest.mark.parametrize(("module", "extra"), [
    ("fastapi", "serve"), ("starlette.routing", "serve"), ("opentelemetry.sdk.trace", "serve"),
    ("jinja2", "serve"), ("scipy.stats", "serve"), ("streamlit.web", "dashboard"),
    ("pandas", "dashboard"), ("psycopg", "postgres"), ("aiosmtpd", "demo"), ("numpy", "demo"),
    ("yaml", None), ("opentelemetry.trace", None),
])
def test_each_module_maps_to_the_extra_that_installs_it(module: str, extra: str | None) -> None:
    assert extra_of(module) == extra


def test_needs_names_the_extra_and_lets_our_own_missing_modules_through() -> None:
    with pytest.raises(MissingExtraError) as caught, needs("serve", "`sloctl serve`"):
        raise ModuleNotFoundError("No module named 'h11'", name="h11")
    assert caught.value.extra == "serve"
    assert caught.value.exit_code == EXIT_USAGE
    assert str(caught.value) == ("`sloctl serve` needs the 'serve' extra (h11: not installed): "
                                 "pip install 'sloctl[serve]' (or 'sloctl[all]' for everything)")
    with pytest.raises(ModuleNotFoundError), needs(None, "x"):
        raise ModuleNotFoundError("No module named 'sloctl.gone'", name="sloctl.gone")
    unknown = ModuleNotFoundError("No module named 'left_pad'", name="left_pad")
    assert missing_extra(unknown, "x") is None  # no extra installs it: a bug, not an install


def test_require_lists_every_missing_package(monkeypatch: pytest.MonkeyPatch) -> None:
    require("serve", "`sloctl serve`")  # the dev install has every extra
    monkeypatch.setitem(EXTRA_MODULES, "serve", ("fastapi", "no_such_a", "no_such_b.sub"))
    with pytest.raises(MissingExtraError, match=r"\(no_such_a and no_such_b.sub: not installed"):
        require("serve", "`sloctl serve`")


def run_blocked(blocked: list[str], args: list[str], cwd: Path,
                **env: str) -> subprocess.CompletedProcess[str]:
    """``sloctl ARGS`` in a new interpreter in which the ``blocked`` modules cannot be imported."""
    code = ("import sys\n"
            f"for name in {blocked!r}:\n    sys.modules[name] = None\n"
            "from sloctl.cli.main import main\n"
            f"sys.argv = ['sloctl', *{args!r}]\nmain()\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith("SLOCTL_")}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True,
                          env={**base, "COLUMNS": "200", **env}, timeout=120)


def test_a_command_module_that_needs_an_extra_is_refused_when_loaded(tmp_path: Path) -> None:
    done = run_blocked(["jinja2"], ["report", "weekly"], tmp_path)
    assert done.returncode == EXIT_USAGE, done.stderr
    assert "error: `sloctl report` needs the 'serve' extra (jinja2: not installed): pip " \
           "install 'sloctl[serve]'" in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_and_the_app_are_refused_before_they_start(tmp_path: Path) -> None:
    serve = run_blocked(["apscheduler"], ["serve"], tmp_path)
    assert serve.returncode == EXIT_USAGE
    assert "`sloctl serve` needs the 'serve' extra (apscheduler: not installed)" in serve.stderr
    app = run_blocked(["streamlit", "plotly"], ["dashboard"], tmp_path)
    assert app.returncode == EXIT_USAGE
    assert ("`sloctl dashboard` needs the 'dashboard' extra (streamlit and plotly: not "
            "installed): pip install 'sloctl[dashboard]'") in app.stderr


def test_eval_runs_without_the_sdk_and_names_it_only_to_export_traces(tmp_path: Path) -> None:
    env = {"SLOCTL_SPECS": str(SPECS), "SLOCTL_PROMETHEUS_URL": "http://127.0.0.1:9",
           "SLOCTL_STORE_URL": f"sqlite:///{tmp_path / 'sloctl.db'}"}
    blocked = ["opentelemetry.sdk", "fastapi", "pandas", "streamlit"]
    plain = run_blocked(blocked, ["eval", "-o", "json"], tmp_path, **env)
    assert plain.returncode == 3, plain.stderr  # evaluated and stored, Prometheus down
    assert '"slo_id": "order/availability"' in plain.stdout
    traced = run_blocked(blocked, ["eval"], tmp_path, SLOCTL_OTLP_ENDPOINT="http://127.0.0.1:9",
                         **env)
    assert traced.returncode == EXIT_USAGE
    assert re.search(r"self-tracing \(telemetry.otlp_endpoint\) needs the 'serve' extra "
                     r"\(opentelemetry\.sdk[.\w]*: not installed\)", traced.stderr)

    # a lazy import while the command runs: slo history's tables come from pandas
    history = run_blocked(blocked, ["slo", "history", "order/availability"], tmp_path, **env)
    assert history.returncode == EXIT_USAGE, history.stderr
    assert ("`sloctl slo` needs the 'dashboard' extra (pandas: not installed): pip install "
            "'sloctl[dashboard]'") in history.stderr
