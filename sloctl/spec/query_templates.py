"""PromQL templates of imported specs (Sloth, OpenSLO) turned into sloctl's ``{{window}}`` form.

Sloth writes the range as a Go template, ``{{.window}}``; OpenSLO's Prometheus queries usually
return a counter with no range at all (the tool takes the increase). Both become the
``{{window}}`` templates of ``QueryRatio``; an error ratio that has no event counts (Sloth's
``raw``, OpenSLO's ``raw``) becomes a ratio over one "event" per window.
"""

from __future__ import annotations

import re

from sloctl.spec.fields import WINDOW_PLACEHOLDER
from sloctl.spec.models import QueryRatio

GO_WINDOW = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")
_TEMPLATE_LEFT = re.compile(r"\{\{")
_LABELS = r"""\{(?:[^{}"'`]|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)*\}"""
_SELECTOR = rf"(?:[a-zA-Z_:][a-zA-Z0-9_:]*\s*(?:{_LABELS})?|{_LABELS})"
_GROUPING = r"(?:(?:by|without)\s*\([^()]*\)\s*)?"
PLAIN_COUNTER = re.compile(
    rf"\s*(?:(?P<bare>{_SELECTOR})|sum\s*{_GROUPING}\(\s*(?P<summed>{_SELECTOR})\s*\)\s*{_GROUPING})\s*"
)
SLOTH_HELP = (
    "put {{.window}} where the range goes, e.g. "
    'sum(rate(http_requests_total{job="api",code=~"5.."}[{{.window}}]))'
)


def from_go_template(query: str) -> str:
    """Sloth's ``{{.window}}`` (any spacing) as ``{{window}}``; ValueError when absent."""
    text = GO_WINDOW.sub(WINDOW_PLACEHOLDER, query)
    if WINDOW_PLACEHOLDER not in text:
        raise ValueError(f"query must contain {{{{.window}}}}; {SLOTH_HELP}")
    if _TEMPLATE_LEFT.search(text.replace(WINDOW_PLACEHOLDER, "")):
        raise ValueError(
            "only the {{.window}} template variable is supported; remove the other {{...}}"
        )
    return text.strip()


def counter_increase(query: str) -> str | None:
    """``sum(increase(<selector>[{{window}}]))`` for a plain counter query (``metric{...}`` or
    ``sum [by (...)] (metric{...})``, as OpenSLO's examples write them); None otherwise."""
    match = PLAIN_COUNTER.fullmatch(query)
    if match is None:
        return None
    selector = (match.group("bare") or match.group("summed")).strip()
    return f"sum(increase({selector}[{WINDOW_PLACEHOLDER}]))"


def error_ratio(expr: str) -> QueryRatio:
    """An error-ratio template (0..1, no event counts) as a ratio of one event per window.

    bad = the ratio, total = 1 while the ratio has a value: both skip NaN (0/0, no traffic)
    and negative values, so a window without traffic has no data rather than a perfect SLI.
    """
    valid = f"({expr}) >= 0"
    return QueryRatio(total=f"count({valid})", bad=valid, good=None, ungrouped=True)
