"""Who a unit's spreadsheet is shared with: anything beyond the unit and the Sở is noted.

A unit sheet may be shared with (the *allowed* accounts):

- its owner — the pipeline's service account, which created it (Drive role ``owner``);
- the unit(s) it belongs to: their ``contact_email`` in the catalogue (``units.csv``);
- the Sở: the contact address of the programme's consolidating body in the catalogue (the unit
  whose name is the programme's ``consolidating_body``), and the accounts listed in
  ``TONGHOP_SO_EMAILS`` (comma-separated; the Sở's staff who open the sheets).

Anything else is a *wide share*: "anyone with the link", public on the web, everyone in a
domain, or an account not in that list. The check reads the permissions Drive already returns:
the pull's own listing asks for each file's ``permissions`` (files.list,
``fields=files(…,permissions(…))``: no extra call), provisioning lists the period's files
once. Each check is recorded (``ops.sharing_checks``, one row per spreadsheet checked; its wide
shares in ``ops.sharing_findings``), the Sở is told in the reminder list and, for a share not
seen before or just taken back, by an alert. With ``TONGHOP_REVOKE_WIDE_SHARES=1`` the share
is taken back (``permissions.delete``, one call each); the unit's own share is never touched.

Drive leaves ``permissions`` out for files in a shared drive; such files are not judged.
Provisioning's listing finds the period's files by their appProperties (``tonghop_period``),
so a sheet registered by hand without them is checked by the pulls only.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import psycopg2
from gspread.exceptions import APIError
from psycopg2.extras import execute_values
from requests.exceptions import RequestException

from tonghop.catalogue import Catalogue

log = logging.getLogger(__name__)

ROLE_VI = {
    "writer": "sửa",
    "fileOrganizer": "sửa",
    "organizer": "sửa",
    "commenter": "nhận xét",
    "reader": "xem",
    "owner": "sở hữu",
}


def so_accounts(catalogue: Catalogue, programme_code: str) -> set[str]:
    """The Sở's accounts allowed on every unit sheet of the programme (lower case)."""
    accounts = {
        e.strip().lower() for e in os.environ.get("TONGHOP_SO_EMAILS", "").split(",") if e.strip()
    }
    body = (catalogue.programmes.get(programme_code) or {}).get("consolidating_body", "")
    accounts |= {
        u.contact_email.lower()
        for u in catalogue.units.values()
        if body and u.unit_name == body and u.contact_email
    }
    return accounts


def revoke_enabled() -> bool:
    """``TONGHOP_REVOKE_WIDE_SHARES=1``: take wide shares back (default: only note them)."""
    return os.environ.get("TONGHOP_REVOKE_WIDE_SHARES", "").strip().lower() in (
        "1",
        "true",
        "yes",
        "on",
    )


@dataclass
class WideShare:
    """One permission of a unit sheet beyond the unit and the Sở."""

    spreadsheet_id: str
    unit_codes: list[str]
    permission_id: str
    type: str
    role: str
    email_address: str | None = None
    domain: str | None = None
    allow_file_discovery: bool | None = None
    #: noted | revoked | revoke_failed
    action: str = "noted"
    error_message: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    def describe_vi(self) -> str:
        """Who can do what, in Vietnamese (for the Sở)."""
        can = ROLE_VI.get(self.role, self.role)
        if self.type == "anyone":
            if self.allow_file_discovery:
                return f"công khai trên Internet, ai cũng {can} được"
            return f"ai có đường liên kết cũng {can} được"
        if self.type == "domain":
            return f"mọi người thuộc miền {self.domain} đều {can} được"
        kind = "nhóm" if self.type == "group" else "tài khoản"
        return f"{kind} ngoài danh sách {self.email_address} được {can}"


def wide_shares(
    spreadsheet_id: str, unit_codes: list[str], permissions: list[dict], allowed: set[str]
) -> list[WideShare]:
    """The permissions of one spreadsheet that go beyond ``allowed`` (lower-case e-mails)."""
    found = []
    for p in permissions:
        email = (p.get("emailAddress") or "").lower()
        if p.get("role") == "owner":
            continue
        if p.get("type") in ("user", "group") and email in allowed:
            continue
        found.append(
            WideShare(
                spreadsheet_id,
                sorted(unit_codes),
                p.get("id", ""),
                p.get("type", ""),
                p.get("role", ""),
                p.get("emailAddress"),
                p.get("domain"),
                p.get("allowFileDiscovery"),
            )
        )
    return found


