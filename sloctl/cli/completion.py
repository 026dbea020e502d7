"""Shell completion of SLO ids, from the store's SLO catalog (``sloctl --install-completion``).

Typer completes commands and options itself; ``complete_slo_id`` is the ``autocompletion``
callback of every argument or option that takes an SLO id. It reads the settings named by the
command line's ``--config`` (or the usual places) and never fails: on any error it offers nothing.
"""

from __future__ import annotations

from pathlib import Path

import typer


def _config(ctx: typer.Context) -> Path | None:
    root = ctx.find_root()
    value = root.params.get("config")
    return Path(value) if value else None


def slo_ids(config: Path | None) -> list[str]:
    """Every SLO id the store has evaluated, sorted (empty when the store cannot be read)."""
    from sloctl.errors import SloctlError
    from sloctl.settings import load_settings
    from sloctl.store import StoreReader

    try:
        with StoreReader(load_settings(config).store_url) as reader:
            return reader.evaluations.slo_ids()
    except (SloctlError, OSError):
        return []


def complete_slo_id(ctx: typer.Context, incomplete: str) -> list[str]:
    """SLO ids starting with ``incomplete`` (shells complete by prefix)."""
    return [i for i in slo_ids(_config(ctx)) if i.startswith(incomplete)]
