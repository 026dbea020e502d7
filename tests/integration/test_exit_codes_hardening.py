"""Honest exit codes: a Prometheus that answers but fails (500, not JSON, a wrong shape) makes
every value unknown, and `eval` and `status` exit 3 with or without --fail-on (they exited 0)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.support.sloctl_process import run_sloctl, sloctl_env

ANSWERS = {
    "500": (500, b"upstream connect error"),
    "html": (200, b"<html>login</html>"),
    "shape": (200, b'{"status":"success","data":{}}'),
}


@pytest.fixture(scope="module")
def failing() -> Iterator[str]:
    class Failing(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = ANSWERS[self.path.split("/")[1]]
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", list(ANSWERS))
def test_eval_and_status_exit_3_when_queries_fail(
    failing: str, mode: str, tmp_path: Path
) -> None:
    env = sloctl_env(tmp_path, prometheus_url=f"{failing}/{mode}")
    for args in (["eval", "-q"], ["eval", "-q", "--fail-on", "any"], ["status"],
                 ["status", "--fail-on", "any"]):
        ran = run_sloctl(args, env, tmp_path)
        assert ran.returncode == 3, (args, ran.stdout[-500:], ran.stderr[-500:])
