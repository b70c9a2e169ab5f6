"""A mailbox on this machine: a real SMTP server (aiosmtpd) that keeps every mail it receives.

The demo sends the units' reminder mails here instead of to the world, and writes each as an
``.eml`` file a person opens in any mail reader; the tests read the same mails back
(``testing/smtp.py``). Addresses listed in :attr:`LocalMailbox.refused` are refused at ``RCPT
TO`` (550), as a real server refuses an unknown mailbox.
"""

from __future__ import annotations

import datetime as dt
import re
import socket
import threading
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from tonghop.mail import SmtpServer


@dataclass(frozen=True)
class Received:
    """One mail as the server got it: the envelope and the message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    received_at: dt.datetime

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class LocalMailbox:
    """``with LocalMailbox(folder) as box:`` an SMTP server on ``host``:``port`` (a free port by
    default) for as long as the block lasts; :attr:`received` holds every mail, and with
    ``folder`` each is also written there as ``<time>-<n>-<recipient>.eml``."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        refused: set[str] | None = None,
    ):
        self.folder = Path(folder) if folder else None
        self.host, self.port = host, port or free_port(host)
        #: addresses refused at RCPT TO (lower case); may change while the server runs
        self.refused: set[str] = {a.lower() for a in refused or ()}
        self.received: list[Received] = []
        self._lock = threading.Lock()
        self._controller = None

    def server(self, sender: str) -> SmtpServer:
        """How to send to this mailbox (no TLS, no login) as ``sender``."""
        return SmtpServer(host=self.host, port=self.port, security="none", sender=sender)

    def url(self, sender: str) -> str:
        return self.server(sender).url()

    def start(self) -> LocalMailbox:
        from aiosmtpd.controller import Controller

        if self.folder:
            self.folder.mkdir(parents=True, exist_ok=True)
        self._controller = Controller(_Handler(self), hostname=self.host, port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> LocalMailbox:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def messages(self) -> list[EmailMessage]:
        with self._lock:
            return [r.message for r in self.received]

    def clear(self) -> None:
        with self._lock:
            self.received.clear()

    def _keep(self, mail_from: str, rcpt_tos: list[str], data: bytes) -> None:
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            self.received.append(Received(mail_from, tuple(rcpt_tos), data, now))
            n = len(self.received)
        if self.folder:
            who = re.sub(r"[^A-Za-z0-9._-]+", "_", (rcpt_tos or ["thu"])[0].split("@")[0])
            name = f"{now.astimezone():%Y%m%d-%H%M%S}-{n:03d}-{who}.eml"
            (self.folder / name).write_bytes(data)


class _Handler:
    def __init__(self, box: LocalMailbox):
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.box.refused:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.box._keep(
            envelope.mail_from,
            list(envelope.rcpt_tos),
            envelope.original_content or envelope.content,
        )
        return "250 Message accepted for delivery"
