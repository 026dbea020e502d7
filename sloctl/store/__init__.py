"""SQLAlchemy store of evaluations, alert states and their history."""

from sloctl.store.store import Store

__all__ = ["Store"]
