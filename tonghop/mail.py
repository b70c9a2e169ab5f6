"""Sending e-mail through an SMTP server: where it is, and one connection for a batch of mails.

The server is one URL, ``TONGHOP_SMTP_URL`` outside Airflow (``tonghop run``, the demo), or
Airflow's SMTP connection ``tonghop_smtp`` inside a task (:func:`pipeline.cycle.
settings_from_airflow` turns it into the same URL): never a file of the repository.

``smtp://[login[:password]@]host[:port]?from=<sender>[&security=starttls|ssl|none]
[&timeout=<seconds>]`` — ``smtps://`` is implicit TLS (port 465), ``smtp://`` STARTTLS
(port 587) unless ``security`` says otherwise (``none``: a local relay or a test server on
this machine). The login and password are percent-encoded in the URL.

An Airflow connection of type ``smtp`` is read with the SMTP provider's meaning of its fields
(``airflow.providers.smtp.hooks.smtp.SmtpHook``; :func:`connection_url`): host, port, login,
password, and in its extra ``from_email``, ``disable_ssl`` (SSL is the default),
``disable_tls`` (STARTTLS when SSL is off) and ``timeout``.

:class:`Mailer` sends mails one by one over one connection and says, for each, whether it
was accepted or why not; a mail the server refuses (one recipient refused, a message rejected)
never stops the others, a connection that breaks is opened again for the next mail, and a server
that cannot be reached is tried once per batch.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from tonghop.masking import mask_secrets, register_secret

SECURITY = ("starttls", "ssl", "none")
DEFAULT_PORTS = {"ssl": 465, "starttls": 587, "none": 25}


class MailConfigError(ValueError):
    """The SMTP settings cannot be used (said in English, for the engineer who set them)."""


@dataclass(frozen=True)
class SmtpServer:
    """Where mail is sent from: the server, how to secure and log in, and the sender."""

    host: str
    sender: str
    port: int | None = None
    security: str = "starttls"
    login: str | None = None
    password: str | None = None
    timeout: float = 30.0

    def __post_init__(self):
        if self.security not in SECURITY:
            raise MailConfigError(
                f"SMTP security {self.security!r} is not one of {', '.join(SECURITY)}"
            )
        if not self.host:
            raise MailConfigError("the SMTP server has no host")
        if not self.sender or "@" not in self.sender:
            raise MailConfigError(
                "the SMTP settings name no sender address: add ?from=<address> to "
                "TONGHOP_SMTP_URL, or from_email to the extra of the Airflow connection"
            )
        register_secret(self.password)

    def __repr__(self) -> str:
        return f"SmtpServer({mask_secrets(self.url())!r})"

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise MailConfigError(
                f"an SMTP URL starts with smtp:// or smtps://, not {parts.scheme}://"
            )
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        security = query.get("security") or ("ssl" if parts.scheme == "smtps" else "starttls")
        try:
            port, timeout = parts.port, float(query.get("timeout") or 30)
        except ValueError as exc:
            raise MailConfigError(
                f"the SMTP URL's port or timeout is not a number: {exc}"
            ) from None
        return cls(
            host=parts.hostname or "",
            port=port,
            security=security,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            sender=query.get("from", ""),
            timeout=timeout,
        )

    def url(self) -> str:
        """The URL :meth:`from_url` reads back (the login and password percent-encoded)."""
        return _url(
            self.host,
            self.port,
            self.security,
            self.login,
            self.password,
            self.sender,
            self.timeout,
        )

    def airflow_connection(self) -> dict:
        """This server as an Airflow connection (``AIRFLOW_CONN_<ID>``'s JSON form), with the
        SMTP provider's fields: :meth:`from_airflow_connection` reads it back."""
        return {
            "conn_type": "smtp",
            "host": self.host,
            **({"port": self.port} if self.port else {}),
            **({"login": self.login} if self.login else {}),
            **({"password": self.password} if self.password else {}),
            "extra": {
                "from_email": self.sender,
                "disable_ssl": self.security != "ssl",
                "disable_tls": self.security == "none",
                "timeout": self.timeout,
            },
        }


def connection_url(conn) -> str:
    """An Airflow connection of type smtp, read as the SMTP provider reads it, as the URL
    :meth:`SmtpServer.from_url` takes. Not checked here (a connection without a sender is
    refused when mail is sent, not when a task that sends none reads its settings)."""
    extra = conn.extra_dejson or {}
    if not _flag(extra.get("disable_ssl")):
        security = "ssl"
    elif not _flag(extra.get("disable_tls")):
        security = "starttls"
    else:
        security = "none"
    return _url(
        conn.host or "",
        int(conn.port) if conn.port else None,
        security,
        conn.login or None,
        conn.password or None,
        extra.get("from_email") or "",
        float(extra.get("timeout") or 30),
    )


def _url(host, port, security, login, password, sender, timeout) -> str:
    scheme = "smtps" if security == "ssl" else "smtp"
    auth = ""
    if login:
        auth = quote(login, safe="")
        if password:
            auth += ":" + quote(password, safe="")
        auth += "@"
    query = {"from": sender}
    if security != ("ssl" if scheme == "smtps" else "starttls"):
        query["security"] = security
    if timeout != 30.0:
        query["timeout"] = f"{timeout:g}"
    return f"{scheme}://{auth}{host}{f':{port}' if port else ''}?{urlencode(query)}"


def _flag(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@dataclass(frozen=True)
class Outcome:
    """What became of one mail: accepted by the server, or the reason it was not."""

    sent: bool
    error: str | None = None


class Mailer:
    """``with Mailer(server) as mailer: mailer.send(message)`` — one SMTP session for many
    mails, opened at the first one; each :meth:`send` returns an :class:`Outcome` and never
    raises for a mail the server refuses or a connection that fails."""

    def __init__(self, server: SmtpServer):
        self.server = server
        self.client: smtplib.SMTP | None = None
        #: why the server could not be reached or logged in to: the batch's other mails are
        #: not tried (one wait for a server that is down, not one per mail)
        self.broken: str | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _connect(self) -> smtplib.SMTP:
        s = self.server
        if s.security == "ssl":
            client = smtplib.SMTP_SSL(
                s.host, s.effective_port, timeout=s.timeout, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(s.host, s.effective_port, timeout=s.timeout)
            if s.security == "starttls":
                client.starttls(context=ssl.create_default_context())
                client.ehlo()
        if s.login:
            client.login(s.login, s.password or "")
        return client

    def send(self, message: Message) -> Outcome:
        """Send ``message`` from the server's sender (the envelope's) to the addresses of its
        To header."""
        if "From" not in message:
            message["From"] = self.server.sender
        recipients = [address for _, address in getaddresses([str(message["To"] or "")])]
        if self.broken:
            return Outcome(False, f"not tried: {self.broken}")
        if self.client is None:
            try:
                self.client = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self.broken = _error(exc)
                return Outcome(False, self.broken)
        try:
            refused = self.client.send_message(
                message, from_addr=self.server.sender, to_addrs=recipients
            )
        except smtplib.SMTPRecipientsRefused as exc:
            return Outcome(False, _refusal(exc.recipients))
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            self._reset()
            return Outcome(False, _reply(exc.smtp_code, exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:
            # the connection is gone (or never came): the next mail opens a new one
            self.close()
            return Outcome(False, _error(exc))
        if refused:  # several recipients, some refused: the others received it
            return Outcome(False, _refusal(refused))
        return Outcome(True)

    def _reset(self) -> None:
        try:
            self.client.rset()
        except Exception:
            self.close()

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.quit()
            except Exception:
                try:
                    self.client.close()
                except Exception:
                    pass
            self.client = None


def _error(exc: Exception) -> str:
    return mask_secrets(f"{type(exc).__name__}: {exc}")[:500]


def _reply(code, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return f"SMTP {code}: {text}"[:500]


def _refusal(recipients: dict) -> str:
    return "; ".join(
        f"{address} refused ({_reply(code, text)})" for address, (code, text) in recipients.items()
    )[:500]
