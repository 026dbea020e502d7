"""Handing one message to an SMTP server, with a commit point before the end of its data.

``SmtpTransport.deliver`` runs the SMTP dialogue itself up to the data (``smtplib`` for the
connection, STARTTLS or implicit TLS, AUTH, MAIL and RCPT), sends the dot-stuffed message
WITHOUT its final ``.``, calls ``commit()`` (the caller records that the end of the data goes
out next) and only then sends the ``.`` and reads the server's verdict. A server accepts a
message only on that final ``.`` (RFC 5321 4.1.1.4): a connection lost before it means the
message was dropped; lost after it, nobody knows. Every failure is a typed error saying which
side of that point it happened on. The password never appears in an error or a log.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Callable, Sequence
from email.message import EmailMessage

from sloctl.errors import SloctlError
from sloctl.report.config import SmtpSettings

CRLF = b"\r\n"
Hook = Callable[[str], None]  # phases: connected, data-sent, committing, accepted


class SmtpError(SloctlError):
    """Sending failed before the end of the data: the server did not take the message."""

    retry = True


class SmtpRejected(SmtpError):
    """The server refused for good (5xx): sending the same message again will not help."""

    retry = False


class SmtpUncertain(SmtpError):
    """The connection failed after the end of the data went out: maybe delivered."""

    retry = False


class CommitLost(SmtpError):
    """Another sender took the record over: this one must not end the data."""

    retry = False


def _no_hook(_phase: str) -> None:
    pass


class SmtpTransport:
    """One SMTP server from the settings (``report.smtp``)."""

    def __init__(self, settings: SmtpSettings, hook: Hook = _no_hook) -> None:
        if settings.host is None:
            raise SloctlError("no SMTP server configured: set report.smtp.host "
                              "(SLOCTL_SMTP_HOST) to send the report")
        self.settings = settings
        self.hook = hook

    def _secret(self, text: str) -> str:
        password = self.settings.password
        if password is not None and password.get_secret_value():
            text = text.replace(password.get_secret_value(), "***")
        return text

    def _where(self) -> str:
        s = self.settings
        return f"SMTP server {s.host}:{s.port} ({s.security})"

    def _context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.settings.ca_file)

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        assert s.host is not None
        if s.security == "tls":
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout_seconds,
                                    context=self._context())
        conn = smtplib.SMTP(s.host, s.port, timeout=s.timeout_seconds)
        if s.security == "starttls":
            conn.ehlo()
            conn.starttls(context=self._context())
        return conn

    def deliver(self, message: EmailMessage, recipients: Sequence[str],
                commit: Callable[[], bool]) -> str:
        """Send ``message`` to ``recipients``; returns the server's acceptance reply.

        Raises SmtpError (retry later), SmtpRejected (final), CommitLost (``commit()`` returned
        False: nothing was accepted) or SmtpUncertain (failed after the commit point).
        """
        try:
            conn = self._connect()
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise SmtpError(self._secret(f"cannot reach the {self._where()}: {exc}")) from None
        try:
            reply = self._dialogue(conn, message, recipients, commit)
        except BaseException:
            conn.close()  # drop the connection: never QUIT in the middle of the data
            raise
        try:
            conn.quit()
        except (OSError, smtplib.SMTPException):
            conn.close()  # accepted already: a failing QUIT changes nothing
        return reply

    def _dialogue(self, conn: smtplib.SMTP, message: EmailMessage, recipients: Sequence[str],
                  commit: Callable[[], bool]) -> str:
        s = self.settings
        try:
            self.hook("connected")
            self._prepare(conn, message, recipients)
            conn.send(_quoted(message))
            self.hook("data-sent")
            if not commit():
                raise CommitLost("another sender took this email over; this one stopped "
                                 "before the end of the data")
            self.hook("committing")
            try:
                conn.send(b"." + CRLF)
                code, reply = conn.getreply()
            except (OSError, smtplib.SMTPException) as exc:
                raise SmtpUncertain(self._secret(
                    f"the {self._where()} did not answer the end of the data ({exc}): the "
                    "message may have been delivered")) from None
            text = reply.decode(errors="replace")
            if code != 250:
                kind = SmtpRejected if 500 <= code < 600 else SmtpError
                raise kind(self._secret(f"the {self._where()} refused the message: "
                                        f"{code} {text}"))
            self.hook("accepted")
            return f"{code} {text}"
        except SmtpError:
            raise
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpRejected(self._secret(
                f"the {self._where()} refused the login of {s.username!r}: {exc.smtp_code} "
                f"{_text(exc.smtp_error)}; check SLOCTL_SMTP_USERNAME and "
                "SLOCTL_SMTP_PASSWORD")) from None
        except smtplib.SMTPResponseException as exc:
            kind = SmtpRejected if 500 <= exc.smtp_code < 600 else SmtpError
            raise kind(self._secret(f"the {self._where()} answered {exc.smtp_code} "
                                    f"{_text(exc.smtp_error)}")) from None
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise SmtpError(self._secret(f"sending to the {self._where()} failed: {exc}")) \
                from None

    def _prepare(self, conn: smtplib.SMTP, message: EmailMessage,
                 recipients: Sequence[str]) -> None:
        """EHLO, AUTH, MAIL, RCPT and DATA up to the server's 354."""
        s = self.settings
        conn.ehlo_or_helo_if_needed()
        if s.username is not None:
            password = s.password.get_secret_value() if s.password is not None else ""
            conn.login(s.username, password)
        sender = message["From"].addresses[0].addr_spec
        code, reply = conn.mail(sender)
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, sender)
        refused = {}
        for r in recipients:
            code, reply = conn.rcpt(r)
            if code not in (250, 251):
                refused[r] = (code, reply)
        if refused:
            first = next(iter(refused.values()))
            raise smtplib.SMTPResponseException(first[0], b"recipient(s) refused: " + b", ".join(
                f"{r} ({c} {m.decode(errors='replace')})".encode() for r, (c, m) in
                refused.items()))
        code, reply = conn.docmd("DATA")
        if code != 354:
            raise smtplib.SMTPDataError(code, reply)


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _quoted(message: EmailMessage) -> bytes:
    """The message with CRLF line ends and leading dots doubled, ending in CRLF (no ``.``)."""
    data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    data = re.sub(rb"(?m)^\.", b"..", data)
    return data if data.endswith(CRLF) else data + CRLF

