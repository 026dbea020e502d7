"""Pure SLO math: plain values in, ``sloctl.core`` out. No I/O, clock, env or randomness."""

from sloctl.core.alerts import breaches, next_state
from sloctl.core.burn import budget_consumed, burn_rate, decide, error_budget, exhaustion_time
from sloctl.core.histogram import good_below, quantile
from sloctl.core.signals import golden_signals
from sloctl.core.slo import evaluate_slo, window_result

__all__ = [
    "breaches",
    "budget_consumed",
    "burn_rate",
    "decide",
    "error_budget",
    "evaluate_slo",
    "exhaustion_time",
    "golden_signals",
    "good_below",
    "next_state",
    "quantile",
    "window_result",
]
