"""DORA scorecards from the stored deployments: computed for ``sloctl dora`` and the scheduler.

``scorecards`` is the computation both share (deployments, manual links and incidents -> one
scorecard per service/environment, team and the organisation, with trend). ``DoraJob`` runs it
from ``sloctl serve`` at most every ``every`` and stores the result (``store.scorecards``), so
/metrics, Grafana and the Streamlit scorecard read it without computing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from sloctl.dora.compute import Scorecard, rollups, scorecard_with_trend
from sloctl.dora.history import build_histories
from sloctl.dora.model import CanaryJudgement, DoraConfig, DoraIncident
from sloctl.errors import SloctlError
from sloctl.settings import Settings
from sloctl.store import Store, scorecard_codec
from sloctl.store.deployments import DeploymentReads

log = logging.getLogger(__name__)

WINDOW = timedelta(days=30)  # the stored scorecards' window (trend: the 30 days before)
EVERY = timedelta(minutes=5)  # the scheduler recomputes at most this often

IncidentSource = Callable[[], Sequence[DoraIncident]]


class DoraScopeError(SloctlError):
    """An unknown team or a service without production deployments or incidents."""


def no_incidents() -> Sequence[DoraIncident]:
    return ()


def scorecards(
    store: DeploymentReads,
    incidents: Sequence[DoraIncident],
    config: DoraConfig,
    teams: Mapping[str, Sequence[str]],
    since: datetime,
    until: datetime,
    tz: tzinfo,
    *,
    service: str | None = None,
    team: str | None = None,
    judgements: Sequence[CanaryJudgement] = (),
) -> list[Scorecard]:
    """Scorecards of the deployments finished in [since, until): per service/environment, per
    team and for the organisation; only ``service`` or only ``team`` when given. A failed
    canary judgement (``judgements``) followed by a rollback fails the judged deployment."""
    histories = build_histories(
        store.history(until), incidents, config, store.links(), judgements
    )
    groups = {name: list(members) for name, members in teams.items()}
    if team is not None:
        if team not in groups:
            known = ", ".join(sorted(groups)) or "none (set dora.teams in sloctl.yaml)"
            raise DoraScopeError(f"unknown team {team!r}. Known teams: {known}")
        groups = {team: groups[team]}
        histories = {k: h for k, h in histories.items() if h.service in groups[team]}
    if service is not None:
        histories = {k: h for k, h in histories.items() if h.service == service}
        if not histories:
            raise DoraScopeError(
                f"no production deployments or incidents for {service!r}. Record some with "
                "`sloctl deploy record` or POST /api/v1/deployments."
            )
        groups = {}
    if len(histories) == 1 and not groups:
        ((scope, history),) = histories.items()
        return [scorecard_with_trend([history], since, until, tz, config, "/".join(scope))]
    return rollups(histories, groups, since, until, tz, config)


def card_json(card: Scorecard) -> dict[str, Any]:
    """The scorecard as JSON-ready values (``sloctl dora --output json``): the document the
    store keeps, ``sloctl.store.scorecard_codec``."""
    return scorecard_codec.encode(card)


def compute_and_store(
    store: Store,
    settings: Settings,
    now: datetime,
    incidents: Sequence[DoraIncident] = (),
    window: timedelta = WINDOW,
) -> list[Scorecard]:
    """Every scope's scorecard over [now - window, now), saved with ``computed_at = now``."""
    dora = settings.dora
    cards = scorecards(
        store.deployments,
        incidents,
        dora.config(),
        dora.teams,
        now - window,
        now,
        settings.tzinfo,
        judgements=store.canary.verdicts(now),
    )
    store.scorecards.save(cards, computed_at=now)
    return cards


@dataclass
class DoraJob:
    """The scheduler's DORA step: ``maybe_run`` recomputes when ``every`` has passed."""

    store: Store
    settings: Settings
    incidents: IncidentSource = no_incidents
    every: timedelta = EVERY
    window: timedelta = WINDOW
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    last_run: datetime | None = None

    def maybe_run(self) -> list[Scorecard] | None:
        """Compute and store unless the last run is younger than ``every``; never raises a
        SloctlError (a store problem is logged and retried next time)."""
        now = self.clock()
        if self.last_run is not None and now - self.last_run < self.every:
            return None
        try:
            cards = compute_and_store(
                self.store, self.settings, now, self.incidents(), self.window
            )
        except SloctlError as err:
            log.warning("DORA scorecards not computed: %s", err)
            return None
        self.last_run = now
        log.info("DORA scorecards stored for %d scope(s)", len(cards))
        return cards


__all__ = [
    "EVERY",
    "WINDOW",
    "DoraJob",
    "DoraScopeError",
    "card_json",
    "compute_and_store",
    "scorecards",
]
