"""Grafana dashboards of sloctl, generated into grafana/dashboards.

Regenerate with ``python -m sloctl.grafana``; check with ``python -m sloctl.grafana --check``.
"""
