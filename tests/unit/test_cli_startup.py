"""The CLI starts fast: importing it, ``--help`` and ``--version`` load no heavy library, a
reading command only the store's; the lazily loaded commands are the real ones (names and
help); reading a store's schema revision does not load Alembic. Times: bench/cli_startup.py."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sloctl.cli.main import COMMANDS, app, load_commands
from sloctl.store import Store, migrate
from tests.support import evaluations as ev

HEAVY = ("pandas", "numpy", "fastapi", "uvicorn", "streamlit", "plotly", "opentelemetry",
         "prometheus_api_client", "prometheus_client", "httpx", "requests", "alembic",
         "apscheduler", "matplotlib", "jinja2", "scipy")
STORE_FREE = ("sqlalchemy", "pydantic", "yaml")  # nor even these before a command needs them


def loaded_after(args: list[str], env: dict[str, str] | None = None) -> set[str]:
    """Top-level packages in ``sys.modules`` after ``sloctl ARGS`` ran in a fresh interpreter."""
    code = (
        "import runpy, sys, json\n"
        f"sys.argv = ['sloctl', *{args!r}]\n"
        "try:\n"
        "    runpy.run_module('sloctl.cli.main', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stderr.write('\\nMODULES ' + json.dumps(sorted({m.split('.')[0] "
        "for m in sys.modules})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, check=False, timeout=120)
    return set(json.loads(done.stderr.rsplit("MODULES ", 1)[1]))


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = ("import sys, json, sloctl.cli.main; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, timeout=120)
    modules = set(json.loads(done.stdout))
    assert "typer" in modules and "sloctl" in modules
    assert modules.isdisjoint(HEAVY + STORE_FREE), modules & set(HEAVY + STORE_FREE)


@pytest.mark.parametrize(
    ("args", "absent"),
    [
        (["--help"], HEAVY + STORE_FREE),
        (["--version"], HEAVY + STORE_FREE),
        (["slo", "--help"], HEAVY),  # typer converts options with pydantic
    ],
)
def test_help_and_version_load_no_heavy_library(args: list[str], absent: tuple[str]) -> None:
    modules = loaded_after(args)
    assert "sloctl" in modules
    assert modules.isdisjoint(absent), modules & set(absent)


def test_status_loads_the_store_but_nothing_heavier(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sloctl.db'}"
    at = datetime.now(UTC)
    with Store(url) as store:
        store.evaluations.save(ev.evaluation(at, [ev.slo("order", "availability", at)]))
    env = {"SLOCTL_STORE_URL": url, "SLOCTL_CONFIG": "", "PATH": "/usr/bin:/bin",
           "HOME": str(tmp_path)}
    modules = loaded_after(["status", "--max-age", "0"], env)
    assert "sqlalchemy" in modules  # it did read the store
    assert modules.isdisjoint(HEAVY), modules & set(HEAVY)


def test_help_lists_every_command_without_loading_them() -> None:
    result = CliRunner().invoke(app, ["--help"], env={"COLUMNS": "300"})
    assert result.exit_code == 0
    listed = [line.split()[1] for line in result.stdout.splitlines()
              if line.startswith("│ ") and len(line.split()) > 2 and line.split()[1] in COMMANDS]
    assert listed == list(COMMANDS)


def test_the_help_listed_is_each_real_commands_own() -> None:
    loaded: dict[str, dict[str, object]] = {}
    for name, (module, short) in COMMANDS.items():
        commands = loaded.setdefault(module, dict(load_commands(module)))
        real = commands[name]
        assert real.get_short_help_str(limit=10**6) == short, (  # type: ignore[attr-defined]
            f"sloctl.cli.main.COMMANDS[{name!r}]: copy the command's first help line")
    registered = {name for commands in loaded.values() for name in commands}
    assert registered == set(COMMANDS), "a module registers a command COMMANDS does not list"


def test_a_lazily_loaded_command_runs_with_its_options() -> None:
    result = CliRunner().invoke(app, ["slo", "history", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0 and "--points" in result.stdout and "--until" in result.stdout
    typo = CliRunner().invoke(app, ["statsu"])
    assert typo.exit_code == 2 and "Did you mean 'status'?" in typo.output


def test_reading_the_schema_revision_needs_no_alembic() -> None:
    """The version files' own revision lines give the chain Alembic computes."""
    chain = [r.revision for r in reversed(list(migrate.script_directory().walk_revisions()))]
    assert migrate._linear_chain(None) == chain
    assert migrate.head() == chain[-1] and migrate.revisions() == chain


def test_a_branched_history_is_left_to_alembic(tmp_path: Path) -> None:
    versions = tmp_path / "versions"
    versions.mkdir()
    for name, down in (("a", None), ("b", "a"), ("c", "a")):
        (versions / f"{name}.py").write_text(
            f'revision = "{name}"\ndown_revision = {down if down is None else repr(down)}\n')
    assert migrate._linear_chain(tmp_path) is None
