"""The layer rules of DESIGN.md, enforced on the imports of every module (as core purity is).

From the bottom up: ``core`` (and DORA's pure modules) imports nothing of ours; ``errors`` and
``spec`` sit on it; ``settings`` on those; ``sources`` and ``store`` are siblings that never
import each other or anything above; ``evaluation``, ``rulegen`` and ``grafana`` build on the
sources; the ``runtime`` (the daemon, DORA's jobs) on all of those; ``cli`` and ``demo`` may use
everything. The dashboard reads core, the store and settings only. Nothing imports upward.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DORA_PURE = ("sloctl.dora.model", "sloctl.dora.compute", "sloctl.dora.history",
             "sloctl.dora.levels")
CORE = ("sloctl.core", *DORA_PURE)
SAFE = ("sloctl.errors", "sloctl.redact")  # typed errors and the one redaction function
# the extras' typed error and the packaged files: on the errors alone, usable from anywhere
LEAVES = ("sloctl.extras", "sloctl.assets")
SAFE = (*SAFE, *LEAVES)
BASE = (*CORE, *SAFE, "sloctl.spec")
CONFIG = (*BASE, "sloctl.settings", "sloctl.report.config")
ADAPTERS = (*CONFIG, "sloctl.sources")
BUILDERS = (*ADAPTERS, "sloctl.evaluation", "sloctl.rulegen", "sloctl.grafana", "sloctl.discover")
RUNTIME = (*BUILDERS, "sloctl.store", "sloctl.runtime", "sloctl.dora", "sloctl.report")
# The weekly report: its model and build are pure (core and DORA's pure modules); its loading,
# rendering and sending side may use what the runtime uses; the app reads its scorecards.
REPORT_PURE = ("sloctl.report.period", "sloctl.report.inputs", "sloctl.report.scorecard",
               "sloctl.report.build", "sloctl.report.charts", "sloctl.report.fmt")
REPORT_READ = (*REPORT_PURE, "sloctl.report.codec", "sloctl.report.read")

RUNTIME = (*RUNTIME, "sloctl.canary")  # canary judgement: its queries, store part and routes

# Module prefix -> the sloctl modules it may import (most specific prefix wins).
ALLOWED: dict[str, tuple[str, ...]] = {
    "sloctl.core": CORE,
    **{name: CORE for name in DORA_PURE},
    "sloctl.errors": ("sloctl.redact",),
    "sloctl.redact": (),
    **{name: ("sloctl.errors", "sloctl.redact") for name in LEAVES},
    "sloctl.spec": BASE,
    "sloctl.settings": CONFIG,
    "sloctl.sources": ADAPTERS,
    "sloctl.store": (*CORE, *SAFE, "sloctl.store"),
    "sloctl.evaluation": (*ADAPTERS, "sloctl.evaluation"),
    "sloctl.rulegen": (*ADAPTERS, "sloctl.rulegen"),
    "sloctl.grafana": (*ADAPTERS, "sloctl.rulegen", "sloctl.grafana"),
    "sloctl.discover": (*ADAPTERS, "sloctl.discover"),
    "sloctl.runtime": RUNTIME,
    "sloctl.dora": RUNTIME,
    "sloctl.canary": RUNTIME,
    "sloctl.cli": (*RUNTIME, "sloctl.cli"),
    "sloctl.demo": (*RUNTIME, "sloctl.cli", "sloctl.demo"),
    "sloctl.report": (*RUNTIME, "sloctl.report"),
    **{name: (*CORE, *REPORT_PURE) for name in REPORT_PURE},
    "sloctl.report.config": ("sloctl.spec",),
    "sloctl.report.codec": (*CORE, *REPORT_PURE, "sloctl.store"),
    "sloctl.report.read": (*CORE, *REPORT_READ, "sloctl.errors", "sloctl.store", "sloctl.settings"),
    "sloctl.dashboard": (*CORE, *SAFE, "sloctl.store", "sloctl.settings", "sloctl.dashboard"),
}

ALLOWED["sloctl.dashboard"] = (*ALLOWED["sloctl.dashboard"], *REPORT_READ)  # the scorecards


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rules_for(module: str) -> tuple[str, ...]:
    matches = [p for p in ALLOWED if module == p or module.startswith(p + ".")]
    assert matches, f"{module} belongs to no layer: add it to ALLOWED"
    return ALLOWED[max(matches, key=len)]


def own_imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) of every import of ours in ``path``, including lazy and TYPE_CHECKING ones."""
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                names = [f"{base}.{node.module}" if node.module else base]
            else:
                names = [node.module or ""]
                names += [f"{node.module}.{a.name}" for a in node.names if node.module == "sloctl"]
        else:
            continue
        for name in names:
            if name == "sloctl" or name.startswith("sloctl."):
                yield node.lineno, name


def allowed(target: str, rules: tuple[str, ...]) -> bool:
    if target in ("sloctl", "sloctl.__version__"):  # the package's face: its version
        return True
    return any(target == r or target.startswith(r + ".") for r in rules if r != "sloctl")


def violations(path: Path) -> list[str]:
    module = module_name(path)
    rules = rules_for(module)
    return [
        f"{path.relative_to(ROOT)}:{line}: {module} imports {target}"
        for line, target in own_imports(path)
        if not allowed(target, rules)
    ]


def package_sources() -> list[Path]:
    """Every module of the package, through sloctl/dashboard (a link to the top-level dashboard/,
    which rglob would not follow)."""
    found = []
    for folder, _dirs, files in os.walk(ROOT / "sloctl", followlinks=True):
        found += [Path(folder) / f for f in files if f.endswith(".py")]
    return sorted(p for p in found if p.name != "__init__.py" or p.parent.name != "sloctl")


SOURCES = package_sources()


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_module_imports_above_its_layer(path: Path) -> None:
    assert violations(path) == []


def test_the_checker_catches_an_upward_import(tmp_path: Path) -> None:
    fake = ROOT / "sloctl" / "store" / "fake_upward.py"
    try:
        fake.write_text("from sloctl.runtime import daemon\nfrom sloctl.core import slo\n")
        assert violations(fake) == [
            "sloctl/store/fake_upward.py:1: sloctl.store.fake_upward imports sloctl.runtime"
        ]
    finally:
        fake.unlink()
