"""sloctl: SLO and DORA analytics service."""

__version__ = "0.1.0"
