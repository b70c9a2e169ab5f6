"""Reaching Google Sheets and Drive through gspread — Google itself or the local emulator.

The same calls go to either: production authenticates with a service account; the demo, the
tests and the benchmarks give gspread a session that sends its requests to the emulator.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

import gspread
from gspread.exceptions import APIError
from gspread.urls import DRIVE_FILES_API_V3_URL, SPREADSHEET_URL, SPREADSHEET_VALUES_URL
from requests.exceptions import RequestException

from sheets import layout
from sheets.http import RetryPolicy, with_policy
from sheets.quota import QuotaLimiter, shared_counters
from tonghop.masking import register_secret
from tonghop.settings import Settings


class CountsCalls:
    """For a stage's summary dataclass with an ``api_calls`` Counter: ``as_dict`` for XCom, the
    Counter as a plain dict."""

    def as_dict(self) -> dict:
        data = asdict(self)
        data["api_calls"] = dict(self.api_calls)
        return data


SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
#: everything a report needs, in one spreadsheets.get call (all tabs, values as typed and shown)
REPORT_FIELDS = (
    "spreadsheetId,properties(title,locale,timeZone),"
    "sheets(properties(sheetId,title,index,hidden),merges,"
    "data(startRow,startColumn,rowData(values(userEnteredValue,effectiveValue,formattedValue))))"
)
LIST_PAGE_SIZE = 1000
#: the largest spreadsheets.get answer decoded (bytes of JSON; a report is a few hundred KB, a
#: tab per unit of a whole province a few MB). Decoded JSON takes 10-20 times its size in
#: memory, so a spreadsheet a unit filled with a pasted register is refused before that, and
#: recorded as a failed read with the reason. Override with TONGHOP_MAX_SPREADSHEET_BYTES.
MAX_SPREADSHEET_BYTES = 48 * 1024 * 1024


#: where a person opens a spreadsheet on Google (the Sheets API's ``spreadsheetUrl``)
GOOGLE_SHEET_LINK = "https://docs.google.com/spreadsheets/d/{}/edit"


def spreadsheet_link(settings: Settings, spreadsheet_id: str) -> str:
    """The address a person opens a unit's spreadsheet at: Google's with the google backend;
    with the emulator, the emulator's own address of the spreadsheet (the file is there, and
    Google's address of an emulator file opens nothing)."""
    if settings.sheets_backend == "emulator":
        return f"{settings.emulator_url.rstrip('/')}/v4/spreadsheets/{spreadsheet_id}"
    return GOOGLE_SHEET_LINK.format(spreadsheet_id)


class SpreadsheetTooLarge(RequestException):
    """The spreadsheet's content is over :data:`MAX_SPREADSHEET_BYTES`: not read."""


def max_spreadsheet_bytes() -> int:
    return int(os.environ.get("TONGHOP_MAX_SPREADSHEET_BYTES") or MAX_SPREADSHEET_BYTES)


# ---------------------------------------------------------------------------- identities
#: the emulator's name for a caller that says nothing of who it is (no X-Emulator-User)
EMULATOR_DEFAULT_ACCOUNT = "default"


@dataclass(frozen=True)
class Identity:
    """One service account the pipeline works as. Google counts each one's calls against its
    own per-user quota (60 reads and 60 writes a minute), all of them against the project's
    (300 each): five accounts read five times faster than one, up to the project's limit.

    A spreadsheet is always read and written by one account it is shared with: the one
    recorded for it in ``ops.sheet_registry.service_account`` (provisioning creates each sheet
    as the account it picks, so that account owns it), or the first of the pool when none is
    recorded (sheets registered before, or shared by a unit with the first account)."""

    #: the account's e-mail: whom the sheets are shared with, whom the quota is counted for
    email: str
    #: its JSON key (Google)
    key_path: str | None = None
    #: the user the emulator counts (``X-Emulator-User``); None: the emulator's default user
    emulator_user: str | None = None


class UnknownIdentity(RuntimeError):
    """A spreadsheet is recorded for a service account that is not among the configured ones."""