def allowed_for(
    catalogue: Catalogue,
    programme_code: str,
    unit_codes: list[str],
    service_account: str | Iterable[str] | None = None,
) -> set[str]:
    """The accounts allowed on the units' sheet: the Sở's, the units', and the pipeline's own
    service accounts (``service_account``: one e-mail, or those of every identity)."""
    allowed = so_accounts(catalogue, programme_code)
    allowed |= {
        catalogue.units[u].contact_email.lower()
        for u in unit_codes
        if u in catalogue.units and catalogue.units[u].contact_email
    }
    accounts = [service_account] if isinstance(service_account, str) else service_account or []
    allowed |= {a.lower() for a in accounts if a}
    return allowed


def judge(
    catalogue: Catalogue,
    programme_code: str,
    owners: dict[str, list[str]],
    permissions: dict[str, list[dict] | None],
    service_account: str | Iterable[str] | None = None,
) -> tuple[list[str], list[WideShare]]:
    """(spreadsheets checked, their wide shares) for ``owners`` (spreadsheet → unit codes) and
    the permissions Drive gave (None: not given, e.g. a shared drive — not checked)."""
    checked, found = [], []
    for spreadsheet_id, units in sorted(owners.items()):
        perms = permissions.get(spreadsheet_id)
        if perms is None:
            continue
        checked.append(spreadsheet_id)
        found += wide_shares(
            spreadsheet_id,
            units,
            perms,
            allowed_for(catalogue, programme_code, units, service_account),
        )
    return checked, found


def revoke(client, shares: list[WideShare], calls=None) -> None:
    """Take each share back (one ``drive.permissions.delete`` each); a failure is noted.
    ``client``: a gspread client, or a function of the spreadsheet id giving the client of the
    account the spreadsheet is shared with."""
    for share in shares:
        try:
            if calls is not None:
                calls["drive.permissions.delete"] += 1
            owner = client(share.spreadsheet_id) if callable(client) else client
            owner.remove_permission(share.spreadsheet_id, share.permission_id)
            share.action = "revoked"
            log.warning(
                "sharing: took back %s %s (%s) of spreadsheet %s",
                share.type,
                share.role,
                share.email_address or share.domain or share.permission_id,
                share.spreadsheet_id,
            )
        except APIError as exc:
            if exc.code == 404:  # already gone (a retried task took it back before)
                share.action = "revoked"
                continue
            from sheets.client import describe_error

            share.action, share.error_message = "revoke_failed", describe_error(exc)
        except RequestException as exc:
            from sheets.client import describe_error

            share.action, share.error_message = "revoke_failed", describe_error(exc)


