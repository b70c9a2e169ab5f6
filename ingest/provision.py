"""Provisioning: the blank report sheets of a period, created in Google Sheets (or the emulator).

``provision_period(settings, catalogue, period_code)`` creates — or reuses — the report of every
unit expected for the period and records it in ``ops.sheet_registry``. Two layouts, the
period's ``sheet_layout`` in the catalogue (or the ad hoc request) unless the caller names one:

- ``per_unit``   one spreadsheet per unit, with the tabs of :func:`sheets.layout.report_tabs`
                 (the twin of the xlsx template, ``sheets.template``); shared with the unit.
- ``per_period`` one spreadsheet for the period: the guide tab, then one tab per unit holding
                 that unit's parts stacked (info block, tasks, indicators, feedback); every unit
                 may edit the input cells of its own tab only.

A spreadsheet costs a small, fixed number of API calls: ``drive.files.create`` (with the
appProperties that say whose report it is), one ``spreadsheets.batchUpdate`` carrying the
spreadsheet's settings (locale vi_VN, time zone Asia/Ho_Chi_Minh: a new file has its creator's,
en_US for a service account) and every tab (titles, grid sizes, values, formats — input cells
plain text, dates day/month/year —, column widths, drop-downs, number and date rules,
protection) and, when sharing, one ``drive.permissions.create`` per unit. Re-running is
idempotent: only missing units are created. A unit already registered keeps its sheet, and
when the catalogue changed what its sheet says (a task renamed, a due date moved, the guide)
the change is written in place (:mod:`ingest.sheet_update`: one ``spreadsheets.get`` and one
``spreadsheets.batchUpdate`` per spreadsheet; only the cells the pipeline owns, never what the
unit typed); the registry keeps a hash of what was last written, so an unchanged sheet costs
nothing. Each run then lists the period's spreadsheets once (``drive.files.list``, one call per
1,000 files) to see whom they are shared with (:mod:`ingest.sharing`): a re-run with nothing
to create or update costs that one call — and which registered spreadsheet lacks our settings
(made before provisioning set them: no ``tonghop_locale`` appProperty): those get them, values
untouched (one ``spreadsheets.batchUpdate`` and one ``drive.files.update`` each, once).

A unit is registered only once its spreadsheet is complete (rendered and shared), so a crash
leaves at worst one unregistered spreadsheet (findable by its appProperties), never a registered
half-made one.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import psycopg2
from gspread.exceptions import APIError
from openpyxl.utils.cell import range_boundaries
from requests.exceptions import RequestException

from ingest.registry import RegistryEntry, entries_for_period, record_content, register
from ingest.sheet_update import Update, content_sha256, guide_update, tab_update, title_update
from sheets import layout
from sheets.client import ClientPool, identities, identity_of
from sheets.layout import TabSpec, app_properties, report_tabs, spreadsheet_title
from sheets.quota import soonest_first
from sheets.writer import (
    LIST,
    SheetsApi,
    client_account_email,
    spreadsheet_settings_request,
    tab_requests,
)
from tonghop.catalogue import SHEET_LAYOUTS, Catalogue, Unit
from tonghop.errors import one_line
from tonghop.quota import interleaved, shards_of

log = logging.getLogger(__name__)

LAYOUTS = tuple(SHEET_LAYOUTS)
#: the tab a new spreadsheet starts with (Google gives the first sheet of a new file gid 0)
FIRST_SHEET_ID = 0
MAX_TAB_TITLE = 100
PER_PERIOD_TITLE_SUFFIX = "Tổng hợp các đơn vị"
PER_PERIOD_GUIDE_NOTE = (
    "Mỗi đơn vị điền vào trang mang tên đơn vị mình (chỉ đơn vị đó được sửa các ô cần điền). "
    "Trong trang của đơn vị, các phần Thông tin, Nhiệm vụ, Chỉ tiêu và Khó khăn, kiến nghị "
    "nằm lần lượt từ trên xuống, cách nhau một dòng trống."
)


@dataclass
class ProvisionSummary:
    period_code: str
    layout: str
    #: unit codes whose report was made by this run / was already registered
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    #: calls this run made, by endpoint (drive.files.create, sheets.spreadsheets.batchUpdate, …)
    api_calls: dict[str, int] = field(default_factory=dict)
    #: existing units whose sheet was brought up to the catalogue in place by this run
    updated: list[str] = field(default_factory=list)
    #: unit code → what could not be done in place (a task not in the sheet…)
    update_notes: dict[str, list[str]] = field(default_factory=dict)
    #: unit code → why its sheet could not be read or written (the others went on)
    update_failed: dict[str, str] = field(default_factory=dict)
    #: unit code → spreadsheet id (created and existing)
    spreadsheet_ids: dict[str, str] = field(default_factory=dict)
    #: unit code → tab title ('' in the per_unit layout)
    tab_titles: dict[str, str] = field(default_factory=dict)
    #: shares of the period's sheets beyond the unit and the Sở (ingest.sharing), as dicts
    wide_shares: list[dict] = field(default_factory=list)
    #: registered spreadsheets that lacked our locale and time zone and got them by this run
    settled: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "period_code": self.period_code,
            "layout": self.layout,
            "created": list(self.created),
            "existing": list(self.existing),
            "updated": list(self.updated),
            "update_notes": {k: list(v) for k, v in self.update_notes.items()},
            "update_failed": dict(self.update_failed),
            "api_calls": dict(self.api_calls),
            "api_calls_total": sum(self.api_calls.values()),
            "spreadsheet_ids": dict(self.spreadsheet_ids),
            "tab_titles": dict(self.tab_titles),
            "wide_shares": list(self.wide_shares),
            "settled": list(self.settled),
        }


# ---------------------------------------------------------------------------- entry points
@dataclass
class ProvisionPlan:
    """What provisioning has to do for a period, decided from the registry and the catalogue
    alone (no API call): JSON-able, so that Airflow hands it from ``plan`` to the mapped
    ``provision_shard`` tasks and to ``finish``.

    ``items``: [unit code, "create" | "update", service account (None: the first of the pool)]
    — a unit without a sheet, and which account will create (and own) it; a registered unit
    whose sheet the catalogue changed since it was written. The accounts come in turn, so every
    shard spreads its calls over every account's quota."""

    period_code: str
    layout: str
    share: bool = True
    items: list[list] = field(default_factory=list)
    #: units already registered (whether or not their sheet needs an update)
    existing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> ProvisionPlan:
        return cls(**data)

    def shards(self, size: int) -> list[list[list]]:
        """The items in groups of at most ``size``; the per_period layout's in one group (one
        spreadsheet, written by one task)."""
        if self.layout == "per_period":
            return [self.items]
        return shards_of(self.items, size)


