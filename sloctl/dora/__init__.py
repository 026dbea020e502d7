"""DORA's four keys and rework rate, gathered in one place.

Pure (held to the same rules as ``sloctl.core``): ``model`` (deployments, incidents, settings),
``compute`` (the recommended definitions, scorecards), ``history`` (attribution of incidents to
deployments), ``levels`` (performance levels by report year).
Runtime: ``deploy_events`` (HTTP bodies), ``deploy_sources`` (Loki and Prometheus imports),
``incidents`` (Alertmanager incidents as DORA failures), ``job`` (the scheduler step),
``gauges`` (the scorecards on /metrics). The store keeps deployments and scorecards.
"""
