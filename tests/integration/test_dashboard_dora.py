"""The scorecard's DORA tiles (AppTest) from a store filled with the demo history's scorecards:
value, level with report year, trend, and house goal and sample size in the help."""

from __future__ import annotations

from sloctl.store import Store
from tests.integration.test_dashboard import fill, run_page, store_url  # noqa: F401 (fixture)
from tests.unit.test_dora_job import known_dora

FIRST_TILES = 4  # the SLO header tiles come first


def fill_dora(url: str) -> None:
    fill(url)
    with Store(url) as store:
        cards = known_dora()
        store.scorecards.save([c.card for c in cards], cards[0].computed_at)


def test_organisation_tiles_hold_the_known_values(store_url: str) -> None:  # noqa: F811
    fill_dora(store_url)
    page = run_page()
    assert page.selectbox(key="dora_scope").value == "organisation"
    assert page.selectbox(key="dora_scope").options == [
        "organisation",
        *[f"{s}/production" for s in ("inventory", "notification", "order", "payment", "user")],
    ]
    tiles = [(m.label, m.value, m.delta) for m in page.metric[FIRST_TILES:]]
    assert tiles == [
        # 264 deployments in 30 days; none in the 30 days before: better than 0/day
        ("Deployment frequency", "8.80/day", "elite (2023) · better"),
        ("Lead time for changes", "1.6 h", "elite (2023) · no trend"),  # 5820 s median
        ("Change failure rate", "0.8 %", "elite (2023) · no trend"),  # 2 of 263
        ("Failed deployment recovery", "58 min", "elite (2023) · no trend"),  # 40 and 75 min
        ("Time to restore", "30 min", "no level (2023) · no trend"),
        ("Rework rate (beta)", "0.8 %", "no level (2023) · no trend"),  # 2 of 264
    ]
    helps = [m.help for m in page.metric[FIRST_TILES:]]
    assert helps[:4] == [
        "House goal >= 3 deployments/day/service: missed. n = 264. Previous period: 0.00/day.",
        "House goal < 1 h: missed. n = 522, p90 2.7 h. Previous period: unknown.",
        "House goal < 3 %: met. n = 263 (2 of 263). Previous period: unknown.",
        "House goal < 15 min: missed. n = 2, p90 1.2 h. Previous period: unknown.",
    ]
    assert helps[4].endswith(
        "No level: the 2023 report replaced time to restore with failed deployment recovery "
        "time; use report year 2021 to grade it."
    )


def test_picking_a_service_shows_its_tiles(store_url: str) -> None:  # noqa: F811
    fill_dora(store_url)
    page = run_page()
    page.selectbox(key="dora_scope").set_value("order/production").run()
    assert not page.exception
    tiles = [(m.label, m.value, m.delta) for m in page.metric[FIRST_TILES:]]
    assert tiles[0] == ("Deployment frequency", "2.93/day", "elite (2023) · better")  # 88/30
    assert tiles[2] == ("Change failure rate", "1.1 %", "elite (2023) · no trend")  # 1 of 87
    assert tiles[3] == ("Failed deployment recovery", "40 min", "elite (2023) · no trend")


def test_without_dora_scorecards_the_page_says_how_to_get_them(store_url: str) -> None:  # noqa: F811
    fill(store_url)
    page = run_page()
    assert len(page.metric) == FIRST_TILES
    assert any("No DORA scorecard stored yet" in c.value for c in page.caption)
