"""Revisions, oldest first: v0001 (the schema before migrations), v0002 (timezone-aware)."""
