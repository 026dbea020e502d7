"""The email's HTML in headless Chromium at 600 and 375 px: no horizontal scroll, legible text,
an explicit background on every table cell (dark-mode clients keep text and background
together), every image sized and described; and what mail clients drop is not used at all."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sloctl.report.build import build_scorecard
from sloctl.report.render import Rendered, render
from sloctl.report.sample import sample_inputs
from sloctl.report.scorecard import ORGANISATION
from tests.support.chromium import Chromium

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    card = build_scorecard(sample_inputs(30, BERLIN), ORGANISATION, BERLIN)
    return render(card, "http://127.0.0.1:8501", 0.25)


def test_the_html_has_nothing_mail_clients_drop(rendered: Rendered) -> None:
    html = rendered.html.lower()
    for dropped in ("<script", "<style", "<link", "class=", "display:flex", "display:grid",
                    "@media", 'src="http'):
        assert dropped not in html
    images = re.findall(r"<img [^>]+>", rendered.html)
    assert len(images) == len(rendered.images) == 6
    for img in images:
        assert re.search(r'src="cid:[^"]+"', img) and re.search(r'alt="[^"]{10,}"', img)
        assert re.search(r'width="\d+"', img) and re.search(r'height="\d+"', img)


@pytest.mark.parametrize("width", [600, 375])
def test_no_horizontal_scroll_and_legible_text(rendered: Rendered, tmp_path: Path,
                                               width: int) -> None:
    html = rendered.html
    for cid, png in rendered.images.items():  # what a mail client shows for cid: images
        html = html.replace(f"cid:{cid}", "data:image/png;base64," + base64.b64encode(png)
                            .decode())
    page_file = tmp_path / "email.html"
    page_file.write_text(html, encoding="utf-8")
    with Chromium() as browser, browser.page() as page:
        page.set_viewport(width, 800)
        page.navigate(page_file.as_uri())
        page.wait_for("document.readyState === 'complete' && "
                      "[...document.images].every(i => i.complete && i.naturalWidth > 0)", 30)
        assert page.evaluate("document.documentElement.scrollWidth") == width
        assert page.evaluate("document.body.scrollWidth") <= width
        smallest = page.evaluate(
            "Math.min(...[...document.querySelectorAll('body *')]"
            ".filter(e => e.textContent.trim() && e.children.length === 0)"
            ".map(e => parseFloat(getComputedStyle(e).fontSize)))")
        assert smallest >= 11
        bare = page.evaluate(
            "[...document.querySelectorAll('td')]"
            ".filter(td => getComputedStyle(td).backgroundColor === 'rgba(0, 0, 0, 0)').length")
        assert bare == 0
        wider = page.evaluate(
            f"[...document.images].filter(i => i.getBoundingClientRect().right > {width})"
            ".length")
        assert wider == 0
        png = page.screenshot()
    assert png.startswith(b"\x89PNG") and len(png) > 10_000
