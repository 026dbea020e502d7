"""The one redaction function: credentials never reach an output, a log, a row or a span.

    redact("cannot connect to http://bob:s3cret@prom:9090")   # 'http://bob:***@prom:9090'
    register_secret(token)                                   # masked wherever it appears

``redact`` masks the password of every URL (``scheme://user:password@host``; the user name
stays), credential query parameters (``?token=...``,
``password``, ``api_key``, ...), and every value registered with ``register_secret`` (the
settings register each of their secrets and URL passwords when they load), raw or
percent-encoded. Values shorter than ``MIN_SECRET_LENGTH`` are masked only inside URLs.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, quote_plus, unquote

__all__ = ["MASK", "MIN_SECRET_LENGTH", "escape_controls", "forget_secrets", "redact",
           "redact_url", "register_secret", "register_url", "safe"]

MASK = "***"
MIN_SECRET_LENGTH = 4
_URL_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)([^/?#\s'\"<>]*)@")
_CREDENTIAL_PARAMS = re.compile(
    r"(?i)([?&;](?:password|passwd|pwd|pass|token|access_token|id_token|api[_-]?key|apikey|"
    r"secret|client_secret|auth|authorization|sig|signature|x-amz-signature)=)[^&#\s'\"<>]*"
)
# C0 controls but newline and tab (multi-line messages), DEL, C1, bidi overrides
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_lock = threading.Lock()
_secrets: set[str] = set()
_pattern: re.Pattern[str] | None = None


def _userinfo(match: re.Match[str]) -> str:
    scheme, userinfo = match.group(1), match.group(2)
    user, colon, _password = userinfo.partition(":")
    return f"{scheme}{user}:{MASK}@" if colon else match.group()


def redact(text: str) -> str:
    """``text`` with every credential masked (see the module docstring)."""
    if not text:
        return text
    text = _URL_USERINFO.sub(_userinfo, text)
    text = _CREDENTIAL_PARAMS.sub(rf"\1{MASK}", text)
    pattern = _pattern
    return pattern.sub(MASK, text) if pattern is not None else text


def redact_url(url: str) -> str:
    """A URL fit to show: its password and credential parameters masked."""
    return redact(url)


def register_secret(value: str | None) -> None:
    """Mask ``value`` (and its percent-encoded forms) in everything ``redact`` sees."""
    if not value or len(value) < MIN_SECRET_LENGTH:
        return
    global _pattern
    forms = {value, quote(value, safe=""), quote_plus(value, safe=""), unquote(value)}
    with _lock:
        if forms <= _secrets:
            return
        _secrets.update(f for f in forms if len(f) >= MIN_SECRET_LENGTH)
        ordered = sorted(_secrets, key=len, reverse=True)  # longest first: no partial masks
        _pattern = re.compile("|".join(re.escape(s) for s in ordered))


def register_url(url: str | None) -> None:
    """Register the password in ``url``'s userinfo and its credential parameters."""
    if not url:
        return
    for match in _URL_USERINFO.finditer(url):
        _user, colon, password = match.group(2).partition(":")
        if colon:
            register_secret(password)
    for match in _CREDENTIAL_PARAMS.finditer(url):
        start = match.end(1)
        end = match.end()
        register_secret(url[start:end])


def forget_secrets() -> None:
    """Drop every registered value (tests)."""
    global _pattern
    with _lock:
        _secrets.clear()
        _pattern = None


def escape_controls(text: str) -> str:
    """``text`` with control characters shown as escapes: ESC -> ``\\x1b``, NUL -> ``\\x00``."""
    return _CONTROL.sub(_escape_one, text)


def _escape_one(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe(text: str) -> str:
    """Text fit for a terminal or a log line: credentials masked, control characters escaped."""
    return escape_controls(redact(text))
