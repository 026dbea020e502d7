"""One period's report end to end: inputs, scorecards stored per scope, one email per recipient
list. Shared by ``sloctl report weekly`` and the schedule of ``sloctl serve``.

    cards = publish(store, inputs, settings, now)           # every scope, stored
    for out in outgoing(cards, settings): ...               # (scope, recipients) to mail
    records = send_all(store, settings, cards, transport, clock)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from sloctl.report import codec
from sloctl.report.build import build_all
from sloctl.report.deliver import Clock, RetryPolicy, deliver_once
from sloctl.report.inputs import ReportInputs
from sloctl.report.message import build_message, message_id, normalise, send_key
from sloctl.report.render import render
from sloctl.report.scorecard import ORGANISATION, PeriodScorecard, Scope, ScopeKind
from sloctl.report.smtp import SmtpTransport
from sloctl.settings import Settings
from sloctl.store import Store
from sloctl.store.reports import SendClaim, SendRecord

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outgoing:
    """One email to send: a scope's scorecard to a recipient list."""

    card: PeriodScorecard
    recipients: tuple[str, ...]


def publish(store: Store, inputs: ReportInputs, settings: Settings,
            now: datetime) -> dict[str, PeriodScorecard]:
    """Every scope's scorecard of ``inputs``, built and stored (replacing earlier builds)."""
    cards = build_all(inputs, settings.tzinfo)
    for key, card in cards.items():
        store.reports.save_scorecard(inputs.period.key, key, now, codec.encode(card))
    return cards


def outgoing(cards: dict[str, PeriodScorecard], settings: Settings,
             to: Sequence[str] = (), team: str | None = None) -> list[Outgoing]:
    """The emails of a period: the organisation's to ``report.organisation`` and each team's
    to ``report.teams``; ``to`` replaces the recipients (one email, of ``team`` or the
    organisation). A team without SLOs has no scorecard: its email is left out, logged."""
    if to:
        scope = Scope(ScopeKind.TEAM, team) if team else ORGANISATION
        card = cards.get(scope.key)
        return [Outgoing(card, normalise(to))] if card is not None else []
    result = []
    r = settings.report
    if r.organisation and team is None:
        result.append(Outgoing(cards[ORGANISATION.key], normalise(r.organisation)))
    for name, recipients in sorted(r.teams.items()):
        if (team is not None and name != team) or not recipients:
            continue
        card = cards.get(Scope(ScopeKind.TEAM, name).key)
        if card is None:
            log.warning("team %s has no SLOs (no spec carries team: %s): its report email is "
                        "not sent", name, name)
            continue
        result.append(Outgoing(card, normalise(recipients)))
    return result


def claim_of(out: Outgoing, settings: Settings) -> SendClaim:
    period, scope = out.card.period.key, out.card.scope.key
    key = send_key(period, scope, out.recipients)
    return SendClaim(key, period, scope, out.recipients,
                     message_id(key, period, scope, settings.report.smtp.from_address))


def app_url(settings: Settings) -> str:
    return settings.report.app_url or settings.dashboard_url


def compose(out: Outgoing, settings: Settings, record: SendRecord) -> EmailMessage:
    """The message of one email (its Date: the record's creation)."""
    rendered = render(out.card, app_url(settings), settings.report.warning_budget_left)
    return build_message(rendered, sender=settings.report.smtp.from_address,
                         recipients=out.recipients, msg_id=record.message_id,
                         date=record.created_at, period=record.period, scope=record.scope)


def retry_policy(settings: Settings) -> RetryPolicy:
    r = settings.report
    return RetryPolicy(timedelta(seconds=r.retry_initial_seconds),
                       timedelta(seconds=r.retry_max_seconds))


def send_all(store: Store, settings: Settings, emails: Sequence[Outgoing],
             transport: SmtpTransport, clock: Clock, *,
             wait_for_lease: bool = False) -> list[SendRecord]:
    """One attempt at each email that may be sent now; the records afterwards."""
    lease = timedelta(seconds=settings.report.lease_seconds)
    records = []
    for out in emails:
        records.append(deliver_once(
            store, claim_of(out, settings), _composer(out, settings), transport, clock, lease,
            retry_policy(settings), wait_for_lease=wait_for_lease,
        ))
    return records


def _composer(out: Outgoing, settings: Settings) -> Callable[[SendRecord], EmailMessage]:
    return lambda record: compose(out, settings, record)
