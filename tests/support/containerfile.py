"""Reading a Containerfile (Dockerfile syntax) into its instructions, for the packaging tests.

    for stage, keyword, args in instructions(path): ...   # continuations joined, comments out

Only what the tests need: ``\\`` line continuations, ``#`` comment lines, stages counted by
``FROM``, and ``exec_form`` for JSON-array arguments (``CMD ["sloctl", "serve"]``).
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Instruction:
    stage: int  # 0 for the instructions before the second FROM, and so on; -1 before any FROM
    keyword: str  # upper case
    args: str

    def exec_form(self) -> list[str]:
        """The JSON-array form of the arguments (after any ``--option=value`` flags)."""
        start = self.args.index("[")
        value = json.loads(self.args[start:])
        assert isinstance(value, list) and all(isinstance(v, str) for v in value)
        return value

    def words(self) -> list[str]:
        return shlex.split(self.args)


def instructions(path: Path) -> list[Instruction]:
    """Every instruction of the file, in order."""
    found: list[Instruction] = []
    stage = -1
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # a comment inside a continued instruction
            continue
        pending = f"{pending} {line}" if pending else line
        if pending.endswith("\\"):
            pending = pending[:-1].rstrip()
            continue
        keyword, _, args = pending.partition(" ")
        pending = ""
        keyword = keyword.upper()
        if keyword == "FROM":
            stage += 1
        found.append(Instruction(stage, keyword, re.sub(r"\s+", " ", args).strip()))
    assert not pending, f"{path}: the last instruction ends with a continuation"
    return found