def plan_provision(
    settings, catalogue: Catalogue, period_code: str, *, layout: str | None = None, share=True
) -> ProvisionPlan:
    """Which units need a sheet and which sheets need the catalogue's change (one read of the
    registry), each new sheet given the service account with the fewest of the period's sheets
    (ties to the first of the pool)."""
    period = catalogue.period(period_code)
    layout = layout or period.sheet_layout
    if layout not in LAYOUTS:
        raise ValueError(f"Unknown layout {layout!r}; expected one of {', '.join(LAYOUTS)}")
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        registered = {e.unit_code: e for e in entries_for_period(conn, period_code)}
    finally:
        conn.close()
    plan = ProvisionPlan(period_code, layout, share)
    for unit_code in catalogue.placeholders(period.programme_code):
        log.warning("catalogue value still to fill in (shown nowhere): %s", unit_code)
    pool = [_recorded(identity) for identity in identities(settings)]
    load = Counter(_normal(e.service_account, pool) for e in registered.values())
    per_period_account = next(
        (e.service_account for e in registered.values() if e.layout == "per_period"), pool[0]
    )
    for unit in catalogue.expected_units(period_code):
        entry = registered.get(unit.unit_code)
        if entry is None:
            if layout == "per_period":
                account = per_period_account
            else:  # the least loaded account, the first of the pool on a tie
                account = min(pool, key=lambda a: (load[a], pool.index(a)))
                load[account] += 1
            plan.items.append([unit.unit_code, "create", account])
            continue
        plan.existing.append(unit.unit_code)
        tabs, title = _written(catalogue, period, unit, entry)
        if entry.content_sha256 != content_sha256(tabs, title):
            plan.items.append([unit.unit_code, "update", entry.service_account])
    plan.items = interleaved(plan.items, key=lambda item: item[2])
    return plan