def identities(settings: Settings) -> list[Identity]:
    """The pool, first one first: ``settings.sheets_identities`` (Google: key files; emulator:
    e-mails), else the one key of ``google_credentials_file`` / the emulator's default user."""
    if settings.sheets_backend == "google":
        paths = settings.sheets_identities or (
            (settings.google_credentials_file,) if settings.google_credentials_file else ()
        )
        if not paths:
            raise RuntimeError(
                "TONGHOP_SHEETS_BACKEND=google needs GOOGLE_APPLICATION_CREDENTIALS "
                "(the service-account key file) or the Airflow connection "
                "tonghop_sheets."
            )
        return [Identity(_key_email(path), key_path=path) for path in paths]
    if settings.sheets_backend == "emulator":
        if not settings.sheets_identities:
            return [Identity(EMULATOR_DEFAULT_ACCOUNT)]
        return [Identity(name, emulator_user=name) for name in settings.sheets_identities]
    raise ValueError(f"Unknown sheets backend {settings.sheets_backend!r}")


def identity_of(settings: Settings, account: str | Identity | None) -> Identity:
    """The configured identity of ``account`` (an e-mail; None: the first of the pool)."""
    if isinstance(account, Identity):
        return account
    pool = identities(settings)
    if account is None:
        return pool[0]
    for identity in pool:
        if identity.email.lower() == account.lower():
            return identity
    raise UnknownIdentity(
        f"service account {account} is recorded for spreadsheets of ops.sheet_registry but is "
        f"not among the configured ones ({', '.join(i.email for i in pool)}): add its "
        "connection (tonghop_sheets_<n>) or key back (TONGHOP_SHEETS_IDENTITIES) — it is the "
        "account those sheets are shared with"
    )


def _key_email(path: str) -> str:
    """The service account's e-mail in its JSON key (the path itself if the file says none)."""
    try:
        with open(path, encoding="utf-8") as fh:
            key = json.loads(fh.read())
    except (OSError, ValueError):
        return path  # make_client says what is wrong with the file
    return (key.get("client_email") if isinstance(key, dict) else None) or path


def make_client(
    settings: Settings,
    policy: RetryPolicy | None = None,
    identity: Identity | str | None = None,
) -> gspread.Client:
    """A gspread client for the configured backend ("emulator" or "google"), acting as
    ``identity`` (an :class:`Identity` or its e-mail; default the first of the pool).

    Requests time out and are retried with backoff (``sheets.http``) on both backends; with a
    quota (``settings.sheets_quota``) every call first waits for its bucket, for this account
    and for the project, on counters shared by every process that reaches the warehouse
    (``sheets.quota``).
    """
    identity = identity_of(settings, identity)
    limiter = None
    if settings.sheets_quota is not None:
        limiter = QuotaLimiter(
            settings.sheets_quota, identity.email, shared_counters(settings.dsns.get("loader"))
        )
    http_client = with_policy(policy or RetryPolicy(), limiter)
    if settings.sheets_backend == "emulator":
        from sheets_emulator import EmulatorSession

        session = EmulatorSession(settings.emulator_url)
        if identity.emulator_user:
            session.headers["X-Emulator-User"] = identity.emulator_user
        return gspread.Client(auth=None, session=session, http_client=http_client)
    if settings.sheets_backend == "google":
        _register_key(identity.key_path)
        return gspread.service_account(filename=identity.key_path, http_client=http_client)
    raise ValueError(f"Unknown sheets backend {settings.sheets_backend!r}")


class ClientPool:
    """One client per service account, made when first asked for (``pool(account)``; None:
    the first of the pool), each with its own quota limiter over the shared counters."""

    def __init__(self, settings: Settings, policy: RetryPolicy | None = None):
        self.settings, self.policy = settings, policy
        self.clients: dict[str, gspread.Client] = {}

    def __call__(self, account: str | Identity | None = None) -> gspread.Client:
        identity = identity_of(self.settings, account)
        if identity.email not in self.clients:
            self.clients[identity.email] = make_client(self.settings, self.policy, identity)
        return self.clients[identity.email]

    def retries(self) -> int:
        """Retries made by every client of the pool."""
        return sum(getattr(c.http_client, "retries", 0) for c in self.clients.values())


