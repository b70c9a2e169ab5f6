"""Secrets never in logs: connection passwords, keys and webhook URLs are masked in every log
record of the process (ours, dbt's, gspread's, Airflow's), and Airflow's own masker is told of
them inside a task. :class:`tonghop.settings.Settings` registers its DSNs' passwords as it is
made; the Sheets client its key, the alerts their webhook.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from urllib.parse import quote, unquote, urlsplit

MASK = "***"
#: what a secret looks like wherever it is written: the password of a URI ("postgresql://
#: user:PASSWORD@host"), a secret-named value ("password=…", "token=…", "key=…", JSON
#: "private_key": …), a PEM private key (a Google service-account key's content)
_PATTERNS = [
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----(\\n)?", re.S
        ),
        "[private key " + MASK + "]",
    ),
    (
        re.compile(r"(?P<keep>\b[a-z][a-z0-9+.-]*://[^:/@\s'\"]*:)[^@\s'\"/]+(?=@)", re.I),
        r"\g<keep>" + MASK,
    ),
    (
        re.compile(
            r"(?P<keep>(?:\b[a-z0-9_]*(?:password|passwd|secret|token|fernet_key|"
            r"api[_-]?key|private_key(?:_id)?)|\b(?:key|sig|signature|pwd))"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;}]+",
            re.I,
        ),
        r"\g<keep>" + MASK,
    ),
]
_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_masking_installed = False


def register_secret(value: str | None) -> None:
    """Never write ``value`` (nor its percent-encoded form) in a log line; inside an Airflow
    task, Airflow's own masker is told too (its task logs, rendered templates, XCom views)."""
    if not value or len(value) < 6:
        return
    forms = {value, quote(value, safe=""), unquote(value)}
    if "://" in value:  # a URL that is a credential (a webhook): also its path and query
        parts = urlsplit(value)
        rest = parts.path + ("?" + parts.query if parts.query else "")
        if len(rest) >= 6:
            forms.add(rest)
    with _secrets_lock:
        new = forms - _secrets
        _secrets.update(new)
    if new and "airflow.sdk" in sys.modules:
        try:
            from airflow.sdk.log import mask_secret

            for form in new:
                mask_secret(form)
        except Exception:
            pass


def register_dsn(dsn: str | None) -> None:
    """The password of a libpq URI or key=value DSN."""
    if not dsn:
        return
    if "://" in dsn:
        password = urlsplit(dsn).password
        register_secret(unquote(password) if password else None)
    else:
        found = re.search(r"\bpassword\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", dsn)
        if found:
            register_secret(found.group(1).strip("'"))


def mask_secrets(text: str) -> str:
    """``text`` with every secret replaced by ***."""
    if not text:
        return text
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def _masked_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:
        return
    masked = mask_secrets(message)
    if masked != message:
        record.msg, record.args = masked, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        masked = mask_secrets(text)
        if masked != text:
            record.exc_text = masked  # formatters print this instead of the traceback


def install_log_masking() -> None:
    """Mask secrets in every log record made in this process, whichever logger and handler
    (ours, dbt's, gspread's, Airflow's): the record factory masks the message and the
    traceback as the record is made. Idempotent."""
    global _masking_installed
    with _secrets_lock:
        if _masking_installed:
            return
        _masking_installed = True
    make_record = logging.getLogRecordFactory()

    def masked_record_factory(*args, **kwargs):
        record = make_record(*args, **kwargs)
        _masked_record(record)
        return record

    logging.setLogRecordFactory(masked_record_factory)
