"""The email itself: one MIME message per (period, scope, recipient list), deterministic.

    multipart/alternative
      text/plain                  the text part
      multipart/related
        text/html                 the HTML part, images by cid:
        image/png (inline) ...    one per chart, Content-ID <name@sloctl>

``send_key`` and ``message_id`` depend only on the period, the scope and the sorted recipient
list, and ``Date`` is the send record's creation time: every attempt of one email is the same
message, with the same Message-ID (receivers can tell a resend by it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, getaddresses

from sloctl.report.render import Rendered

# Headers are not folded below 998 characters: Python folds a long Subject right after its
# colon, which readers show with a leading space.
POLICY = SMTP.clone(max_line_length=998)


def normalise(recipients: Sequence[str]) -> tuple[str, ...]:
    """The recipient list as a sorted, de-duplicated tuple of lower-case addresses."""
    return tuple(sorted({addr.lower() for _, addr in getaddresses(list(recipients)) if addr}))


def send_key(period: str, scope: str, recipients: Sequence[str]) -> str:
    """What makes one email: 32 hex digits of SHA-256 over period, scope and recipients."""
    text = "\n".join((period, scope, *normalise(recipients)))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def message_id(key: str, period: str, scope: str, from_address: str) -> str:
    """``<sloctl-report.2026-W49.team-payments.<key16>@<from domain>>``."""
    domain = getaddresses([from_address])[0][1].rpartition("@")[2] or "localhost"
    slug = "".join(c if c.isalnum() or c in "-_" else "-" for c in scope)
    return f"<sloctl-report.{period}.{slug}.{key[:16]}@{domain}>"


def build_message(rendered: Rendered, *, sender: str, recipients: Sequence[str], msg_id: str,
                  date: datetime, period: str, scope: str) -> EmailMessage:
    """The MIME message (see the module docstring)."""
    msg = EmailMessage(policy=POLICY)
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = rendered.subject
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = msg_id
    msg["List-Id"] = f"sloctl weekly scorecard <{scope.replace('/', '.')}.weekly.sloctl>"
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Sloctl-Report"] = f"{period} {scope}"
    msg.set_content(rendered.text, subtype="plain", charset="utf-8")
    msg.add_alternative(rendered.html, subtype="html", charset="utf-8")
    html = msg.get_payload()[1]  # type: ignore[index]
    assert isinstance(html, EmailMessage)
    for cid, png in rendered.images.items():
        html.add_related(png, maintype="image", subtype="png", cid=f"<{cid}>",
                         disposition="inline", filename=f"{cid.split('@')[0]}.png")
    return msg
