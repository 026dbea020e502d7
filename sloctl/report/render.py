"""The scorecard as an email's HTML and plain text (Jinja2 templates in ``templates/``).

    rendered = render(card, app_url="http://127.0.0.1:8501", warning_budget_left=0.25)
    rendered.html, rendered.text, rendered.images      # images: cid -> PNG bytes

The HTML follows what mail clients render: tables for layout, every style inline on its element
(no ``<style>``, no external CSS, no script, no remote image), 600 px wide and fluid down to
phone widths, explicit text and background colours on every block (readable when a client
darkens it), words and arrows beside colours, ``alt``/``width``/``height`` on every image.
Charts are inline PNGs referenced by ``cid:`` (``sloctl.report.chart_png``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from sloctl.report import fmt
from sloctl.report.chart_png import render_png
from sloctl.report.charts import Bars, Chart, Sparkline, email_charts
from sloctl.report.scorecard import PeriodScorecard, ScopeKind, ServiceLine, Status

TEMPLATES = Path(__file__).parent / "templates"
MAX_SLOS = 15  # rows of the SLO table; the rest are in the app
MAX_SERVICES = 20
MAX_INCIDENTS = 10

STYLE = {
    "page": "margin:0;padding:0;background-color:#f6f8fa;color:#24292f;",
    "outer": "width:100%;background-color:#f6f8fa;",
    "card": "width:100%;max-width:600px;background-color:#ffffff;color:#24292f;"
            "border:1px solid #d0d7de;border-collapse:collapse;",
    "pad": "padding:16px 20px;background-color:#ffffff;color:#24292f;"
           "font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:20px;",
    "h1": "margin:0;font-size:20px;line-height:26px;color:#24292f;font-weight:bold;",
    "h2": "margin:0 0 8px 0;font-size:16px;line-height:22px;color:#24292f;font-weight:bold;",
    "muted": "color:#57606a;font-size:12px;line-height:16px;",
    "table": "width:100%;border-collapse:collapse;table-layout:fixed;",
    "th": "text-align:left;padding:6px 4px;border-bottom:2px solid #d0d7de;color:#57606a;"
          "background-color:#ffffff;font-size:12px;line-height:16px;font-weight:bold;"
          "font-family:Arial,Helvetica,sans-serif;",
    "td": "padding:6px 4px;border-bottom:1px solid #eaeef2;vertical-align:top;color:#24292f;"
          "background-color:#ffffff;font-size:13px;line-height:18px;word-wrap:break-word;"
          "overflow-wrap:anywhere;font-family:Arial,Helvetica,sans-serif;",
    "tile": "padding:10px;border:1px solid #d0d7de;vertical-align:top;background-color:#ffffff;"
            "color:#24292f;font-family:Arial,Helvetica,sans-serif;",
    "big": "font-size:22px;line-height:28px;font-weight:bold;color:#24292f;",
    "link": "color:#0550ae;text-decoration:underline;",
    "img": "display:block;max-width:100%;height:auto;border:0;",
}
BADGE = {
    Status.BREACHED: "background-color:#ffebe9;color:#82071e;",
    Status.WARNING: "background-color:#fff8c5;color:#6b4400;",
    Status.OK: "background-color:#dafbe1;color:#0f5323;",
    Status.INSUFFICIENT_DATA: "background-color:#eaeef2;color:#32383f;",
}
BADGE_BASE = "padding:1px 5px;font-size:11px;line-height:16px;font-weight:bold;white-space:nowrap;"
GOAL = {True: ("met", "✓"), False: ("missed", "✗"), None: ("unknown", "?")}


@dataclass(frozen=True)
class Rendered:
    """One scorecard rendered: subject, the two bodies and the inline images."""

    subject: str
    html: str
    text: str
    images: dict[str, bytes]  # content id -> PNG
    charts: tuple[Chart, ...]


def app_link(base: str, page: str = "", **params: str) -> str:
    """A link into the app: ``<base>/<page>?period=...&team=...`` (see sloctl.report)."""
    query = urlencode({k: v for k, v in params.items() if v})
    return f"{base.rstrip('/')}/{page}" + (f"?{query}" if query else "")


def _scope_params(card: PeriodScorecard) -> dict[str, str]:
    params = {"period": card.period.key}
    if card.scope.kind is ScopeKind.TEAM:
        params["team"] = card.scope.name
    elif card.scope.kind is ScopeKind.SERVICE:
        params["service"] = card.scope.name
    return params


def subject(card: PeriodScorecard) -> str:
    verdict = {True: "inside goals", False: "outside goals", None: "not enough data"}
    breached = sum(1 for s in card.slos if s.status is Status.BREACHED)
    extra = f", {breached} SLO(s) breached" if breached else ""
    return (f"[sloctl] {card.scope.title} scorecard {card.period.key}: "
            f"{verdict[card.within_goals]}{extra}")


def _attention_services(card: PeriodScorecard) -> list[ServiceLine]:
    if card.scope.kind is not ScopeKind.ORGANISATION or len(card.services) <= MAX_SERVICES:
        return list(card.services)
    flagged = [s for s in card.services
               if any(sig.goal_met is False for sig in s.signals)
               or s.worst_status in (Status.BREACHED, Status.WARNING)]
    return flagged[:MAX_SERVICES]


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.globals.update(fmt=fmt, s=STYLE, badge=BADGE, badge_base=BADGE_BASE, goal_words=GOAL,
                       Status=Status)
    return env


_ENV = _environment()


def render(card: PeriodScorecard, app_url: str, warning_budget_left: float,
           with_images: bool = True) -> Rendered:
    """The email's parts for ``card`` (``with_images=False``: charts defined, not drawn)."""
    charts = email_charts(card, warning_budget_left)
    images = {c.cid: render_png(c) for c in charts} if with_images else {}
    params = _scope_params(card)
    links = {
        "overview": app_link(app_url, "", **params),
        "slos": app_link(app_url, "slos", **params),
        "services": app_link(app_url, "services", **params),
        "dora": app_link(app_url, "dora", **params),
        "incidents": app_link(app_url, "incidents", **params),
        "report": app_link(app_url, "reports", period=card.period.key, scope=card.scope.key),
    }
    context = {
        "card": card,
        "subject": subject(card),
        "links": links,
        "slo_link": lambda slo_id: app_link(app_url, "slos", period=card.period.key, slo=slo_id),
        "service_link": lambda name: app_link(app_url, "services", period=card.period.key,
                                              service=name),
        "sparks": {c.cid.split("@")[0].removeprefix("spark-"): c
                   for c in charts if isinstance(c, Sparkline)},
        "bars": next((c for c in charts if isinstance(c, Bars)), None),
        "slos": card.slos[:MAX_SLOS],
        "services": _attention_services(card),
        "incidents": card.incidents.lines[:MAX_INCIDENTS],
        "local": lambda at: at.astimezone(ZoneInfo(card.period.timezone)).strftime(
            "%a %d %b %H:%M"),
        "zone": card.period.timezone,
        "warning_budget_left": warning_budget_left,
    }
    return Rendered(
        subject=context["subject"],  # type: ignore[arg-type]
        html=_ENV.get_template("weekly.html.j2").render(context),
        text=_ENV.get_template("weekly.txt.j2").render(context),
        images=images,
        charts=charts,
    )
