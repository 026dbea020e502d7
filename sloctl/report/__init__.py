"""The weekly scorecard: a period's figures for the organisation, each team and each service,
built by a pure function from stored inputs, rendered as an email and sent exactly once.

Layers (tests/unit/test_architecture.py): the model and the build are pure (``period``,
``inputs``, ``scorecard``, ``build``, ``charts``, ``fmt``); ``codec`` and ``read`` read the store
(the app may import them); the rest (``measure``, ``render``, ``chart_png``, ``message``,
``smtp``, ``deliver``, ``weekly``, ``schedule``) measures, draws and sends like the runtime.

For the app (read only, through a ``StoreReader``)::

    from sloctl.report.read import periods, scopes, load_scorecard, rebuild_scorecard, send_records
    from sloctl.report.scorecard import ORGANISATION, Scope, ScopeKind, Status
    from sloctl.report import fmt                      # the email's number formats
    from sloctl.report.charts import email_charts      # email_charts(card, 0.25): chart
                                                       # definitions, to draw with plotly

    for key, start, end, measured_at in periods(reader):          # newest first
        card = load_scorecard(reader, key, ORGANISATION)          # PeriodScorecard | None
        team = load_scorecard(reader, key, "team/payments")       # scope keys: organisation,
                                                                  # team/NAME, service/NAME
    send_records(reader, key)                                     # emails: state, attempts, error

``PeriodScorecard`` (``scorecard.py``) is what the email shows, digit for digit:

- ``headline`` and ``within_goals``; ``kpis``: availability, slos_met, deploys, lead_time,
  change_failure_rate, restore, each ``Kpi(value, unit, goal, goal_met, change, trend, n, detail)``
  with a 12-period ``trend`` (``trend_keys`` names the periods);
- ``slos``: ``SloLine`` per SLO, worst first (status OK/WARNING/BREACHED/INSUFFICIENT_DATA and its
  ``reason``, attainment, objective, budget spent and left, burn rate, events, traffic share,
  weighted impact, changes against the previous period, its trend);
- ``combined`` (Grafana's events-weighted SLI and budget); ``teams`` (organisation only);
- ``services``: golden signals against the previous period with the alert-rule goals;
- ``dora``: the four keys, recovery time and rework rate for the period and the trailing weeks,
  with sample sizes, level and report year, goals; ``incidents``; ``failed_deployments``;
- ``changes`` ("what changed"), ``notes`` (left-out teams, services without a team, problems).

Ratios are 0..1, durations seconds, traffic req/s; ``None`` is unknown, never 0 or 100 %.
``fmt.value(unit, v)`` and ``fmt.delta(unit, change)`` write them as the email does.

Links from the email into the app (the app reads them from ``st.query_params``):
``<app>/?period=2026-W49[&team=T|&service=S]`` (overview), ``<app>/slos?period=..&slo=svc/name``,
``<app>/services?period=..&service=S``, ``<app>/dora?period=..``, ``<app>/incidents?period=..``,
``<app>/reports?period=..&scope=organisation|team/T|service/S``; ``<app>`` is
``report.app_url``, else ``dashboard_url``.

Writing (``sloctl serve`` and ``sloctl report weekly``): ``measure.inputs_for`` measures a period
once and stores its inputs; ``weekly.publish`` builds and stores every scope's scorecard;
``weekly.send_all`` sends with the exactly-once protocol of ``deliver``.
"""
