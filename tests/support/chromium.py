"""Headless Chromium driven over the DevTools protocol (CDP), for screenshots of live pages.

``chromium --headless --screenshot`` captures pages that fill themselves over a websocket
(Streamlit) too early. Here we navigate, wait until a JavaScript condition holds, then capture::

    with Chromium() as browser, browser.page() as page:
        page.navigate("http://127.0.0.1:8501")
        page.wait_for("document.querySelector('[data-testid=\"stMetric\"]') !== null", 60)
        png = page.screenshot()
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Self

from websockets.sync.client import ClientConnection, connect

from tests.support.processes import free_port, http_get, stop_group, wait_until

CHROMIUM = "/usr/bin/chromium"
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


class CDPError(RuntimeError):
    """Chromium answered a DevTools command with an error."""


class Page:
    """One browser tab, talked to over its DevTools websocket (see ``Chromium.page``)."""

    def __init__(self, ws: ClientConnection) -> None:
        self._ws = ws
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        """Send one command and return its result (events received meanwhile are skipped)."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") != call_id:
                continue
            if "error" in message:
                raise CDPError(f"{method}: {message['error']}")
            result: dict[str, Any] = message["result"]
            return result

    def set_viewport(self, width: int, height: int) -> None:
        self.call(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def navigate(self, url: str) -> None:
        result = self.call("Page.navigate", url=url)
        if result.get("errorText"):
            raise CDPError(f"navigating to {url}: {result['errorText']}")

    def evaluate(self, expression: str) -> Any:
        """The JSON value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise CDPError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float, interval: float = 0.25) -> Any:
        """Poll until ``expression`` is truthy; returns its value."""
        return wait_until(
            lambda: self.evaluate(expression) or None,
            timeout,
            f"page condition {expression!r}",
            interval=interval,
        )

    def screenshot(self) -> bytes:
        """A PNG of the viewport."""
        return base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])


class Chromium:
    """A headless Chromium with a DevTools port on 127.0.0.1 and a throw-away profile."""

    def __init__(self, binary: str = CHROMIUM) -> None:
        self.binary = binary
        self.port = free_port()
        self._profile: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Self:
        self._profile = tempfile.mkdtemp(prefix="sloctl-chromium-")
        self._proc = subprocess.Popen(
            [
                self.binary,
                *FLAGS,
                f"--remote-debugging-port={self.port}",
                "--remote-debugging-address=127.0.0.1",
                f"--user-data-dir={self._profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own process group: stop() ends every child
        )
        try:
            wait_until(
                lambda: http_get(f"http://127.0.0.1:{self.port}/json/version"),
                30,
                "chromium DevTools endpoint",
                self._proc,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _value: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    @contextmanager
    def page(self) -> Iterator[Page]:
        """The first open tab, connected for the duration of the ``with`` block."""
        body = http_get(f"http://127.0.0.1:{self.port}/json/list")
        targets = json.loads(body or b"[]")
        ws_url = next(t["webSocketDebuggerUrl"] for t in targets if t.get("type") == "page")
        with connect(ws_url, max_size=64 * 1024 * 1024) as ws:
            yield Page(ws)

    def stop(self) -> None:
        if self._proc is not None:
            stop_group(self._proc)
            self._proc = None
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None