def _register_key(path: str) -> None:
    """The service account's private key never reaches a log, even inside an error message."""
    try:
        with open(path, encoding="utf-8") as fh:
            key = json.loads(fh.read())
    except (OSError, ValueError):
        return  # gspread says what is wrong with the file, not its content
    if isinstance(key, dict):
        for name in ("private_key", "private_key_id"):
            register_secret(key.get(name))


@dataclass(frozen=True)
class DriveFile:
    spreadsheet_id: str
    name: str
    modified_time: str  # RFC 3339, as Drive gives it
    #: when this account (the pipeline) last changed it — by writing the check tab; "" if never
    modified_by_me_time: str = ""
    #: who it is shared with (Drive's permissions, as listed); None when Drive gave none (a
    #: file in a shared drive)
    permissions: list | None = field(default=None, compare=False, hash=False)
    #: what we marked it with (Drive's appProperties: whose report, made with our settings)
    app_properties: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def last_change_was_ours(self) -> bool:
        """Nobody else has changed the file since we last wrote to it."""
        return bool(self.modified_by_me_time) and parse_drive_time(
            self.modified_by_me_time
        ) >= parse_drive_time(self.modified_time)


def parse_drive_time(text: str | None) -> dt.datetime | None:
    """Drive's RFC 3339 time ("2026-06-18T09:15:00.000Z") as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def describe_error(exc: Exception) -> str:
    """A failed call in one line, for logs and for what is recorded as the reason."""
    if isinstance(exc, APIError):
        return f"Sheets API error {exc.code}: {exc.error.get('message', '')}"
    return f"{type(exc).__name__}: {exc}"


def without_check_tabs(resource: dict) -> dict:
    """The spreadsheet as the unit made it: our own "Kết quả kiểm tra" tabs left out, and the
    other tabs' positions counted without them (so adding ours changes nothing we store)."""
    sheets = resource.get("sheets", [])
    kept = [
        s for s in sheets if not layout.is_check_sheet_id(s.get("properties", {}).get("sheetId"))
    ]
    if len(kept) == len(sheets):
        return resource
    ordered = sorted(kept, key=lambda s: s.get("properties", {}).get("index", 0))
    renumbered = [
        {**s, "properties": {**s["properties"], "index": i}} for i, s in enumerate(ordered)
    ]
    return {**resource, "sheets": renumbered}


#: what ingest.sharing reads of each permission
PERMISSION_FIELDS = "id,type,role,emailAddress,domain,allowFileDiscovery"
#: each listed file's sharing (ingest.sharing) and our marks (ingest.provision) come in the
#: same answer: no extra call
LIST_FIELDS = (
    "nextPageToken,files(id,name,modifiedTime,modifiedByMeTime,appProperties,"
    f"permissions({PERMISSION_FIELDS}))"
)


def list_spreadsheets(
    client: gspread.Client,
    modified_after: str | None = None,
    period_code: str | None = None,
    server_times: list[str] | None = None,
) -> Iterator[tuple[DriveFile, int]]:
    """Every spreadsheet the account can see (optionally only those modified after a time, or
    only those our provisioning marked as a period's: appProperties ``tonghop_period``).

    Yields (file, page number); one Drive call per 1,000 files. ``server_times`` gets the
    ``Date`` header of each page's answer (Google's clock, RFC 3339), when given.
    """
    query = f"mimeType='{SPREADSHEET_MIME}' and trashed=false"
    if modified_after:
        query += f" and modifiedTime > '{modified_after}'"
    if period_code:
        quoted = period_code.replace("\\", "\\\\").replace("'", "\\'")
        query += f" and appProperties has {{ key='tonghop_period' and value='{quoted}' }}"
    params = {
        "q": query,
        "pageSize": LIST_PAGE_SIZE,
        "fields": LIST_FIELDS,
        "supportsAllDrives": True,
        "includeItemsFromAllDrives": True,
    }
    page = 0
    while True:
        page += 1
        response = client.http_client.request("get", DRIVE_FILES_API_V3_URL, params=params)
        if server_times is not None:
            server_times.append(server_time(response))
        body = response.json()
        for item in body.get("files", []):
            yield (
                DriveFile(
                    item["id"],
                    item.get("name", ""),
                    item.get("modifiedTime", ""),
                    item.get("modifiedByMeTime", ""),
                    item.get("permissions"),
                    item.get("appProperties") or {},
                ),
                page,
            )
        token = body.get("nextPageToken")
        if not token:
            return
        params = {**params, "pageToken": token}


