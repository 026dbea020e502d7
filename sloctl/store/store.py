"""The store: one facade over one schema, for writers (``Store``) and readers (``StoreReader``).

    with Store(url) as store:                    # a writer: eval, serve, deploy record, ...
        store.evaluations.save(ev)
        store.alerts.record(notification, received_at=now)
        store.deployments.record(event, "cli", now)
        store.scorecards.save(cards, computed_at=now)
        store.traces.save(findings, checked_at=now)
        store.reports.save_inputs(...)          # the weekly report (sloctl.report)
        store.canary.save(record)               # canary judgements (sloctl canary)
        store.retention.prune(now, policy)       # roll up, then delete old evaluations

    with StoreReader(url) as reader:             # dashboard, status, /metrics: never writes
        reader.evaluations.latest()

Opening checks the schema revision and never changes it, with one exception: a writer on a
brand-new SQLite database (a new file, or one without any table) creates the schema itself
(``sloctl eval`` works out of the box). Anything else that is not at this sloctl's revision
raises ``SchemaOutdated`` naming ``sloctl db upgrade``; ``Store(url, upgrade=True)`` upgrades
(``sloctl serve --upgrade-db``). A reader never issues DDL and runs no writing transaction:
SQLite files are opened ``mode=ro``, PostgreSQL transactions are ``READ ONLY``.

SQLite by default (WAL), PostgreSQL (``postgresql+psycopg://``) for larger installs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Self

from sqlalchemy import Engine

from sloctl.core.alerts import AlertStatus
from sloctl.core.evaluation import Evaluation
from sloctl.store import migrate
from sloctl.store.alerts import AlertReads, Alerts
from sloctl.store.canary import CanaryJudgements, CanaryReads
from sloctl.store.database import Database, parse_url
from sloctl.store.deployments import DeploymentReads, Deployments
from sloctl.store.evaluations import EvaluationReads, Evaluations
from sloctl.store.maintenance import MaintenanceReads, MaintenanceWindows
from sloctl.store.reports import ReportReads, Reports
from sloctl.store.retention import Retention, RetentionReads
from sloctl.store.scorecards import ScorecardReads, Scorecards
from sloctl.store.traces import TraceReads, Traces

log = logging.getLogger(__name__)


class StoreReader:
    """Read-only access to every part of the store (see the module docstring)."""

    evaluations: EvaluationReads
    alerts: AlertReads
    deployments: DeploymentReads
    scorecards: ScorecardReads
    traces: TraceReads
    reports: ReportReads
    canary: CanaryReads
    retention: RetentionReads
    maintenance: MaintenanceReads

    def __init__(self, url: str, *, _db: Database | None = None) -> None:
        self.url = url
        self._db = _db if _db is not None else Database(url, read_only=True)
        if _db is None:
            try:
                migrate.check_schema(self._db)
            except BaseException:
                self._db.close()
                raise
        self._parts(self._db)

    def _parts(self, db: Database) -> None:
        self.evaluations = EvaluationReads(db)
        self.alerts = AlertReads(db)
        self.deployments = DeploymentReads(db)
        self.scorecards = ScorecardReads(db)
        self.traces = TraceReads(db)
        self.reports = ReportReads(db)
        self.canary = CanaryReads(db)
        self.retention = RetentionReads(db)
        self.maintenance = MaintenanceReads(db)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine (health checks, tests)."""
        return self._db.engine

    def close(self) -> None:
        """Close every pooled connection (a view from ``Store.reader()`` leaves them open)."""
        self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class Store(StoreReader):
    """Reading and writing every part of the store (see the module docstring).

    It is also the evaluator's port (``evaluation.cycle.AlertStateStore``): ``alert_states``,
    ``alert_states_before`` and ``save_evaluation``.
    """

    evaluations: Evaluations
    alerts: Alerts
    deployments: Deployments
    scorecards: Scorecards
    traces: Traces
    reports: Reports
    canary: CanaryJudgements
    retention: Retention
    maintenance: MaintenanceWindows

    def __init__(self, url: str, *, upgrade: bool = False) -> None:
        self.url = url
        self._db = Database(url)
        try:
            self._open_schema(upgrade)
        except BaseException:
            self._db.close()
            raise
        self._parts(self._db)

    def _open_schema(self, upgrade: bool) -> None:
        state = migrate.schema_state(self._db)
        fresh_sqlite = state.empty and parse_url(self.url).get_backend_name() == "sqlite"
        if upgrade or fresh_sqlite:
            if not state.up_to_date:
                before, after = migrate.upgrade(self._db)
                log.info("store schema upgraded from revision %s to %s", before or "none", after)
            return
        migrate.check_schema(self._db)

    def _parts(self, db: Database) -> None:
        self.evaluations = Evaluations(db)
        self.alerts = Alerts(db)
        self.deployments = Deployments(db)
        self.scorecards = Scorecards(db)
        self.traces = Traces(db)
        self.reports = Reports(db)
        self.canary = CanaryJudgements(db)
        self.retention = Retention(db)
        self.maintenance = MaintenanceWindows(db)

    def reader(self) -> StoreReader:
        """A read-only view sharing this store's connections (``/metrics``); closing it is a
        no-op, closing the store closes both."""
        return StoreReader(self.url, _db=self._db.reader())

    # -- the evaluator's port -------------------------------------------------------------------

    def alert_states(self) -> dict[str, AlertStatus]:
        return self.alerts.states()

    def alert_states_before(self, at: datetime) -> dict[str, AlertStatus]:
        return self.alerts.states_before(at)

    def save_evaluation(self, ev: Evaluation) -> int:
        return self.evaluations.save(ev)
