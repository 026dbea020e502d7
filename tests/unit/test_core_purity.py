"""``sloctl/core`` stays pure: stdlib math-ish imports only, no files, clock or environment."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sloctl.core

ALLOWED_MODULES = (
    "__future__",
    "dataclasses",
    "datetime",
    "enum",
    "math",
    "typing",
    "collections.abc",
    "statistics",
    "bisect",
    "functools",
    "itertools",
    "decimal",
    "scipy.stats",  # numerical functions only (the canary's exact tests): no I/O, no clock
    "sloctl.core",
    "sloctl.dora.model",  # DORA's pure modules, gathered in sloctl/dora beside its runtime parts
    "sloctl.dora.compute",
    "sloctl.dora.history",
    "sloctl.dora.levels",
)
FORBIDDEN_CALLS = {"open", "print", "input", "eval", "exec", "__import__", "breakpoint"}
FORBIDDEN_ATTRIBUTES = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("datetime", "today"),
    ("date", "today"),
    ("time", "time"),
    ("os", "environ"),
    ("os", "getenv"),
}
CORE_DIR = Path(sloctl.core.__file__).parent


def _allowed(module: str, extra: tuple[str, ...] = ()) -> bool:
    return any(module == ok or module.startswith(ok + ".") for ok in (*ALLOWED_MODULES, *extra))


def impurities(source: str, filename: str = "<string>", extra: tuple[str, ...] = ()) -> list[str]:
    """Every impure construct in ``source``, as ``file:line: what`` (``extra``: more modules
    it may import)."""
    problems: list[str] = []
    for node in ast.walk(ast.parse(source, filename)):
        where = f"{filename}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Import):
            problems += [f"{where}: import {a.name}" for a in node.names
                         if not _allowed(a.name, extra)]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level > 1 or (node.level == 0 and not _allowed(module, extra)):
                problems.append(f"{where}: from {'.' * node.level}{module} import")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in FORBIDDEN_CALLS:
                problems.append(f"{where}: call {node.func.id}()")
        elif isinstance(node, ast.Attribute):
            owner = node.value
            owner_name = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if (owner_name, node.attr) in FORBIDDEN_ATTRIBUTES:
                problems.append(f"{where}: {owner_name}.{node.attr}")
        elif isinstance(node, ast.Name) and node.id in {"environ", "getenv"}:
            problems.append(f"{where}: {node.id}")
    return problems


DORA_PURE = ("model", "compute", "history", "levels")
CORE_FILES = sorted(CORE_DIR.glob("*.py")) + [
    CORE_DIR.parent / "dora" / f"{name}.py" for name in DORA_PURE
]


def test_core_has_the_expected_modules() -> None:
    names = {path.stem for path in CORE_FILES}
    expected = {"__init__", "windows", "histogram", "slo", "burn", "signals", "alerts"}
    assert expected | {"evaluation"} <= names


@pytest.mark.parametrize("path", CORE_FILES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_core_module_is_pure(path: Path) -> None:
    assert impurities(path.read_text(encoding="utf-8"), path.name) == []


# The weekly report's model and build: pure too (regular expressions parse week keys).
REPORT_PURE = ("period", "inputs", "scorecard", "build", "charts", "fmt")
REPORT_ALLOWED = ("re", *(f"sloctl.report.{name}" for name in REPORT_PURE))
REPORT_FILES = [CORE_DIR.parent / "report" / f"{name}.py" for name in REPORT_PURE]


@pytest.mark.parametrize("path", REPORT_FILES, ids=lambda path: f"report/{path.name}")
def test_the_reports_build_is_pure(path: Path) -> None:
    assert impurities(path.read_text(encoding="utf-8"), path.name, REPORT_ALLOWED) == []


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        pytest.param("import os", "<string>:1: import os", id="import-os"),
        pytest.param("import random", "<string>:1: import random", id="import-random"),
        pytest.param("import logging", "<string>:1: import logging", id="import-logging"),
        pytest.param("from time import time", "<string>:1: from time import", id="from-time"),
        pytest.param("from sloctl import errors", "<string>:1: from sloctl import", id="sloctl"),
        pytest.param("from .. import errors", "<string>:1: from .. import", id="relative-up"),
        pytest.param("x = open('f')", "<string>:1: call open()", id="open"),
        pytest.param("print(1)", "<string>:1: call print()", id="print"),
        pytest.param("t = datetime.now()", "<string>:1: datetime.now", id="datetime-now"),
        pytest.param("t = datetime.utcnow()", "<string>:1: datetime.utcnow", id="utcnow"),
        pytest.param(
            "t = datetime.datetime.now()", "<string>:1: datetime.now", id="module-datetime-now"
        ),
        pytest.param("d = date.today()", "<string>:1: date.today", id="date-today"),
        pytest.param("t = time.time()", "<string>:1: time.time", id="time-time"),
        pytest.param("v = os.environ['X']", "<string>:1: os.environ", id="os-environ"),
        pytest.param("v = os.getenv('X')", "<string>:1: os.getenv", id="os-getenv"),
        pytest.param("v = environ['X']", "<string>:1: environ", id="bare-environ"),
        pytest.param("import numpy as np", "<string>:1: import numpy", id="import-numpy"),
    ],
)
def test_checker_catches_impure_source(source: str, problem: str) -> None:
    assert problem in impurities(source)


def test_checker_accepts_pure_source() -> None:
    source = (
        "from __future__ import annotations\n"
        "import math\n"
        "from collections.abc import Sequence\n"
        "from datetime import datetime, timedelta\n"
        "from sloctl.core import WindowCounts\n"
        "from .windows import window_name\n"
        "def f(at: datetime) -> datetime:\n"
        "    return at + timedelta(seconds=math.sqrt(4))\n"
    )
    assert impurities(source) == []
