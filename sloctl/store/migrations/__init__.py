"""Alembic migrations of the store's schema (applied with ``sloctl db upgrade``; see migrate.py).

A new schema change: copy ``versions/v0002_timestamps_with_time_zone.py`` as the next revision
(``down_revision`` = the current head), write ``upgrade``/``downgrade`` for SQLite and
PostgreSQL, change ``sloctl/store/schema.py`` to match, and add a test that upgrades a store
holding data (tests/integration/test_store_migrations.py).
"""
