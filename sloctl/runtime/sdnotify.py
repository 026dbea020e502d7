"""systemd's readiness protocol for ``Type=notify`` units: datagrams to ``$NOTIFY_SOCKET``.

    notify("READY=1")      # after the daemon started (HTTP listening, first poll done)
    notify("STOPPING=1")   # when a stop begins

Without ``NOTIFY_SOCKET`` (not under systemd) it does nothing. No dependency: the protocol is
one datagram of ``KEY=VALUE`` lines on a unix socket (``@`` names the abstract namespace).
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def notify(state: str, env: dict[str, str] | None = None) -> bool:
    """Send ``state`` to systemd; True when sent, False without a socket or on an error."""
    path = (env if env is not None else os.environ).get("NOTIFY_SOCKET", "")
    if not path:
        return False
    address = "\0" + path[1:] if path.startswith("@") else path
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall(state.encode())
    except OSError as err:
        log.warning("could not tell systemd %r through NOTIFY_SOCKET %s: %s", state, path, err)
        return False
    return True