def record(
    settings,
    period_code: str,
    source: str,
    run_id: str | None,
    checked: list[str],
    found: list[WideShare],
) -> list[WideShare]:
    """Record one check of ``checked`` spreadsheets and their wide shares; returns what an
    alert should say: the shares not already noted at those spreadsheets' previous check, and
    any taken back (or that could not be) now."""
    if not checked:
        return []
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                select f.spreadsheet_id, f.permission_id, f.role
                from ops.sharing_findings f
                join (select distinct on (spreadsheet_id) check_id from ops.sharing_checks
                      where spreadsheet_id = any(%s)
                      order by spreadsheet_id, check_id desc) last using (check_id)
                where f.action <> 'revoked'""",
                (checked,),
            )
            known = set(cur.fetchall())
            now = dt.datetime.now(dt.UTC)
            by_sheet: dict[str, list[WideShare]] = {}
            for share in found:
                by_sheet.setdefault(share.spreadsheet_id, []).append(share)
            ids = execute_values(
                cur,
                """
                insert into ops.sharing_checks (checked_at, source, run_id, period_code,
                    spreadsheet_id, wide_shares)
                values %s returning check_id, spreadsheet_id""",
                [
                    (now, source, run_id, period_code, sid, len(by_sheet.get(sid, [])))
                    for sid in checked
                ],
                fetch=True,
            )
            check_of = {sid: cid for cid, sid in ids}
            if found:
                execute_values(
                    cur,
                    """
                    insert into ops.sharing_findings (check_id, spreadsheet_id, unit_codes,
                        permission_id, permission_type, role, email_address, domain,
                        allow_file_discovery, action, error_message)
                    values %s""",
                    [
                        (
                            check_of[s.spreadsheet_id],
                            s.spreadsheet_id,
                            s.unit_codes,
                            s.permission_id,
                            s.type,
                            s.role,
                            s.email_address,
                            s.domain,
                            s.allow_file_discovery,
                            s.action,
                            s.error_message,
                        )
                        for s in found
                    ],
                )
        conn.commit()
    finally:
        conn.close()
    return [
        s
        for s in found
        if (s.spreadsheet_id, s.permission_id, s.role) not in known or s.action != "noted"
    ]


def alert(period_code: str, source: str, new: list[WideShare]) -> None:
    """Tell the Sở (tonghop.alerts) about wide shares not seen before."""
    if not new:
        return
    from tonghop import alerts

    lines = [
        f"{', '.join(s.unit_codes)}: {s.describe_vi()}"
        + (" — đã thu hồi" if s.action == "revoked" else "")
        + (f" — thu hồi không được: {s.error_message}" if s.action == "revoke_failed" else "")
        for s in new
    ]
    alerts.send(
        f"[tonghop] Bảng tính chia sẻ rộng hơn mức cho phép / wide sharing: "
        f"{len(new)} ({period_code})",
        {
            "period_code": period_code,
            "source": source,
            "shares": lines,
            "spreadsheet_ids": sorted({s.spreadsheet_id for s in new}),
        },
    )


def check(
    settings,
    catalogue: Catalogue,
    period_code: str,
    source: str,
    run_id: str | None,
    owners: dict[str, list[str]],
    permissions: dict[str, list[dict] | None],
    *,
    client=None,
    service_account: str | Iterable[str] | None = None,
    calls=None,
) -> list[WideShare]:
    """Judge, then :func:`act`; returns the wide shares found."""
    programme = catalogue.period(period_code).programme_code
    checked, found = judge(catalogue, programme, owners, permissions, service_account)
    return act(settings, period_code, source, run_id, checked, found, client=client, calls=calls)


def act(
    settings,
    period_code: str,
    source: str,
    run_id: str | None,
    checked: list[str],
    found: list[WideShare],
    *,
    client=None,
    calls=None,
) -> list[WideShare]:
    """Take the wide shares back when asked to, record the check, alert on what is new."""
    if found:
        log.warning(
            "sharing (%s %s): %d spreadsheet(s) shared beyond the unit and the Sở: %s",
            source,
            period_code,
            len({s.spreadsheet_id for s in found}),
            "; ".join(f"{s.spreadsheet_id} {s.type}/{s.role}" for s in found),
        )
        if revoke_enabled():
            if client is None:
                from ingest.registry import accounts_of
                from sheets.client import ClientPool

                pool = ClientPool(settings)
                account = accounts_of(settings, sorted({s.spreadsheet_id for s in found}))

                def client(spreadsheet_id: str):
                    return pool(account.get(spreadsheet_id))

            revoke(client, found, calls)
    new = record(settings, period_code, source, run_id, checked, found)
    alert(period_code, source, new)
    return found


def current_findings(conn, period_code: str) -> list[dict]:
    """The wide shares still there at each spreadsheet's latest check (for the reminder)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select f.unit_codes, f.permission_type, f.role, f.email_address, f.domain,
                   f.allow_file_discovery, f.spreadsheet_id, f.permission_id
            from ops.sharing_findings f
            join (select distinct on (spreadsheet_id) check_id from ops.sharing_checks
                  where period_code = %s
                  order by spreadsheet_id, check_id desc) last using (check_id)
            where f.action <> 'revoked'
            order by f.unit_codes, f.spreadsheet_id, f.permission_id""",
            (period_code,),
        )
        return [
            {
                "unit_codes": list(units),
                "spreadsheet_id": sid,
                "description": WideShare(
                    sid, list(units), pid, kind, role, email, domain, discover
                ).describe_vi(),
            }
            for units, kind, role, email, domain, discover, sid, pid in cur.fetchall()
        ]