def server_time(response) -> str | None:
    """The ``Date`` header of an answer as RFC 3339 (None without one): when Google's server
    answered, by Google's clock — not ours, which may be off. To the second only."""
    text = response.headers.get("Date") if response is not None else None
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def read_spreadsheet(client: gspread.Client, spreadsheet_id: str) -> dict:
    """The whole spreadsheet — every tab's values — in one spreadsheets.get call (see
    :func:`read_spreadsheet_dated`)."""
    return read_spreadsheet_dated(client, spreadsheet_id)[0]


def read_spreadsheet_dated(client: gspread.Client, spreadsheet_id: str) -> tuple[dict, str | None]:
    """(the whole spreadsheet, when Google answered: :func:`server_time`) in one
    spreadsheets.get call. The content read is the file as it was at some moment before that
    answer; Google does not say which.

    Raises :class:`SpreadsheetTooLarge` (a ``RequestException``: the pull records it as a
    failed read and goes on) when the answer is over :func:`max_spreadsheet_bytes`.
    """
    response = client.http_client.request(
        "get",
        SPREADSHEET_URL % spreadsheet_id,
        params={"includeGridData": "true", "fields": REPORT_FIELDS},
    )
    size, limit = len(response.content), max_spreadsheet_bytes()
    if size > limit:
        raise SpreadsheetTooLarge(
            f"spreadsheet too large to read: {size / 2**20:.1f} MB of content, over the "
            f"{limit / 2**20:.1f} MB limit (a tab filled with pasted data?)"
        )
    return json.loads(response.content), server_time(response)


def read_values_dated(
    client: gspread.Client, spreadsheet_id: str, range_: str
) -> tuple[list[list[str]], str | None]:
    """(the range's cells as the reader sees them — formatted text, rows of strings —, when
    Google answered: :func:`server_time`) in one spreadsheets.values.get call."""
    response = client.http_client.request(
        "get",
        SPREADSHEET_VALUES_URL % (spreadsheet_id, quote(range_, safe="")),
        params={"valueRenderOption": "FORMATTED_VALUE", "majorDimension": "ROWS"},
    )
    body = response.json()
    return [[str(c) for c in row] for row in body.get("values", [])], server_time(response)


def modified_time(client: gspread.Client, spreadsheet_id: str) -> str | None:
    """The file's modifiedTime now (one Drive files.get call): asked right after a read, it
    says whether anything changed since the listing."""
    response = client.http_client.request(
        "get",
        f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}",
        params={"fields": "modifiedTime", "supportsAllDrives": True},
    )
    return response.json().get("modifiedTime")


#: what the received-time rule reads of each revision (dbt: int_report_received)
REVISION_FIELDS = (
    "nextPageToken,revisions(id,modifiedTime,lastModifyingUser(emailAddress,displayName))"
)


#: what a review sheet's reading keeps of each revision: who (``me``: the pipeline itself) and when
REVIEW_REVISION_FIELDS = (
    "nextPageToken,revisions(id,modifiedTime,lastModifyingUser(emailAddress,displayName,me))"
)


def list_revisions(
    client: gspread.Client, spreadsheet_id: str, fields: str = REVISION_FIELDS
) -> tuple[list[dict], int]:
    """(the file's revisions, oldest first as Drive lists them; the calls it took: one per
    1,000). Google may merge or leave out revisions of Sheets files, which makes a revision's
    time later than the edits in it, never earlier."""
    params: dict = {"fields": fields, "pageSize": 1000}
    revisions: list[dict] = []
    calls = 0
    while True:
        calls += 1
        body = client.http_client.request(
            "get", f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}/revisions", params=params
        ).json()
        revisions += body.get("revisions", [])
        token = body.get("nextPageToken")
        if not token:
            return revisions, calls
        params = {**params, "pageToken": token}
