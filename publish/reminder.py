"""The list of units still missing at the end of a pull: a reminder a person can send.

Read from the marts (``fct_submission``: every expected report that is not counted — its one
rule — with its state as the reason: sent with errors, not switched to "Đã nộp", blank, no
sheet), with each unit's contact address from
the catalogue (the marts carry none), written next to the run's other files as
``nhac_nho_<period>.txt`` in Vietnamese, and returned for the task's XCom. The list ends with
the unit sheets shared beyond the unit and the Sở (``ingest.sharing``), for the Sở to act on.
"""

from __future__ import annotations

import psycopg2

from publish.bundle import run_folder
from publish.marts import query
from tonghop.catalogue import load_catalogue
from tonghop.settings import Settings


def missing_units(settings: Settings, period_code: str, run_id: str) -> dict:
    catalogue = load_catalogue(settings=settings)
    period = catalogue.period(period_code)
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        rows = query(
            conn,
            """
            select unit_code, unit_name_at_period, submission_state, latest_error_count,
                   latest_is_blocked, latest_has_content
            from marts.fct_submission
            where period_code = %s and not is_counted
            order by unit_code""",
            (period_code,),
        )
    finally:
        conn.close()
    units = []
    for r in rows:
        units_state = r["submission_state"]
        if units_state == "con_loi" and not r["latest_has_content"]:
            # its one error is "Chưa điền báo cáo" (sheet.not_filled): nothing to fix but that
            why = "đã chọn “Đã nộp” nhưng chưa điền báo cáo"
        elif units_state == "con_loi" and r["latest_error_count"]:
            why = (
                f"đã nộp nhưng còn {r['latest_error_count']} lỗi cần sửa (xem trang "
                "“Kết quả kiểm tra”)"
            )
        elif units_state == "con_loi":
            why = "đã nộp nhưng bảng tính sai mã đơn vị hoặc sai kỳ (xem trang “Kết quả kiểm tra”)"
        elif units_state == "chua_chon_da_nop":
            why = "đã điền nhưng chưa chọn “Đã nộp”"
        elif units_state == "chua_dien":
            why = "chưa điền báo cáo"
        else:
            why = "chưa có bảng tính nào đọc được"
        unit = catalogue.units.get(r["unit_code"])
        units.append(
            {
                "unit_code": r["unit_code"],
                "unit_name": r["unit_name_at_period"],
                "email": unit.contact_email if unit else "",
                "state": units_state,
                "reason": why,
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
