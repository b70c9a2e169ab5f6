"""Listing Drive as every service account the period's spreadsheets are read as.

A service account sees the files shared with it, and Drive says of each file when *that*
account last changed it (``modifiedByMeTime``): the pull skips a spreadsheet whose newest change
is our own check tab only if the account that wrote the tab is the one that lists it. So each
registered spreadsheet is judged by the listing of its own account (``ops.sheet_registry.
service_account``; None: the first of the pool), and the first account lists always (it sees
the files registered without an account). With one account this is the one listing it always
was; with five, five listing calls (one per 1,000 files each) instead of one.
"""

from __future__ import annotations

from sheets import client as gsheets
from sheets.writer import client_account_email
from tonghop.settings import Settings


def accounts_by_spreadsheet(settings: Settings, entries) -> dict[str, str | None]:
    """spreadsheet id → the account it is read as, None for the first of the pool (whether
    the registry names it or says nothing)."""
    first = gsheets.identity_of(settings, None).email.lower()
    return {
        e.spreadsheet_id: None
        if e.service_account is None or e.service_account.lower() == first
        else e.service_account
        for e in entries
    }


def listers(accounts: dict[str, str | None]) -> list[str | None]:
    """The accounts that list: the first of the pool (None) always, then each other account
    some registered spreadsheet is read as."""
    return [None] + sorted({a for a in accounts.values() if a is not None})


def own_accounts(settings: Settings, clients, accounts: list[str | None]) -> set[str]:
    """The e-mails the pipeline acts as — every account of the pool, and those the clients of
    ``accounts`` say they are —: allowed on every unit sheet."""
    return (
        {i.email for i in gsheets.identities(settings)}
        | {e for e in (client_account_email(clients(a)) for a in accounts) if e}
        | {a for a in accounts if a}
    )


def list_as_accounts(
    clients,
    accounts: dict[str, str | None],
    *,
    since: str | None = None,
    period_code: str | None = None,
) -> tuple[dict[str, gsheets.DriveFile], str | None, int]:
    """(the spreadsheets Drive lists — changed since ``since``, or marked for ``period_code``,
    or all —, each registered one as its own account sees it and any other file once; when
    Google answered the first page of the first listing; the calls it took, at least one per
    account). ``clients(account)`` gives the client of an account (None: the first)."""
    listed: dict[str, gsheets.DriveFile] = {}
    server_times: list[str] = []
    calls = 0
    for lister in listers(accounts):
        pages = 0
        for drive_file, page in gsheets.list_spreadsheets(
            clients(lister),
            modified_after=since,
            period_code=period_code,
            server_times=server_times,
        ):
            pages = page
            sid = drive_file.spreadsheet_id
            if sid in accounts:
                if accounts[sid] == lister:
                    listed[sid] = drive_file
            elif lister is None:
                listed[sid] = drive_file
        calls += max(pages, 1)
    return listed, (server_times[0] if server_times else None), max(calls, len(server_times), 1)
