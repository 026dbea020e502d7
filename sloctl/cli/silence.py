"""`sloctl silence create|list|expire`: Alertmanager silences of a service's or an SLO's alerts.

A silence matches the identity labels every alert of its subject carries
(``alert_rules.silence_matchers``): ``service="S"`` for a service (its default alerts and the
alerts of its SLOs), ``slo="NAME", sloth_service="S"`` for one SLO. Prometheus' generated rules
and sloctl's own notifier send those labels alike, so the silence holds whoever sends the alert.
``--alert NAME`` narrows it to one alertname (or, alone, silences every alert of that name).
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table

from sloctl.cli import fmt
from sloctl.cli.common import get_ctx
from sloctl.cli.completion import complete_slo_id
from sloctl.cli.freshness import age_text
from sloctl.cli.output import Format, ReadOutputOption, emit
from sloctl.cli.timespec import FORMS, TimeSpecError, parse_time
from sloctl.core import alert_rules
from sloctl.errors import SloctlError
from sloctl.spec.durations import DURATION_HELP, parse_duration

if TYPE_CHECKING:
    from sloctl.runtime.silences import Silence, SilenceClient

out = fmt.SafeConsole()
err = fmt.SafeConsole(stderr=True)

DEFAULT_DURATION = "2h"


class SilenceError(SloctlError):
    """A silence cannot be created as asked (the message says how to ask)."""


def _client(ctx: typer.Context) -> SilenceClient:
    from sloctl.runtime.silences import SilenceClient

    return SilenceClient(get_ctx(ctx.obj).settings.alertmanager)


def create_command(
    ctx: typer.Context,
    comment: Annotated[str, typer.Option(
        "--comment", "-m", help="Why (shown to everyone the silence hides alerts from).",
        show_default=False)],
    service: Annotated[str | None, typer.Option(
        "--service", help="Silence every alert of this service (its SLOs' too).",
        show_default=False)] = None,
    slo: Annotated[str | None, typer.Option(
        "--slo", help="Silence the alerts of this SLO (SERVICE/NAME).", show_default=False,
        autocompletion=complete_slo_id)] = None,
    alert: Annotated[str | None, typer.Option(
        "--alert", help="Only this alertname (alone: every alert of that name, e.g. "
        "SloctlEvaluationStale).", show_default=False)] = None,
    duration: Annotated[str | None, typer.Option(
        "--duration", "-d", help=f"How long from now (default {DEFAULT_DURATION}); "
        f"{DURATION_HELP}.", show_default=False)] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="Or until this instant: +2h, 2026-11-20T18:00 (settings timezone), "
        "...Z, unix seconds.", show_default=False)] = None,
    author: Annotated[str | None, typer.Option(
        "--author", help="Who silences (default $USER).", show_default=False)] = None,
    output: ReadOutputOption = Format.table,
) -> None:
    """Silence a service's or an SLO's alerts in Alertmanager (API v2), from now on.

    Examples:

      sloctl silence create --service payment --duration 2h -m "bank maintenance"

      sloctl silence create --slo order/availability --until +30m -m "deploying 4.2"

      sloctl silence create --alert SloctlEvaluationStale -d 1h -m "upgrading sloctl"
    """
    c = get_ctx(ctx.obj)
    labels = _matchers(service, slo, alert)
    who = author or os.environ.get("USER") or ""
    if not who.strip():
        raise SilenceError("no author: $USER is not set; pass --author NAME")
    if not comment.strip():
        raise SilenceError("--comment is empty; say why the alerts are silenced")
    start = c.now
    end = _end(duration, until, start, c.tz)
    with _client(ctx) as client:
        silence_id = client.create(labels, start, end, created_by=who, comment=comment)
    doc = {"id": silence_id, "matchers": labels, "starts_at": start, "ends_at": end,
           "created_by": who, "comment": comment}
    emit(output, doc=lambda: doc, rows=lambda: [_flat(doc)],
         line=lambda: f"silenced {_labels_text(labels)} until {fmt.when(end)}: {silence_id}",
         table=lambda: out.print(
             f"silenced {_labels_text(labels)} until {fmt.when(end)} "
             f"({age_text((end - start).total_seconds())}): {silence_id}\n"
             f"expire it early with: sloctl silence expire {silence_id}"))


def _matchers(service: str | None, slo: str | None, alert: str | None) -> dict[str, str]:
    if service is not None and slo is not None:
        raise SilenceError("give --service SERVICE or --slo SERVICE/NAME, not both")
    if service is None and slo is None and not alert:
        raise SilenceError("give --service SERVICE, --slo SERVICE/NAME or --alert ALERTNAME")
    labels = {"alertname": alert} if alert else {}
    if service is None and slo is None:
        return labels
    try:
        return {**alert_rules.silence_matchers(service=service, slo_id=slo), **labels}
    except ValueError as exc:
        raise SilenceError(f"--slo: {exc}; e.g. --slo payment/availability") from None


def _end(duration: str | None, until: str | None, start: datetime, tz: Any) -> datetime:
    if duration is not None and until is not None:
        raise SilenceError("give --duration or --until, not both")
    if until is not None:
        end = parse_time(until, now=start, tz=tz, option="--until")
        if end <= start:
            raise TimeSpecError(
                "--until", until, "is not in the future (a bare duration such as 2h means 2 "
                "hours ago); use --duration 2h or --until +2h", FORMS)
        return end
    text = duration or DEFAULT_DURATION
    try:
        return start + timedelta(seconds=parse_duration(text))
    except ValueError:
        raise TimeSpecError("--duration", text, "not a duration", DURATION_HELP) from None


def list_command(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Also expired silences.")] = False,
    service: Annotated[str | None, typer.Option(
        "--service", help="Only silences matching this service's alerts.",
        show_default=False)] = None,
    output: ReadOutputOption = Format.table,
) -> None:
    """Silences in Alertmanager: active and pending (with --all, expired too), ending soonest
    first."""
    with _client(ctx) as client:
        silences = client.list()
    shown = sorted(
        (s for s in silences if (all_ or s.state != "expired")
         and (service is None or s.labels().get("service", s.labels().get("sloth_service"))
              == service)),
        key=lambda s: (s.state == "expired", s.ends_at),
    )
    now = get_ctx(ctx.obj).now
    rows = [_silence_doc(s) for s in shown]
    emit(output, doc=lambda: rows, rows=lambda: [_flat(r) for r in rows],
         line=lambda: _line(shown, now), table=lambda: _table(shown, now))


def _silence_doc(s: Silence) -> dict[str, Any]:
    return {"id": s.id, "state": s.state, "matchers": [str(m) for m in s.matchers],
            "starts_at": s.starts_at, "ends_at": s.ends_at, "created_by": s.created_by,
            "comment": s.comment}


def _flat(doc: dict[str, Any]) -> dict[str, Any]:
    matchers = doc["matchers"]
    if isinstance(matchers, dict):
        matchers = [f'{k}="{v}"' for k, v in sorted(matchers.items())]
    return {**doc, "matchers": matchers}


def _labels_text(labels: dict[str, str]) -> str:
    return ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))


def _line(shown: list[Silence], now: datetime) -> str:
    active = [s for s in shown if s.state == "active"]
    if not active:
        return "no active silence"
    named = ", ".join(
        f"{_labels_text(s.labels()) or s.id} for {age_text((s.ends_at - now).total_seconds())}"
        for s in active[:3])
    return f"{len(active)} active silence{'s' if len(active) != 1 else ''}: {named}" + (
        ", ..." if len(active) > 3 else "")


def _table(shown: list[Silence], now: datetime) -> None:
    if not shown:
        out.print("No silence. Create one with: sloctl silence create --service S -m WHY")
        return
    t = Table(title="Silences", header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("id", "state", "matchers", "ends", "author", "comment"):
        t.add_column(col, no_wrap=col in ("id", "state", "ends"))
    for s in shown:
        left = (s.ends_at - now).total_seconds()
        ends = fmt.when(s.ends_at) + (f" (in {age_text(left)})" if left > 0 else "")
        style = {"active": "yellow", "pending": "cyan"}.get(s.state, "dim")
        t.add_row(s.id, f"[{style}]{s.state}[/]", ", ".join(str(m) for m in s.matchers), ends,
                  s.created_by, s.comment)
    out.print(t)


def expire_command(
    ctx: typer.Context,
    silence_id: Annotated[str, typer.Argument(
        metavar="ID", help="The silence's id, as `sloctl silence list` shows it.")],
) -> None:
    """Expire a silence now: its alerts notify again."""
    with _client(ctx) as client:
        client.expire(silence_id)
    out.print(f"expired {silence_id}")


def register(app: typer.Typer) -> None:
    """Add the ``silence`` group to ``app``."""
    group = typer.Typer(help="Silence a service's or an SLO's alerts in Alertmanager; list and "
                        "expire silences.", no_args_is_help=True)
    group.command("create")(create_command)
    group.command("list")(list_command)
    group.command("expire")(expire_command)
    app.add_typer(group, name="silence")
