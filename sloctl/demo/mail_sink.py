"""A real SMTP server on loopback that keeps every message it accepts (aiosmtpd).

The demo's mail sink (plain SMTP on 127.0.0.1) and the report tests' server (STARTTLS or
implicit TLS with a given certificate, AUTH with one user)::

    with MailSink(folder) as sink:                 # sink.port: a free port on 127.0.0.1
        ... send to 127.0.0.1:sink.port ...
        sink.messages                              # [(path, bytes)], in arrival order

Each accepted message is written to ``folder/NNNN.eml`` before the server answers 250. A
message whose data never ended (the client died before the final ``.``) is not kept.
"""

from __future__ import annotations

import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any, Self


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class _Handler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.lock = threading.Lock()
        self.paths: list[Path] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            path = self.folder / f"{len(self.paths) + 1:04d}.eml"
            path.write_bytes(envelope.original_content or envelope.content)
            self.paths.append(path)
        return "250 Message accepted for delivery"


class MailSink:
    """An aiosmtpd server on 127.0.0.1 (see the module docstring).

    ``starttls``/``implicit_tls``: an ``ssl.SSLContext`` with the server's certificate;
    ``credentials``: ``(user, password)`` required (AUTH PLAIN/LOGIN, over TLS only).
    """

    def __init__(self, folder: Path, *, starttls: ssl.SSLContext | None = None,
                 implicit_tls: ssl.SSLContext | None = None,
                 credentials: tuple[str, str] | None = None) -> None:
        self.folder = folder
        self.port = free_port()
        self.handler = _Handler(folder)
        self._starttls = starttls
        self._implicit = implicit_tls
        self._credentials = credentials
        self._controller: Any = None

    @property
    def messages(self) -> list[tuple[Path, bytes]]:
        with self.handler.lock:
            return [(p, p.read_bytes()) for p in self.handler.paths]

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        assert self._credentials is not None
        user, password = self._credentials
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == user.encode()
              and auth_data.password == password.encode())
        return AuthResult(success=ok, handled=False)

    def start(self) -> MailSink:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:  # pragma: no cover - the dev extra installs it
            raise RuntimeError("the mail sink needs aiosmtpd: install sloctl's dev extra "
                               "(make demo does)") from None
        self.folder.mkdir(parents=True, exist_ok=True)
        options: dict[str, Any] = {}
        if self._starttls is not None:
            options.update(tls_context=self._starttls, require_starttls=True)
        if self._implicit is not None:
            options.update(ssl_context=self._implicit)
        if self._credentials is not None:
            # with implicit TLS the whole session is encrypted, but aiosmtpd only knows of
            # STARTTLS: requiring TLS for AUTH would refuse it
            options.update(authenticator=self._authenticate, auth_required=True,
                           auth_require_tls=self._starttls is not None)
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                      ready_timeout=10, **options)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, _t: type[BaseException] | None, _v: BaseException | None,
                 _tb: TracebackType | None) -> None:
        self.stop()
