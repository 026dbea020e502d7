"""Reading a LogQL stream selector written in settings (``{app="deployer",env=~"prod"}``).

Parsing only; ``sloctl.sources.logql.stream_selector`` writes matchers back, escaped.
"""

from __future__ import annotations

import re

from sloctl.spec.models import Matcher

_MATCH_OPS = frozenset({"=", "!=", "=~", "!~"})
_SELECTOR_MATCHER = re.compile(
    r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\\n]|\\.)*"|`[^`]*`)\s*(,|$)'
)
_UNESCAPE = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"'}


def _unquote(literal: str) -> str:
    if literal.startswith("`"):
        return literal[1:-1]
    return re.sub(r"\\(.)", lambda m: _UNESCAPE.get(m.group(1), m.group(1)), literal[1:-1])


def parse_stream_selector(text: str) -> tuple[Matcher, ...]:
    """The matchers of a stream selector such as ``{app="deployer",env=~"prod|staging"}``.

    Raises ValueError saying what is wrong; ``stream_selector`` writes them back escaped.
    """
    body = text.strip()
    example = 'write it like {app="deployer"}'
    if not (body.startswith("{") and body.endswith("}")):
        raise ValueError(f"a stream selector is enclosed in braces; {example}, got {text!r}")
    inner, matchers, pos = body[1:-1], [], 0
    while pos < len(inner):
        m = _SELECTOR_MATCHER.match(inner, pos)
        if m is None or m.end() == pos:
            raise ValueError(
                f"cannot read the stream selector {text!r} at {inner[pos:]!r}; {example}"
            )
        op = m.group(2)
        assert op in _MATCH_OPS
        matchers.append(Matcher(m.group(1), op, _unquote(m.group(3))))  # type: ignore[arg-type]
        pos = m.end()
    if not matchers:
        raise ValueError(f"the stream selector {text!r} has no label matcher; {example}")
    return tuple(matchers)
