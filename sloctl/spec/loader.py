"""Load SLO spec files and report every problem in every file.

Formats, told apart per YAML document (a file may mix them): ``apiVersion: sloctl/v1``
(``v1_schema``), Sloth's ``version: prometheus/v1`` and ``apiVersion: sloth.slok.dev/v1``
(``sloth``), and ``apiVersion: openslo/v1`` (``openslo``; resolved over the whole file set, so an
``indicatorRef`` may name an SLI of another file). SLO ids (service/name) are unique across all.

``load_specs`` is all-or-nothing: one problem anywhere raises ``SpecError`` with all of them.
``validate_paths`` returns what could be resolved together with the problems (for ``validate``);
``check_paths`` also returns the warnings (what is accepted but ignored), which the other two log.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sloctl.errors import SpecError, SpecProblem
from sloctl.spec.documents import Loaded, SourceDocument
from sloctl.spec.error_messages import loc_path
from sloctl.spec.models import SLOSpec
from sloctl.spec.openslo import Parsed, parse_openslo, resolve_openslo
from sloctl.spec.openslo_schema import OPENSLO_API_VERSION
from sloctl.spec.sloth import load_sloth
from sloctl.spec.sloth_schema import SLOTH_API_VERSION, SLOTH_KIND, SLOTH_VERSION
from sloctl.spec.v1_resolve import Resolved, resolve_document
from sloctl.spec.v1_schema import API_VERSION, KINDS
from sloctl.spec.yaml_source import YamlSyntaxError, duplicate_keys, load_documents

log = logging.getLogger(__name__)
SPEC_SUFFIXES = (".yaml", ".yml")
MAX_SPEC_BYTES = 2 * 1024 * 1024  # a spec file above this is refused unread (real ones: KBs)
FORMATS = (
    f"{API_VERSION}, {OPENSLO_API_VERSION} or {SLOTH_API_VERSION} (kind: {SLOTH_KIND}); "
    f"Sloth's CLI files say version: {SLOTH_VERSION} instead"
)


@dataclass(frozen=True)
class SpecCheck:
    """The SLOs that resolved, every problem, and every warning, each in file then line order."""

    specs: list[SLOSpec]
    problems: list[SpecProblem]
    warnings: list[SpecProblem]


def load_specs(paths: Sequence[Path]) -> list[SLOSpec]:
    """Every SLO defined under ``paths`` (files or folders); ``SpecError`` if anything is wrong."""
    specs, problems = validate_paths(paths)
    if problems:
        raise SpecError(problems)
    return specs


def validate_paths(paths: Sequence[Path]) -> tuple[list[SLOSpec], list[SpecProblem]]:
    """The SLOs that resolved and every problem found; warnings are logged."""
    check = check_paths(paths)
    for warning in check.warnings:
        log.warning("warning: %s", warning)
    return check.specs, check.problems


def check_paths(paths: Sequence[Path]) -> SpecCheck:
    """Every SLO, problem and warning of the spec files under ``paths``."""
    files, problems = discover_files(paths)
    loaded = Loaded(problems=problems)
    openslo: list[Parsed] = []
    for file in files:
        file_loaded, file_openslo = load_file(file)
        loaded.add(file_loaded)
        openslo += file_openslo
    loaded.add(resolve_openslo(openslo))
    loaded.problems += _duplicate_ids(loaded.resolved)
    order = {str(file): index for index, file in enumerate(files)}

    def key(p: SpecProblem) -> tuple[int, int, str]:
        return order.get(p.file, -1), p.line or 0, p.path

    return SpecCheck(
        [r.spec for r in loaded.resolved],
        sorted(loaded.problems, key=key),
        sorted(loaded.warnings, key=key),
    )


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


def load_file(path: Path) -> tuple[Loaded, list[Parsed]]:
    """The SLOs, problems and warnings of one file, and its OpenSLO documents (resolved with
    the whole set). Never raises for bad content; a file above ``MAX_SPEC_BYTES`` is refused
    before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_SPEC_BYTES:
            message = (f"the file is {size} bytes, above the limit of {MAX_SPEC_BYTES} bytes "
                       "(2 MiB) for a spec file; split it into several files")
            return Loaded(problems=[_problem(path, message)]), []
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return Loaded(problems=[_problem(path, "not UTF-8 text; save the file as UTF-8")]), []
    except OSError as exc:
        message = f"cannot read the file: {exc.strerror or exc}"
        return Loaded(problems=[_problem(path, message)]), []
    try:
        documents = load_documents(text)
    except YamlSyntaxError as exc:
        return Loaded(problems=[SpecProblem(str(path), "", exc.line, str(exc))]), []
    if not documents:
        message = "file has no SLO documents; see `sloctl validate --help`"
        return Loaded(problems=[_problem(path, message)]), []
    loaded = Loaded()
    openslo: list[Parsed] = []
    for document in documents:
        doc = SourceDocument(str(path), document)
        loaded.problems += [
            SpecProblem(doc.source, loc_path(loc), line, "key appears twice in this mapping; "
                        "YAML keeps only the last one, remove the other")
            for loc, line in duplicate_keys(document.node)
        ]
        data = doc.data
        if not isinstance(data, dict):
            loaded.problems.append(doc.problem(
                (), "a spec document must be a mapping with apiVersion, kind, metadata and spec"))
            continue
        version = data.get("apiVersion")
        if version == OPENSLO_API_VERSION:
            parsed, problems = parse_openslo(doc)
            loaded.problems += problems
            openslo += [parsed] if parsed is not None else []
        elif version == SLOTH_API_VERSION or (version is None and "version" in data):
            loaded.add(_sloth(doc))
        else:
            loaded.add(_sloctl_v1(doc))
    return loaded, openslo


def _sloth(doc: SourceDocument) -> Loaded:
    data = doc.data
    assert isinstance(data, dict)
    if "apiVersion" in data:
        kind = data.get("kind")
        if kind != SLOTH_KIND:
            message = (
                f"unknown kind {kind!r}; {SLOTH_API_VERSION} has kind: {SLOTH_KIND}"
                if kind is not None else f"required field 'kind' is missing; use {SLOTH_KIND}"
            )
            return Loaded(problems=[doc.problem(("kind",), message)])
    elif data.get("version") != SLOTH_VERSION:
        message = (f"unsupported Sloth version {data.get('version')!r}; use {SLOTH_VERSION} "
                   f"(or apiVersion: {API_VERSION})")
        return Loaded(problems=[doc.problem(("version",), message)])
    return load_sloth(doc)


def _sloctl_v1(doc: SourceDocument) -> Loaded:
    data = doc.data
    assert isinstance(data, dict)
    header = _header_problems(data)
    if header:
        return Loaded(problems=[doc.problem((field,), message) for field, message in header])
    parsed, problems = doc.parse(KINDS[data["kind"]], data)
    if parsed is None:
        return Loaded(problems=problems)
    resolved, issues = resolve_document(parsed, doc.source, doc.line)
    return Loaded(resolved, [doc.problem(issue.loc, issue.message) for issue in issues])


def _header_problems(data: dict[object, object]) -> list[tuple[str, str]]:
    kinds = ", ".join(KINDS)
    problems = []
    version = data.get("apiVersion")
    if version is None:
        problems.append(
            ("apiVersion", f"required field 'apiVersion' is missing; add apiVersion: {API_VERSION}"
                           f" (or another format: {FORMATS})")
        )
    elif version != API_VERSION:
        problems.append(("apiVersion", f"unsupported apiVersion {version!r}; use {FORMATS}"))
    kind = data.get("kind")
    if version not in (None, API_VERSION):
        return problems
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
