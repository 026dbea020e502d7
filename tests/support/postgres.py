"""The throwaway PostgreSQL cluster of the tests: ``sloctl.demo.postgres_server`` (also the demo's).

    with postgres_cluster() as pg:
        url = pg.create_database("case1")
"""

from sloctl.demo.postgres_server import (
    PG_BIN,
    PostgresCluster,
    postgres_cluster,
    skip_reason,
)

__all__ = ["PG_BIN", "PostgresCluster", "postgres_cluster", "skip_reason"]
