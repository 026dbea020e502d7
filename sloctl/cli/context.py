"""Shared set-up of CLI commands: settings, specs, store, backend, engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sloctl.evaluation.cycle import Evaluator
from sloctl.settings import Settings, load_settings
from sloctl.sources.prometheus import PrometheusSource
from sloctl.spec.loader import load_specs
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

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config)
        return self._settings

    @property
    def store(self) -> Store:
        """The store, for commands that write (a new SQLite store gets its schema)."""
        if self._store is None:
            self._store = Store(self.settings.store_url)
        return self._store

    @property
    def reader(self) -> StoreReader:
        """The store, read-only: for commands that only read (no DDL, no write)."""
        if self._store is not None:
            return self._store.reader()
        if self._reader is None:
            self._reader = StoreReader(self.settings.store_url)
        return self._reader

    def specs(self) -> list[SLOSpec]:
        """Specs from --spec paths, else from the settings' ``specs``."""
        paths = self.spec_paths or list(self.settings.specs)
        return load_specs(paths) if paths else []

    def evaluator(self) -> tuple[Evaluator, PrometheusSource]:
        source = PrometheusSource(self.settings.prometheus)
        return Evaluator(self.settings, self.specs(), source, self.store), source

    def close(self) -> None:
        for opened in (self._store, self._reader):
            if opened is not None:
                opened.close()
