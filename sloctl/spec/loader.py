"""Load SLO spec files (``apiVersion: sloctl/v1``) and report every problem in every file.

``load_specs`` is all-or-nothing: one problem anywhere raises ``SpecError`` with all of them.
``validate_paths`` returns what could be resolved together with the problems (for ``validate``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from sloctl.errors import SpecError, SpecProblem
from sloctl.spec.error_messages import describe_error, loc_path
from sloctl.spec.models import SLOSpec
from sloctl.spec.v1_resolve import Loc, Resolved, resolve_document
from sloctl.spec.v1_schema import API_VERSION, KINDS
from sloctl.spec.yaml_source import (
    YamlDocument,
    YamlSyntaxError,
    duplicate_keys,
    line_of,
    load_documents,
)

SPEC_SUFFIXES = (".yaml", ".yml")


def load_specs(paths: Sequence[Path]) -> list[SLOSpec]:
    """Every SLO defined under ``paths`` (files or folders); ``SpecError`` if anything is wrong."""
    specs, problems = validate_paths(paths)
    if problems:
        raise SpecError(problems)
    return specs


def validate_paths(paths: Sequence[Path]) -> tuple[list[SLOSpec], list[SpecProblem]]:
    """The SLOs that resolved and every problem found, in file order then line order."""
    files, problems = discover_files(paths)
    resolved: list[Resolved] = []
    for file in files:
        file_specs, file_problems = validate_file(file)
        resolved += file_specs
        problems += file_problems
    problems += _duplicate_ids(resolved)
    order = {str(file): index for index, file in enumerate(files)}
    problems.sort(key=lambda p: (order.get(p.file, -1), p.line or 0, p.path))
    return [r.spec for r in resolved], problems


def discover_files(paths: Sequence[Path]) -> tuple[list[Path], list[SpecProblem]]:
    """Spec files named by ``paths``: files as given, folders searched for *.yaml/*.yml, sorted."""
    files: list[Path] = []
    problems: list[SpecProblem] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.suffix in SPEC_SUFFIXES and p.is_file())
            if not found:
                problems.append(_problem(path, "folder has no *.yaml or *.yml spec files"))
        elif path.exists():
            found = [path]
        else:
            problems.append(_problem(path, "no such file or folder; check the path"))
            found = []
        for file in found:
            if file.resolve() not in seen:
                seen.add(file.resolve())
                files.append(file)
    return files, problems


def validate_file(path: Path) -> tuple[list[Resolved], list[SpecProblem]]:
    """The SLOs of one file and its problems (never raises for bad content)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return [], [_problem(path, "not UTF-8 text; save the file as UTF-8")]
    except OSError as exc:
        return [], [_problem(path, f"cannot read the file: {exc.strerror or exc}")]
    try:
        documents = load_documents(text)
    except YamlSyntaxError as exc:
        return [], [SpecProblem(str(path), "", exc.line, str(exc))]
    if not documents:
        return [], [_problem(path, "file has no SLO documents; see `sloctl validate --help`")]
    resolved: list[Resolved] = []
    problems: list[SpecProblem] = []
    for document in documents:
        doc_specs, doc_problems = _validate_document(document, str(path))
        resolved += doc_specs
        problems += doc_problems
    return resolved, problems


def _validate_document(
    document: YamlDocument, source: str
) -> tuple[list[Resolved], list[SpecProblem]]:
    def located(loc: Loc, message: str) -> SpecProblem:
        return SpecProblem(source, loc_path(loc), line_of(document.node, loc), message)

    problems = [
        SpecProblem(
            source,
            loc_path(loc),
            line,
            "key appears twice in this mapping; YAML keeps only the last one, remove the other",
        )
        for loc, line in duplicate_keys(document.node)
    ]
    data = document.data
    if not isinstance(data, dict):
        message = "a spec document must be a mapping with apiVersion, kind, metadata and spec"
        return [], [*problems, SpecProblem(source, "", document.line, message)]
    header = _header_problems(data)
    if header:
        return [], problems + [located((field,), message) for field, message in header]
    model = KINDS[data["kind"]]
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            problems.append(located(tuple(error["loc"]), describe_error(error, model)))
        return [], problems
    resolved, issues = resolve_document(parsed, source, lambda loc: line_of(document.node, loc))
    return resolved, problems + [located(issue.loc, issue.message) for issue in issues]


def _header_problems(data: dict[object, object]) -> list[tuple[str, str]]:
    kinds = ", ".join(KINDS)
    problems = []
    version = data.get("apiVersion")
    if version is None:
        problems.append(
            ("apiVersion", f"required field 'apiVersion' is missing; add apiVersion: {API_VERSION}")
        )
    elif version != API_VERSION:
        problems.append(("apiVersion", f"unsupported apiVersion {version!r}; use {API_VERSION}"))
    kind = data.get("kind")
    if kind is None:
        problems.append(("kind", f"required field 'kind' is missing; use one of {kinds}"))
    elif not isinstance(kind, str) or kind not in KINDS:
        problems.append(("kind", f"unknown kind {kind!r}; {API_VERSION} kinds are {kinds}"))
    return problems


def _duplicate_ids(resolved: list[Resolved]) -> list[SpecProblem]:
    by_id: dict[str, list[Resolved]] = defaultdict(list)
    for item in resolved:
        by_id[item.spec.slo_id].append(item)
    problems = []
    for slo_id, items in by_id.items():
        if len(items) < 2:
            continue
        for item in items:
            others = ", ".join(f"{o.spec.source}:{o.spec.line}" for o in items if o is not item)
            problems.append(
                SpecProblem(
                    item.spec.source,
                    loc_path(item.loc),
                    item.spec.line,
                    f"duplicate SLO id {slo_id!r} (service/name), also defined at {others}; "
                    "SLO ids must be unique, rename or remove one",
                )
            )
    return problems


def _problem(path: Path, message: str) -> SpecProblem:
    return SpecProblem(str(path), "", None, message)
