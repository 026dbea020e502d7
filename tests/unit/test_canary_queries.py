"""The canary's PromQL (one side of one service) and the parsing of the sides."""

from __future__ import annotations

import pytest

from sloctl.canary.sides import CanaryRequestError, parse_matchers, resolve_sides
from sloctl.sources.promql import side_increase
from sloctl.spec.canary_layout import CanaryLayout
from sloctl.spec.models import Matcher, ServiceIdentity


def test_one_side_of_a_service_with_the_label_on_its_series() -> None:
    query = side_increase("http_requests_total", (Matcher("code", "=~", "5.."),), "job",
                          "order", (Matcher("version", "=", 'v"2'),), 1800)
    assert query == (
        'sum (increase(http_requests_total{job="order",code=~"5..",version="v\\"2"}[30m]))')


def test_one_side_through_target_info_carries_the_sides_labels_there() -> None:
    query = side_increase("http_server_request_duration_seconds_bucket", (),
                          ServiceIdentity("service_name", True), "order",
                          (Matcher("service_version", "=", "2.0"),), 900, by=("le",))
    assert query == (
        'sum by (le) (increase(http_server_request_duration_seconds_bucket{service_name="order",'
        'service_version="2.0"}[15m])) or sum by (le) (increase('
        'http_server_request_duration_seconds_bucket{service_name=""}[15m]) * on (job, instance) '
        'group_left () max by (job, instance) (last_over_time(target_info{service_name="order",'
        'service_version="2.0"}[15m])))')


def test_matchers_are_read_with_quotes_escapes_and_braces() -> None:
    assert parse_matchers('{track="canary", region=~"eu.*",v!="a\\"b"}', "canary") == (
        Matcher("track", "=", "canary"), Matcher("region", "=~", "eu.*"),
        Matcher("v", "!=", 'a"b'))
    assert parse_matchers("version=v2", "canary") == (Matcher("version", "=", "v2"),)
    with pytest.raises(CanaryRequestError, match="from character 1:"):
        parse_matchers('version="v2" nonsense', "canary")


@pytest.mark.parametrize(
    ("layout", "args", "canary", "baseline"),
    [
        (CanaryLayout(label="version"), ("v2", "v1", None, None),
         ("order", (Matcher("version", "=", "v2"),)), ("order", (Matcher("version", "=", "v1"),))),
        (CanaryLayout(label="track", canary="canary", baseline="stable"), (None, None, None, None),
         ("order", (Matcher("track", "=", "canary"),)),
         ("order", (Matcher("track", "=", "stable"),))),
        (CanaryLayout(canary_service="order-canary", baseline_service="order-primary"),
         (None, None, None, None), ("order-canary", ()), ("order-primary", ())),
        (None, (None, None, "podinfo", "podinfo-primary"), ("podinfo", ()),
         ("podinfo-primary", ())),
    ],
    ids=["version", "track", "canary-service", "options"],
)
def test_sides_from_options_and_layouts(
    layout: CanaryLayout | None, args: tuple[str | None, ...],
    canary: tuple[str, tuple[Matcher, ...]], baseline: tuple[str, tuple[Matcher, ...]],
) -> None:
    c, b = resolve_sides("order", *args, layout)
    assert ((c.service, c.matchers), (b.service, b.matchers)) == (canary, baseline)


def test_sides_that_would_share_series_or_a_bare_value_without_label_are_refused() -> None:
    with pytest.raises(CanaryRequestError, match="share series of order"):
        resolve_sides("order", 'version="v2"', None, None, None, None)
    with pytest.raises(CanaryRequestError, match="bare value"):
        resolve_sides("order", "v2", "v1", None, None, None)
