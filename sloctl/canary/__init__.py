"""Canary judgement (``sloctl canary``, ``GET /api/v1/canary``): is the canary worse than the
baseline? The statistics are pure (``sloctl.core.canary``); this package picks the checks from
the specs, queries both sides in Prometheus, judges, and stores the judgement."""