def provision_units(
    settings,
    catalogue: Catalogue,
    period_code: str,
    layout: str,
    items: list[list],
    *,
    share: bool = True,
    client=None,
    conn=None,
    service_account_email: str | None = None,
    recover: bool = False,
) -> ProvisionSummary:
    """Do ``items`` (of a :class:`ProvisionPlan`): create each new unit's sheet as its service
    account, and write a catalogue change into each stale one in place.

    Safe to run again on the same items (an Airflow retry of a shard): a unit registered since
    the plan is left alone. A try killed between a sheet's creation and its registration leaves
    a spreadsheet marked for the unit but not registered; with ``recover`` (a retry) each
    account first lists the period's sheets once, and such a sheet is taken as the unit's when
    it was shared with the unit (its last step before registration) or else moved to the trash
    before the unit's sheet is made again — never two live sheets for one unit."""
    period = catalogue.period(period_code)
    own_conn = conn is None
    if own_conn:
        conn = psycopg2.connect(settings.dsn("loader"))
    apis = _Apis(settings, client, service_account_email)
    summary = ProvisionSummary(period_code, layout)
    try:
        registered = {e.unit_code: e for e in entries_for_period(conn, period_code)}
        creates = [(code, account) for code, action, account in items if action == "create"]
        updates = [code for code, action, _ in items if action == "update"]
        made = [
            (catalogue.unit(code), account) for code, account in creates if code not in registered
        ]
        for code, _ in creates:
            if code in registered:  # a retried shard: made by its earlier try of this run
                summary.created.append(code)
                summary.spreadsheet_ids[code] = registered[code].spreadsheet_id
                summary.tab_titles[code] = registered[code].tab_title
        try:
            if layout == "per_unit":
                orphans = (
                    _orphans(apis, period_code, {a for _, a in made}, registered)
                    if recover and made
                    else {}
                )
                # the account whose quota frees up soonest next (sheets.quota.soonest_first)
                ordered = soonest_first(
                    made,
                    lambda item: item[1],
                    lambda account: getattr(apis(account).http, "limiter", None),
                    "sheets_write",
                )
                for unit, account in ordered:
                    _provision_unit(
                        apis(account),
                        conn,
                        catalogue,
                        period,
                        unit,
                        share,
                        summary,
                        account,
                        orphans.get(unit.unit_code, []),
                    )
            elif made:
                existing_id = next(
                    (e.spreadsheet_id for e in registered.values() if e.layout == "per_period"),
                    None,
                )
                _provision_period_tabs(
                    apis(made[0][1]),
                    conn,
                    catalogue,
                    period,
                    [unit for unit, _ in made],
                    existing_id,
                    share,
                    summary,
                    made[0][1],
                )
            stale = [
                (catalogue.unit(code), registered[code]) for code in updates if code in registered
            ]
            _update_in_place(apis, conn, catalogue, period, stale, summary)
        finally:
            summary.api_calls = dict(sorted(apis.calls().items()))
        return summary
    finally:
        if own_conn:
            conn.close()


