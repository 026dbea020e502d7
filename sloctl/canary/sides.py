"""The two sides of a canary judgement: which service and label matchers select each.

A side is written as PromQL matchers (``version="v2"``, ``track="canary",region=~"eu.*"``,
braces optional), or as a bare value (``v2``, ``6d4f8b9c7``) of the spec's canary label. Sides
not given come from the spec's ``canary:`` layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sloctl.errors import SloctlError
from sloctl.spec.canary_layout import CanaryLayout
from sloctl.spec.models import Matcher, MatchOp

_MATCHER = re.compile(
    r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(?:"((?:[^"\\]|\\.)*)"|([^,"\s]+))\s*(,|$)'
)
_UNESCAPE = re.compile(r"\\(.)")


class CanaryRequestError(SloctlError):
    """A canary request that cannot be judged as given; ``field`` names the bad parameter."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True)
class Side:
    """One side: the service whose series it reads and the matchers that select it."""

    service: str
    matchers: tuple[Matcher, ...]

    @property
    def selector(self) -> str:
        """``version="v2"`` (escaped), or "" for the whole service."""
        def escape(v: str) -> str:
            return v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

        return ",".join(f'{m.label}{m.op}"{escape(m.value)}"' for m in self.matchers)

    def describe(self) -> str:
        return f"{self.service}{{{self.selector}}}" if self.matchers else self.service


def parse_matchers(text: str, field: str) -> tuple[Matcher, ...]:
    """``a="x",b=~"y"`` (or ``{...}``) as matchers; ``CanaryRequestError`` naming ``field``."""
    body = text.strip()
    if body.startswith("{") and body.endswith("}"):
        body = body[1:-1]
    found: list[Matcher] = []
    position = 0
    while position < len(body):
        match = _MATCHER.match(body, position)
        if match is None or match.end() == position:
            raise CanaryRequestError(
                field, f"cannot read {text!r} from character {position + 1}: write label "
                'matchers such as version="v2" or track="canary",region=~"eu.*"')
        label, op, quoted, plain, _ = match.groups()
        value = _UNESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else m.group(1), quoted) \
            if quoted is not None else plain
        found.append(Matcher(label, _op(op), value))
        position = match.end()
    if not found:
        raise CanaryRequestError(field, "no matcher given")
    return tuple(found)


def _op(text: str) -> MatchOp:
    ops: dict[str, MatchOp] = {"=": "=", "!=": "!=", "=~": "=~", "!~": "!~"}
    return ops[text]


def side_matchers(
    text: str | None, default: str | None, layout: CanaryLayout | None, field: str
) -> tuple[Matcher, ...]:
    """The side's matchers: ``text`` (matchers, or a bare value of the layout's label), else
    the layout's default value, else none."""
    label = layout.label if layout is not None else None
    if text is None or not text.strip():
        return () if default is None or label is None else (Matcher(label, "=", default),)
    if "=" in text or "~" in text:
        return parse_matchers(text, field)
    if label is None:
        raise CanaryRequestError(
            field, f"{text!r} is a bare value, but the spec names no canary label: write "
            f'label="{text}" (e.g. version="{text}"), or set canary.label in the spec')
    return (Matcher(label, "=", text.strip()),)


def resolve_sides(
    service: str,
    canary: str | None,
    baseline: str | None,
    canary_service: str | None,
    baseline_service: str | None,
    layout: CanaryLayout | None,
) -> tuple[Side, Side]:
    """Both sides; they must select different series of their service(s)."""
    c = Side(
        canary_service or (layout.canary_service if layout else None) or service,
        side_matchers(canary, layout.canary if layout else None, layout, "canary"),
    )
    b = Side(
        baseline_service or (layout.baseline_service if layout else None) or service,
        side_matchers(baseline, layout.baseline if layout else None, layout, "baseline"),
    )
    if c.service == b.service and (not c.matchers or not b.matchers or c == b):
        which = "canary" if not c.matchers else "baseline"
        raise CanaryRequestError(
            which, f"the canary and the baseline would share series of {c.service}: give both "
            "sides (e.g. --canary 'version=\"v2\"' --baseline 'version=\"v1\"'), a spec "
            "canary: layout, or a canary service of its own (--canary-service)")
    return c, b
