"""Who may see the scorecard: loopback visitors, or the users an authenticating proxy names.

The app listens on 127.0.0.1 (``.streamlit/config.toml``, the demo's launcher). Without
``dashboard.auth_header`` only visitors reaching it by a loopback host name are served: a
Streamlit started on every interface by mistake shows nothing to the network. With it, the app
trusts that request header, set by an authenticating proxy in front (oauth2-proxy's
``X-Forwarded-Email``, ``X-Forwarded-User``, ...), and serves only the users in
``dashboard.allowed_users`` (any user the proxy let through when empty). Trust it only when the
app is reachable through that proxy alone: anyone reaching the app directly can set the header.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sloctl.settings import DashboardSettings

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")


@dataclass(frozen=True)
class Access:
    """The verdict: ``user`` (None for a loopback visitor) or ``refused`` saying why."""

    allowed: bool
    user: str | None = None
    refused: str = ""


def _host(headers: Mapping[str, str]) -> str:
    host = next((v for k, v in headers.items() if k.lower() == "host"), "")
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def check_access(headers: Mapping[str, str], settings: DashboardSettings) -> Access:
    """Whether a visitor with these request headers may see the scorecard (see the module)."""
    if settings.auth_header is None:
        host = _host(headers)
        if not headers or host in LOOPBACK_HOSTS:  # no headers: run in-process (tests)
            return Access(True)
        return Access(False, refused=(
            f"this scorecard is served on {host!r}, not on loopback, and has no login: bind it "
            "to 127.0.0.1 (.streamlit/config.toml, --server.address 127.0.0.1) or set "
            "dashboard.auth_header behind an authenticating proxy"))
    wanted = settings.auth_header.lower()
    user = next((v.strip() for k, v in headers.items() if k.lower() == wanted), "")
    if not user:
        return Access(False, refused=(
            f"sign in through the authenticating proxy: the request has no {settings.auth_header}"
            " header"))
    if settings.allowed_users and user not in settings.allowed_users:
        return Access(False, user, refused=f"{user} is not in dashboard.allowed_users")
    return Access(True, user)