def finish_provision(
    settings,
    catalogue: Catalogue,
    plan: ProvisionPlan,
    results: list[ProvisionSummary],
    *,
    client=None,
    service_account_email: str | None = None,
    check_sharing: bool = True,
) -> ProvisionSummary:
    """Add up the shards' work; then, with ``check_sharing``, each service account lists the
    period's spreadsheets once (one ``drive.files.list`` call per 1,000 files each): any sheet
    shared beyond the unit and the Sở is noted (:mod:`ingest.sharing`), and any registered one
    made without our locale and time zone gets them."""
    summary = ProvisionSummary(plan.period_code, plan.layout)
    calls: Counter[str] = Counter()
    for result in results:
        summary.created += result.created
        summary.updated += result.updated
        summary.update_notes.update(result.update_notes)
        summary.update_failed.update(result.update_failed)
        summary.spreadsheet_ids.update(result.spreadsheet_ids)
        summary.tab_titles.update(result.tab_titles)
        calls.update(result.api_calls)
    conn = psycopg2.connect(settings.dsn("loader"))
    apis = _Apis(settings, client, service_account_email)
    try:
        registered = {e.unit_code: e for e in entries_for_period(conn, plan.period_code)}
        made = set(summary.created)
        expected = catalogue.expected_units(plan.period_code)
        for unit in expected:
            entry = registered.get(unit.unit_code)
            if entry is not None and unit.unit_code not in made:
                summary.existing.append(unit.unit_code)
                summary.spreadsheet_ids[unit.unit_code] = entry.spreadsheet_id
                summary.tab_titles[unit.unit_code] = entry.tab_title
        order = {unit.unit_code: i for i, unit in enumerate(expected)}
        summary.created.sort(key=lambda code: order.get(code, len(order)))
        summary.updated.sort()
        if check_sharing:
            summary.wide_shares, summary.settled = _check_sharing(
                settings, catalogue, conn, apis, plan.period_code
            )
    finally:
        conn.close()
        calls.update(apis.calls())
        summary.api_calls = dict(sorted(calls.items()))
    return summary


def provision_period(
    settings,
    catalogue: Catalogue,
    period_code: str,
    *,
    layout: str | None = None,
    client=None,
    conn=None,
    share: bool = True,
    service_account_email: str | None = None,
    check_sharing: bool = True,
) -> ProvisionSummary:
    """Create the missing reports of the period and write a catalogue change into the
    registered ones, in this process: :func:`plan_provision`, :func:`provision_units` on every
    item, :func:`finish_provision` (the DAG maps the items over shards instead).

    ``client`` is a gspread client used for every service account (default: one client per
    account of the pool, ``sheets.client.ClientPool``), ``conn`` a psycopg2 connection as the
    loader (default: opened on ``settings.dsn("loader")``). ``service_account_email`` is listed
    as editor of the protected ranges (default: the client's service-account e-mail, when it
    has one; the owner can edit them anyway). ``check_sharing``: see :func:`finish_provision`.
    """
    plan = plan_provision(settings, catalogue, period_code, layout=layout, share=share)
    units = provision_units(
        settings,
        catalogue,
        period_code,
        plan.layout,
        plan.items,
        share=share,
        client=client,
        conn=conn,
        service_account_email=service_account_email,
    )
    return finish_provision(
        settings,
        catalogue,
        plan,
        [units],
        client=client,
        service_account_email=service_account_email,
        check_sharing=check_sharing,
    )


