"""Deterministic YAML for rule files: fixed key order, block style for multi-line expressions."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence

import yaml

from sloctl.rulegen.model import Group


class _RulesDumper(yaml.SafeDumper):
    """SafeDumper that writes multi-line strings as ``|`` blocks (readable PromQL)."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_RulesDumper.add_representer(str, _str)


def render_rules(groups: Sequence[Group], header: Sequence[str]) -> str:
    """``header`` as comment lines, then ``groups:`` in the given order."""
    return render_document({"groups": [g.as_dict() for g in groups]}, header)


def render_document(document: Mapping[str, object], header: Sequence[str]) -> str:
    """``header`` as comment lines, then ``document`` with its keys in the given order."""
    body = yaml.dump(
        dict(document),
        Dumper=_RulesDumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
    )
    return "".join(_comment(line) for line in header) + body


def _comment(line: str) -> str:
    """A header line as YAML comments: kept whole if it is one already, else wrapped at 100."""
    if line.startswith("#"):
        return f"{line}\n"
    return "".join(f"# {part}\n" for part in textwrap.wrap(line, width=98))
