"""Shared set-up of CLI commands: settings, specs, store, backend, engine.

Everything is imported when first used, so that a command pays only for what it touches
(``sloctl --help`` loads neither pydantic nor SQLAlchemy; ``status`` no Prometheus client).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sloctl.cli.freshness import Freshness
    from sloctl.evaluation.cycle import Evaluator
    from sloctl.settings import Settings
    from sloctl.sources.prometheus import PrometheusSource
    from sloctl.spec.models import SLOSpec
    from sloctl.store import Store, StoreReader


@dataclass
class Context:
    """Lazily built objects shared by one CLI invocation."""

    config: Path | None = None
    _settings: Settings | None = None
    _store: Store | None = None
    _reader: StoreReader | None = None
    spec_paths: list[Path] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from sloctl.settings import load_settings

            self._settings = load_settings(self.config)
        return self._settings

    @property
    def tz(self) -> tzinfo:
        """The zone of times given without an offset (settings ``timezone``, default UTC)."""
        return self.settings.tzinfo

    @property
    def store(self) -> Store:
        """The store, for commands that write (a new SQLite store gets its schema)."""
        if self._store is None:
            from sloctl.store import Store

            self._store = Store(self.settings.store_url)
        return self._store

    @property
    def reader(self) -> StoreReader:
        """The store, read-only: for commands that only read (no DDL, no write)."""
        if self._store is not None:
            return self._store.reader()
        if self._reader is None:
            from sloctl.store import StoreReader

            self._reader = StoreReader(self.settings.store_url)
        return self._reader

    def specs(self) -> list[SLOSpec]:
        """Specs from --spec paths, else from the settings' ``specs``."""
        from sloctl.spec.loader import load_specs

        paths = self.spec_paths or list(self.settings.specs)
        return load_specs(paths) if paths else []

    def evaluator(self) -> tuple[Evaluator, PrometheusSource]:
        from sloctl.evaluation.cycle import Evaluator
        from sloctl.sources.prometheus import PrometheusSource

        source = PrometheusSource(self.settings.prometheus)
        return Evaluator(self.settings, self.specs(), source, self.store), source

    def freshness(
        self, evaluated_at: datetime, max_age: str | None, reference: datetime | None = None
    ) -> Freshness:
        """Age of an evaluation at ``reference`` (default now) against ``--max-age`` (default
        3 evaluation intervals)."""
        from sloctl.cli.freshness import STALE_INTERVALS, Freshness
        from sloctl.cli.timespec import parse_max_age

        default = STALE_INTERVALS * self.settings.interval_seconds
        limit = parse_max_age(max_age, default)
        return Freshness(evaluated_at, reference or self.now, limit)

    def close(self) -> None:
        for opened in (self._store, self._reader):
            if opened is not None:
                opened.close()
