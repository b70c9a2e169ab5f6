"""A real SMTP server on this machine for the tests, and reading back what it received.

The server is :class:`tooling.mailbox.LocalMailbox` (aiosmtpd), the demo's too: the mails the
product sends over SMTP arrive there and are read back here as parsed messages. It can refuse
chosen recipients (550 at ``RCPT TO``), as a real server refuses an unknown mailbox.

    with local_smtp() as box:
        settings = settings.with_overrides(smtp_url=box.url(SENDER))
        ...
        [mail] = mails_to(box, "unit@example.gov.vn")
        assert "Báo cáo chưa được tính" in text_of(mail)
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

from tooling.mailbox import LocalMailbox

#: the sender the tests configure (a reserved domain: nothing leaves this machine)
SENDER = "nhacnho@tonghop.example"


@contextlib.contextmanager
def local_smtp(
    folder: Path | None = None, refused: set[str] | None = None
) -> Iterator[LocalMailbox]:
    """An SMTP server on 127.0.0.1 (a free port) for as long as the block lasts."""
    box = LocalMailbox(folder, refused=refused).start()
    try:
        yield box
    finally:
        box.stop()


def airflow_smtp_connection(box: LocalMailbox, sender: str = SENDER) -> dict[str, str]:
    """The environment variable that gives Airflow's ``tonghop_smtp`` connection (type smtp,
    the provider's fields) pointing at ``box``."""
    from pipeline.cycle import CONN_SMTP

    return {
        f"AIRFLOW_CONN_{CONN_SMTP.upper()}": json.dumps(box.server(sender).airflow_connection())
    }


def text_of(mail: EmailMessage) -> str:
    """The mail's plain-text body, decoded, with its lines ending in \\n (SMTP carries CRLF)."""
    return mail.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def mails_to(box: LocalMailbox, address: str) -> list[EmailMessage]:
    """Every mail received for ``address`` (the envelope's recipients), in order."""
    return [
        r.message for r in list(box.received) if address.lower() in (a.lower() for a in r.rcpt_tos)
    ]


def by_header(box: LocalMailbox, header: str) -> dict[str, list[EmailMessage]]:
    """The mails received, grouped by one header's value (e.g. the unit they are about)."""
    grouped: dict[str, list[EmailMessage]] = {}
    for mail in box.messages():
        grouped.setdefault(str(mail.get(header, "")), []).append(mail)
    return grouped