class _Apis:
    """One :class:`SheetsApi` per service account (``apis(account)``, None: the first), or
    one for every account around a given ``client``; their calls added up by ``calls()``."""

    def __init__(self, settings, client=None, service_account_email: str | None = None):
        self.settings, self.client, self.email = settings, client, service_account_email
        self.pool = None if client is not None else ClientPool(settings)
        self.apis: dict[str | None, SheetsApi] = {}

    def __call__(self, account: str | None = None) -> SheetsApi:
        key = None if self.client is not None else identity_of(self.settings, account).email
        if key not in self.apis:
            client = self.client if self.client is not None else self.pool(account)
            self.apis[key] = SheetsApi(client, self.email or client_account_email(client))
        return self.apis[key]

    def calls(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for api in self.apis.values():
            total.update(api.calls)
        return total


def _recorded(identity) -> str | None:
    """What the registry records for a sheet made as ``identity``: its e-mail (None for the
    emulator's default user, which is no account)."""
    return identity.email if identity.emulator_user or identity.key_path else None


def _normal(account: str | None, pool: list[str | None]) -> str | None:
    """``account`` as the pool spells it (None: the first)."""
    if account is None:
        return pool[0]
    return next((a for a in pool if a and a.lower() == account.lower()), account)


def _written(catalogue: Catalogue, period, unit: Unit, entry: RegistryEntry):
    """(the tabs, the title) provisioning writes for the unit's registered sheet now."""
    if entry.layout == "per_period":
        programme = catalogue.programmes[period.programme_code]
        return (
            [
                period_guide_tab(programme, period),
                stacked_unit_tab(catalogue, unit.unit_code, period.period_code, entry.tab_title),
            ],
            period_spreadsheet_title(catalogue, period.period_code),
        )
    return (
        report_tabs(catalogue, unit.unit_code, period.period_code),
        spreadsheet_title(catalogue, unit.unit_code, period.period_code),
    )


def _orphans(
    apis: _Apis, period_code: str, accounts: set, registered: dict[str, RegistryEntry]
) -> dict[str, list]:
    """The period's spreadsheets marked for a unit but not registered (left by a try killed
    between creation and registration), by unit: [(file, account)], from one listing per
    account."""
    from sheets.client import list_spreadsheets

    known = {e.spreadsheet_id for e in registered.values()}
    found: dict[str, list] = {}
    for account in sorted(accounts, key=lambda a: (a is not None, a or "")):
        api, pages = apis(account), 0
        for drive_file, page in list_spreadsheets(api.client, period_code=period_code):
            pages = page
            unit_code = drive_file.app_properties.get("tonghop_unit")
            if unit_code and drive_file.spreadsheet_id not in known:
                known.add(drive_file.spreadsheet_id)  # a file two accounts see, once
                found.setdefault(unit_code, []).append((drive_file, account))
        api.calls[LIST] += max(pages, 1)
    return found


# ---------------------------------------------------------------------------- layouts
def _provision_unit(
    api: SheetsApi,
    conn,
    catalogue: Catalogue,
    period,
    unit: Unit,
    share: bool,
    summary: ProvisionSummary,
    account: str | None = None,
    orphans: list | None = None,
) -> None:
    """The unit's sheet, made as ``account`` (whose client ``api`` is), then registered;
    ``orphans``: the unit's unregistered sheets an earlier try left ([(file, account)])."""
    tabs = report_tabs(catalogue, unit.unit_code, period.period_code)
    title = spreadsheet_title(catalogue, unit.unit_code, period.period_code)
    spreadsheet_id = None
    for drive_file, _ in orphans or []:
        shared_with_unit = unit.contact_email and any(
            (p.get("emailAddress") or "").lower() == unit.contact_email.lower()
            for p in drive_file.permissions or []
        )
        if spreadsheet_id is None and share and shared_with_unit:
            # complete: its last step before registration (the share) was done
            spreadsheet_id = drive_file.spreadsheet_id
            log.info(
                "provision: %s's sheet %s made by an earlier try is registered",
                unit.unit_code,
                spreadsheet_id,
            )
            continue
        # not known to be complete (a share not made, or none to make): made again
        api.trash(drive_file.spreadsheet_id)
        log.warning(
            "provision: %s's unfinished sheet %s from an earlier try moved to the trash",
            unit.unit_code,
            drive_file.spreadsheet_id,
        )
    if spreadsheet_id is None:
        spreadsheet_id = api.create(title, app_properties(unit.unit_code, period.period_code))
        requests = [spreadsheet_settings_request()]
        for index, tab in enumerate(tabs):
            requests += tab_requests(
                tab, index, first=index == 0, service_account=api.service_account
            )
        api.batch_update(spreadsheet_id, requests)
        if share and unit.contact_email:
            api.share(spreadsheet_id, unit.contact_email)
    register(
        conn,
        [
            RegistryEntry(
                spreadsheet_id,
                period.programme_code,
                period.period_code,
                unit.unit_code,
                "per_unit",
                "",
                content_sha256(tabs, title),
                account,
            )
        ],
    )
    summary.created.append(unit.unit_code)
    summary.spreadsheet_ids[unit.unit_code] = spreadsheet_id
    summary.tab_titles[unit.unit_code] = ""


def _provision_period_tabs(
    api: SheetsApi,
    conn,
    catalogue: Catalogue,
    period,
    units: list[Unit],
    spreadsheet_id: str | None,
    share: bool,
    summary: ProvisionSummary,
    account: str | None = None,
) -> None:
    programme = catalogue.programmes[period.programme_code]
    guide = period_guide_tab(programme, period)
    file_title = period_spreadsheet_title(catalogue, period.period_code)
    requests: list[dict] = []
    if spreadsheet_id is None:
        spreadsheet_id = api.create(
            file_title,
            {
                "tonghop_period": period.period_code,
                "tonghop_layout": "per_period",
                **layout.SETTINGS_APP_PROPERTY,
            },
        )
        requests.append(spreadsheet_settings_request())
        requests += tab_requests(
            guide, FIRST_SHEET_ID, first=True, service_account=api.service_account
        )
        used_titles = {layout.TAB_GUIDE.casefold()}
        next_id = FIRST_SHEET_ID + 1
    else:  # the period's spreadsheet exists: add the missing units' tabs to it
        sheets = api.sheet_properties(spreadsheet_id)
        used_titles = {p["title"].casefold() for p in sheets}
        next_id = max((p["sheetId"] for p in sheets), default=0) + 1
    entries, titles = [], {}
    for unit in units:
        title = unit_tab_title(unit, used_titles)
        used_titles.add(title.casefold())
        tab = stacked_unit_tab(catalogue, unit.unit_code, period.period_code, title)
        requests += tab_requests(
            tab,
            next_id,
            service_account=api.service_account,
            unit_editor=unit.contact_email or None,
        )
        next_id += 1
        titles[unit.unit_code] = title
        entries.append(
            RegistryEntry(
                spreadsheet_id,
                period.programme_code,
                period.period_code,
                unit.unit_code,
                "per_period",
                title,
                content_sha256([guide, tab], file_title),
                account,
            )
        )
    # share first: the protected ranges name the units as editors, which Sheets accepts for
    # people who can already edit the file
    if share:
        for unit in units:
            if unit.contact_email:
                api.share(spreadsheet_id, unit.contact_email)
    api.batch_update(spreadsheet_id, requests)
    register(conn, entries)
    for unit in units:
        summary.created.append(unit.unit_code)
        summary.spreadsheet_ids[unit.unit_code] = spreadsheet_id
        summary.tab_titles[unit.unit_code] = titles[unit.unit_code]


def _update_in_place(
    apis: _Apis,
    conn,
    catalogue: Catalogue,
    period,
    existing: list[tuple[Unit, RegistryEntry]],
    summary: ProvisionSummary,
) -> None:
    """Write into the registered sheets what the catalogue now says of them, when it changed
    since they were last written (:mod:`ingest.sheet_update`). A sheet that cannot be read or
    written is noted and the others go on."""
    files: dict[str, list[tuple[Unit, RegistryEntry, list[TabSpec], str]]] = {}
    programme = catalogue.programmes[period.programme_code]
    guide = period_guide_tab(programme, period)
    per_period_title = period_spreadsheet_title(catalogue, period.period_code)
    for unit, entry in existing:
        if entry.layout == "per_period":
            tabs = [
                guide,
                stacked_unit_tab(catalogue, unit.unit_code, period.period_code, entry.tab_title),
            ]
            title = per_period_title
        else:
            tabs = report_tabs(catalogue, unit.unit_code, period.period_code)
            title = spreadsheet_title(catalogue, unit.unit_code, period.period_code)
        digest = content_sha256(tabs, title)
        if entry.content_sha256 != digest:
            files.setdefault(entry.spreadsheet_id, []).append((unit, entry, tabs, digest))
    for spreadsheet_id, stale in files.items():
        units = [unit.unit_code for unit, *_ in stale]
        api = apis(stale[0][1].service_account)
        try:
            resource = api.read_cells(spreadsheet_id)
            update = Update()
            sheets = resource.get("sheets", [])
            by_id = {s["properties"]["sheetId"]: s for s in sheets}
            by_title = {s["properties"]["title"]: s for s in sheets}
            _, first_entry, first_tabs, _ = stale[0]
            if first_entry.layout == "per_period":
                title_update(resource, per_period_title, update)
                if FIRST_SHEET_ID in by_id:
                    guide_update(guide, by_id[FIRST_SHEET_ID], update)
                for unit, entry, tabs, _ in stale:
                    sheet = by_title.get(entry.tab_title)
                    if sheet is None:
                        update.notes.append(
                            f"tab “{entry.tab_title}” of {unit.unit_code} not found"
                        )
                    else:
                        tab_update(tabs[1], sheet, update)
            else:
                unit = stale[0][0]
                title_update(
                    resource,
                    spreadsheet_title(catalogue, unit.unit_code, period.period_code),
                    update,
                )
                titles = {tab.title for tab in first_tabs}
                for sheet_id, tab in enumerate(first_tabs):
                    # by its title, else by the id it was made with (a tab the unit renamed)
                    sheet = by_title.get(tab.title)
                    if (
                        sheet is None
                        and by_id.get(sheet_id, {}).get("properties", {}).get("title") not in titles
                    ):
                        sheet = by_id.get(sheet_id)
                    if sheet is None:
                        update.notes.append(f"tab “{tab.title}” not found")
                    elif tab.title == layout.TAB_GUIDE:
                        guide_update(tab, sheet, update)
                    else:
                        tab_update(tab, sheet, update)
            if update.requests:
                api.batch_update(spreadsheet_id, update.requests)
        except (APIError, RequestException) as exc:
            log.warning("sheet %s of %s not updated in place: %s", spreadsheet_id, units, exc)
            for code in units:
                summary.update_failed[code] = one_line(exc)
            continue
        for unit, _, _, digest in stale:
            record_content(conn, period.period_code, [unit.unit_code], digest)
            summary.updated.append(unit.unit_code)
            if update.notes:
                summary.update_notes[unit.unit_code] = list(update.notes)
        log.info(
            "sheet %s of %s updated in place: %d cell(s) rewritten%s",
            spreadsheet_id,
            ", ".join(units),
            len(update.cells),
            f"; {'; '.join(update.notes)}" if update.notes else "",
        )
    summary.updated.sort()


def _check_sharing(
    settings, catalogue: Catalogue, conn, apis: _Apis, period_code: str
) -> tuple[list[dict], list[str]]:
    """One listing of the period's spreadsheets per service account: their permissions judged
    and recorded, and the registered ones without our settings given them. Out: (wide shares
    as dicts, the spreadsheets settled)."""
    from ingest import listing, sharing

    entries = entries_for_period(conn, period_code)
    owners: dict[str, list[str]] = {}
    for e in entries:
        owners.setdefault(e.spreadsheet_id, []).append(e.unit_code)
    accounts = listing.accounts_by_spreadsheet(settings, entries)

    def clients(account):
        return apis(account).client

    listed, _, pages = listing.list_as_accounts(clients, accounts, period_code=period_code)
    apis(None).calls[LIST] += pages
    permissions = {sid: f.permissions for sid, f in listed.items()}
    marks = {sid: f.app_properties for sid, f in listed.items()}
    settled = _settle(apis, accounts, [sid for sid in owners if sid in marks], marks)
    found = sharing.check(
        settings,
        catalogue,
        period_code,
        "provision",
        None,
        {sid: u for sid, u in owners.items() if sid in permissions},
        permissions,
        client=lambda sid: clients(accounts.get(sid)),
        service_account=listing.own_accounts(settings, clients, listing.listers(accounts))
        | {api.service_account for api in apis.apis.values() if api.service_account},
        calls=apis(None).calls,
    )
    return [s.as_dict() for s in found], settled


def _settle(
    apis: _Apis, accounts: dict, spreadsheet_ids: list[str], marks: dict[str, dict]
) -> list[str]:
    """Give our locale and time zone to each registered spreadsheet listed without our mark
    (provisioned before provisioning set them), then mark it: its values stay as they are —
    what a unit typed before keeps the meaning Sheets gave it then."""
    settled = []
    for spreadsheet_id in sorted(spreadsheet_ids):
        mark = marks.get(spreadsheet_id) or {}
        if all(mark.get(k) == v for k, v in layout.SETTINGS_APP_PROPERTY.items()):
            continue
        api = apis(accounts.get(spreadsheet_id))
        api.batch_update(spreadsheet_id, [spreadsheet_settings_request()])
        api.mark(spreadsheet_id, layout.SETTINGS_APP_PROPERTY)
        settled.append(spreadsheet_id)
    if settled:
        log.info(
            "provision: gave locale %s and time zone %s to %d spreadsheet(s) made without them",
            layout.SPREADSHEET_LOCALE,
            layout.SPREADSHEET_TIME_ZONE,
            len(settled),
        )
    return settled


# ---------------------------------------------------------------------------- titles and tabs
def period_spreadsheet_title(catalogue: Catalogue, period_code: str) -> str:
    return f"{catalogue.period(period_code).period_name} – {PER_PERIOD_TITLE_SUFFIX}"


def unit_tab_title(unit: Unit, used: set[str]) -> str:
    """The unit's short name (its code when that is taken), at most 100 characters."""
    for candidate in (unit.short_name, f"{unit.short_name} ({unit.unit_code})", unit.unit_code):
        candidate = " ".join((candidate or "").split())[:MAX_TAB_TITLE]
        if candidate and candidate.casefold() not in used:
            return candidate
    n = 2
    while f"{unit.unit_code} ({n})".casefold() in used:
        n += 1
    return f"{unit.unit_code} ({n})"


def period_guide_tab(programme: dict, period) -> TabSpec:
    lines = layout.guide_lines(programme, period)
    lines = lines[:3] + ["", PER_PERIOD_GUIDE_NOTE] + lines[3:]
    return TabSpec(
        title=layout.TAB_GUIDE, rows=[[line] for line in lines], column_widths=[110], title_rows=[0]
    )


def stacked_unit_tab(catalogue: Catalogue, unit_code: str, period_code: str, title: str) -> TabSpec:
    """The unit's info block, task, indicator and feedback tables stacked in one tab, a blank
    row between parts (the per_period layout); the parser reads it like the per_unit tabs."""
    parts = [
        t for t in report_tabs(catalogue, unit_code, period_code) if t.title != layout.TAB_GUIDE
    ]
    width = max(len(row) for part in parts for row in part.rows)
    stacked = TabSpec(title=title, rows=[], column_widths=[0] * width)
    for part in parts:
        if stacked.rows:
            stacked.rows.append([None] * width)
        offset = len(stacked.rows)
        stacked.rows += [list(row) + [None] * (width - len(row)) for row in part.rows]
        for c, w in enumerate(part.column_widths):
            stacked.column_widths[c] = max(stacked.column_widths[c], w)
        stacked.header_rows += [offset + r for r in part.header_rows]
        stacked.title_rows += [offset + r for r in part.title_rows]
        stacked.input_ranges += [shift_range(ref, offset) for ref in part.input_ranges]
        stacked.date_ranges += [shift_range(ref, offset) for ref in part.date_ranges]
        stacked.choices += [(shift_range(ref, offset), values) for ref, values in part.choices]
        stacked.choice_hints |= {
            shift_range(ref, offset): hint for ref, hint in part.choice_hints.items()
        }
        stacked.rules += [replace(r, ref=shift_range(r.ref, offset)) for r in part.rules]
    return stacked


def shift_range(ref: str, rows: int) -> str:
    """'B2:B9' moved down ``rows`` rows."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    start = layout.a1(min_row - 1 + rows, min_col - 1)
    end = layout.a1(max_row - 1 + rows, max_col - 1)
    return start if start == end else f"{start}:{end}"
