"""One YAML document of a spec file, whatever its format: locating problems and parsing models.

Every format (sloctl/v1, Sloth, OpenSLO) reports problems the same way: ``file:line: field:
message``, the line found from the field's path in the document's node tree.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from sloctl.errors import SpecProblem
from sloctl.spec.error_messages import describe_error, loc_path
from sloctl.spec.v1_resolve import Resolved
from sloctl.spec.yaml_source import YamlDocument, line_of

Loc = tuple[str | int, ...]
Spell = Callable[[Loc], Loc]
Model = TypeVar("Model", bound=BaseModel)


@dataclass
class Loaded:
    """What documents gave: SLOs, problems (then none of them is used) and warnings."""

    resolved: list[Resolved] = field(default_factory=list)
    problems: list[SpecProblem] = field(default_factory=list)
    warnings: list[SpecProblem] = field(default_factory=list)

    def add(self, other: Loaded) -> None:
        self.resolved += other.resolved
        self.problems += other.problems
        self.warnings += other.warnings


@dataclass(frozen=True)
class SourceDocument:
    """A document and the file it came from."""

    source: str
    document: YamlDocument

    @property
    def data(self) -> object:
        return self.document.data

    def line(self, loc: Sequence[str | int]) -> int:
        """1-based line of the field at ``loc`` (or of its nearest existing parent)."""
        return line_of(self.document.node, loc)

    def problem(self, loc: Sequence[str | int], message: str) -> SpecProblem:
        """A problem located at ``loc``: ``file:line: field.path: message``."""
        return SpecProblem(self.source, loc_path(loc), self.line(loc), message)

    def parse(
        self,
        model: type[Model],
        data: object,
        base: Loc = (),
        rename: Mapping[str, str] | None = None,
    ) -> tuple[Model | None, list[SpecProblem]]:
        """``data`` (found at ``base`` in the document) validated as ``model``, or its problems.

        ``rename`` maps field names to the document's spelling (e.g. camelCase), in the field
        paths and in the messages.
        """
        try:
            return model.model_validate(data), []
        except ValidationError as exc:
            words = rename or {}
            problems = []
            for error in exc.errors():
                loc = tuple(words.get(p, p) if isinstance(p, str) else p for p in error["loc"])
                message = describe_error(error, model)
                for name, spelled in words.items():
                    message = re.sub(rf"\b{re.escape(name)}\b", spelled, message)
                problems.append(self.problem((*base, *loc), message))
            return None, problems
