"""The store: evaluations, alerts, deployments, DORA scorecards and trace findings, in SQL.

``Store`` (read and write) and ``StoreReader`` (read only) are the facade; ``schema`` holds every
table; ``migrate`` and ``migrations/`` version the schema (``sloctl db upgrade``).
"""

from sloctl.store.migrate import SchemaOutdated
from sloctl.store.store import Store, StoreReader

__all__ = ["SchemaOutdated", "Store", "StoreReader"]
