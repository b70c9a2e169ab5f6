"""The list of units still missing at the end of a pull: a reminder a person can send.

Read from the marts (``fct_submission``: every expected report that is not counted — its one
rule — with its state as the reason, in :func:`publish.unit_state.missing_vi`'s words, the same
as the unit's mail and its "Kết quả kiểm tra" tab: sent with errors, not switched to "Đã nộp",
blank, no sheet), with each unit's contact address from the catalogue (the marts carry none),
written next to the run's other files as ``nhac_nho_<period>.txt`` in Vietnamese, and returned
for the task's XCom. The list ends with the unit sheets shared beyond the unit and the Sở
(``ingest.sharing``), for the Sở to act on. The mails themselves: ``publish.reminder_mail``.
"""

from __future__ import annotations

import psycopg2

from publish.bundle import run_folder
from publish.unit_state import missing_vi, read_states
from tonghop.catalogue import load_catalogue
from tonghop.settings import Settings


def missing_units(settings: Settings, period_code: str, run_id: str) -> dict:
    catalogue = load_catalogue(settings=settings)
    period = catalogue.period(period_code)
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        states = read_states(conn, period_code)
    finally:
        conn.close()
    units, awaiting = [], []
    for state in states.values():
        if state.is_counted:
            continue
        if state.has_nothing_to_do:  # valid, waiting for its reviewers: not the unit's to do
            awaiting.append(state)
            continue
        unit = catalogue.units.get(state.unit_code)
        units.append(
            {
                "unit_code": state.unit_code,
                "unit_name": state.unit_name,
                "email": unit.contact_email if unit else "",
                "state": state.state,
                # the words the unit's mail and its "Kết quả kiểm tra" tab use
                "reason": missing_vi(state, period),
            }
        )
    lines = [
        f"{period.period_name} — hạn nộp {period.deadline_with_basis_vi}",
        f"Đơn vị chưa nộp báo cáo hợp lệ: {len(units)}",
        "",
    ]
    lines += [
        f"{n}. {u['unit_name']} ({u['unit_code']}) — {u['reason']}"
        + (f" — {u['email']}" if u["email"] else "")
        for n, u in enumerate(units, 1)
    ]
    if awaiting:
        # the period requires review: valid reports the reviewers have still to decide on
        lines += ["", f"Báo cáo hợp lệ đang chờ duyệt (chưa được tính): {len(awaiting)}"]
        lines += [
            f"{n}. {s.unit_name} ({s.unit_code}) — {missing_vi(s, period)}"
            for n, s in enumerate(awaiting, 1)
        ]
    shares = wide_shares(settings, catalogue, period_code)
    if shares:
        lines += [
            "",
            f"Bảng tính chia sẻ rộng hơn mức cho phép: {len(shares)} "
            f"(chỉ đơn vị và Sở được mở; đề nghị đơn vị thu hồi quyền chia sẻ)",
        ]
        lines += [f"{n}. {s['unit_names']} — {s['description']}" for n, s in enumerate(shares, 1)]
    folder = run_folder(settings, period_code, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"nhac_nho_{period_code}.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return {
        "period_code": period_code,
        "missing": len(units),
        "units": units,
        "awaiting_review": [s.unit_code for s in awaiting],
        "wide_shares": shares,
        "reminder_path": str(path),
    }


def wide_shares(settings: Settings, catalogue, period_code: str) -> list[dict]:
    """The period's unit sheets shared beyond the unit and the Sở at their latest check
    (``ops.sharing_findings``, read as the loader: bi_reader sees the marts only)."""
    from ingest.sharing import current_findings

    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        shares = current_findings(conn, period_code)
    finally:
        conn.close()
    for share in shares:
        share["unit_names"] = "; ".join(
            f"{catalogue.units[u].unit_name} ({u})" if u in catalogue.units else u
            for u in share["unit_codes"]
        )
    return shares
