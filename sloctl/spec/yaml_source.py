"""Safe YAML parsing that keeps the node tree, so problems can be reported with line numbers."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import yaml


@dataclass(frozen=True)
class YamlDocument:
    """One YAML document: its Python value and its node tree (for line numbers)."""

    data: object
    node: yaml.Node

    @property
    def line(self) -> int:
        """1-based line where the document's content starts."""
        return self.node.start_mark.line + 1


class YamlSyntaxError(ValueError):
    """The text is not valid YAML; ``line`` is 1-based (``None`` if unknown)."""

    def __init__(self, message: str, line: int | None):
        self.line = line
        super().__init__(message)


def load_documents(text: str) -> list[YamlDocument]:
    """Every non-empty document of a YAML stream, loaded with the safe loader."""
    loader = yaml.SafeLoader(text)
    documents: list[YamlDocument] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node() said there is one
                break
            data = loader.construct_document(node)
            if data is not None:
                documents.append(YamlDocument(data, node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = ": ".join(part for part in (exc.context, exc.problem) if part)
        raise YamlSyntaxError(
            f"YAML syntax error: {detail or exc}; check indentation, colons and quoting",
            mark.line + 1 if mark else None,
        ) from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(f"YAML error: {exc}", None) from exc
    finally:
        loader.dispose()
    return documents


def line_of(root: yaml.Node, loc: Sequence[str | int]) -> int:
    """1-based line of the field at ``loc`` (pydantic-style), or of its nearest existing parent.

    For a mapping entry the line is its key's; ``"[key]"`` in ``loc`` refers to the last key.
    """
    node, line = root, root.start_mark.line + 1
    for part in loc:
        if part == "[key]":
            continue
        found = _child(node, part)
        if found is None:
            break
        node, line = found
    return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, int] | None:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == str(part):
                return value, key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
        items: list[yaml.Node] = node.value
        if 0 <= part < len(items):
            return items[part], items[part].start_mark.line + 1
    return None


def duplicate_keys(root: yaml.Node) -> list[tuple[tuple[str | int, ...], int]]:
    """``(loc, line)`` of every mapping key repeated in its mapping (YAML keeps the last one)."""
    return list(_duplicates(root, (), set()))


def _duplicates(
    node: yaml.Node, loc: tuple[str | int, ...], visited: set[int]
) -> Iterator[tuple[tuple[str | int, ...], int]]:
    if id(node) in visited:  # an alias of a node already checked
        return
    visited.add(id(node))
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if isinstance(key, yaml.ScalarNode) and name in seen:
                yield (*loc, name), key.start_mark.line + 1
            seen.add(name)
            yield from _duplicates(value, (*loc, name), visited)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _duplicates(item, (*loc, index), visited)
