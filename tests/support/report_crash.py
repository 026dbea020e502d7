"""``sloctl ARGS`` in this process, killed with SIGKILL at one point of sending the report.

    python tests/support/report_crash.py PHASE sloctl-args...

PHASE: ``claimed`` (the send record written, nothing sent), ``connected`` (the record taken,
connected to the server), ``data-sent`` (the message's data sent without its final ``.``),
``committing`` (``committing`` recorded, the ``.`` not sent), ``accepted`` (the server answered
250, ``sent`` not recorded). A real process dies there: no clean-up, no finally block.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def kill() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    phase, args = sys.argv[1], sys.argv[2:]
    import sloctl.cli.report as cli
    from sloctl.report.smtp import SmtpTransport
    from sloctl.store.reports import Reports

    if phase == "claimed":
        original = Reports.claim

        def claim(self: Reports, *a: Any, **k: Any) -> Any:
            original(self, *a, **k)
            kill()

        Reports.claim = claim  # type: ignore[method-assign]
    else:
        class Crashing(SmtpTransport):
            def __init__(self, settings: Any) -> None:
                super().__init__(settings, hook=lambda p: kill() if p == phase else None)

        cli.SmtpTransport = Crashing  # type: ignore[misc]
    from sloctl.cli.main import main as sloctl

    sys.argv = ["sloctl", *args]
    sloctl()


if __name__ == "__main__":
    main()
