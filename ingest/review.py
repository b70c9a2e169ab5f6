"""Reading the reviewers' decisions: each review sheet of a period, landed append-only.

A period that requires review has review sheets ("Duyệt báo cáo", ``sheets.review_layout``),
made by the publication (``publish.review_sheet``) and registered in ``ops.review_sheets``.
Each reporting cycle reads every one of them (one values.get call each, as the service account
that made it) and, when its content changed since the last reading, lands the reading in
``raw.review_readings`` — the table as read, when Google answered, and the file's Drive
revisions listed right after (one revisions.list call: who edited it, and when) — and each row
holding a decision or a reason, parsed, in ``parsed.review_decisions``. Nothing is ever updated
or deleted: what a reviewer wrote is never lost, and dbt derives the decisions from it
(``int_review_decisions``: who decided and when, which decision holds).

A row the pipeline cannot apply — a decision that is not one of the list, a return without a
reason, a unit that does not report for the period or is not this reviewer's, a row that names
no version of the unit's report — is stored with its problem and the Vietnamese message the
review sheet shows next to it; it changes nothing. Who reports, to whom, and which versions
exist are read from the marts (``fct_submission``, ``fct_report_version``), the warehouse's one
definition.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from dataclasses import dataclass, field

import psycopg2
from gspread.exceptions import APIError
from psycopg2.extras import Json
from requests.exceptions import RequestException

from ingest.land import content_sha256, storable
from sheets import client as gsheets
from sheets import review_layout as rl
from tonghop.settings import Settings
from tonghop.vn import shorten

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ParsedDecision:
    """One row of a review sheet holding a decision or a reason, as parsed: the decision to
    apply (``decision_code``) or why it cannot be (``problem_code``, ``message_vi``)."""

    row_number: int  # 1-based, as the reviewer sees it
    unit_code: str | None
    sheet_version_id: int | None
    decision_text: str | None
    decision_code: str | None
    reason: str | None
    problem_code: str | None = None
    message_vi: str | None = None
    cell_ref: str | None = None


@dataclass(frozen=True)
class ReviewContext:
    """What a decision is checked against, from the marts: the period's expected units, the
    reviewer that reviews each first (its parent's code, or :data:`~sheets.review_layout.TOP`),
    and the versions of each unit's report."""

    expected: frozenset[str]
    first_reviewer: dict[str, str]
    versions: frozenset[tuple[str, int]]


def parse_decisions(
    rows: list[list[str]], reviewer_code: str, context: ReviewContext
) -> list[ParsedDecision]:
    """Every row of the table that holds a decision or a reason, checked: a decision is
    applied only when it is one of the list, a return has its reason, the row names a unit
    of the period that this reviewer reviews, and a version of that unit's report."""
    header, table = rl.table_rows(rows)
    out: list[ParsedDecision] = []
    if header is None:
        return out
    for row in table:
        if not row.has_input:
            continue
        number = row.row_index + 1
        decision_ref = rl.cell_ref(row.row_index, rl.DECISION)
        reason_ref = rl.cell_ref(row.row_index, rl.REASON)
        code = rl.read_decision(row.decision)
        version = _version_id(row.version_id)
        base = {
            "row_number": number,
            "unit_code": row.unit_code,
            "sheet_version_id": version,
            "decision_text": row.decision,
            "reason": row.reason,
        }
        problem = _problem(row, code, version, reviewer_code, context, decision_ref, reason_ref)
        if problem:
            problem_code, message, ref = problem
            out.append(
                ParsedDecision(
                    **base,
                    decision_code=None,
                    problem_code=problem_code,
                    message_vi=message,
                    cell_ref=ref,
                )
            )
        else:
            out.append(ParsedDecision(**base, decision_code=code, cell_ref=decision_ref))
    return out


def _version_id(text: str | None) -> int | None:
    if not text:
        return None
    digits = text.replace(".", "").replace(",", "").strip()
    return int(digits) if digits.isdigit() else None


def _problem(row, code, version, reviewer_code, context, decision_ref, reason_ref):
    """(problem code, the reviewer's message, the cell it points to), or None."""
    labels = " hoặc ".join(f"“{label}”" for label in rl.DECISIONS)
    unchanged = "Quyết định ở dòng này chưa được ghi nhận, báo cáo giữ nguyên tình trạng."
    unit = row.unit_code
    unit_ref = rl.cell_ref(row.row_index, rl.UNIT_CODE)
    version_ref = rl.cell_ref(row.row_index, rl.VERSION_ID)
    if not row.decision:
        return (
            "decision.missing",
            f"Ô {decision_ref} chưa chọn quyết định: chọn {labels} trong danh sách (khi trả lại, "
            f"lý do ở ô {reason_ref} sẽ được gửi cho đơn vị). {unchanged}",
            decision_ref,
        )
    if code is None:
        return (
            "decision.unknown",
            f"Ô {decision_ref} ghi “{shorten(row.decision, 40)}”, không phải một quyết định: "
            f"chỉ chọn {labels} trong danh sách. {unchanged}",
            decision_ref,
        )
    if code == "tra_lai" and not row.reason:
        return (
            "decision.no_reason",
            f"Trả lại báo cáo cần ghi lý do ở ô {reason_ref} để đơn vị biết phải sửa gì. "
            "Báo cáo chưa bị trả lại; ghi lý do rồi hệ thống sẽ ghi nhận ở lần đọc sau.",
            reason_ref,
        )
    if not unit:
        return (
            "decision.no_unit",
            f"Dòng {row.row_index + 1} không có mã đơn vị (ô {unit_ref}): chỉ duyệt ở các dòng "
            f"hệ thống đã liệt kê. {unchanged}",
            unit_ref,
        )
    if unit not in context.expected:
        return (
            "decision.unit_not_in_period",
            f"Đơn vị “{shorten(unit, 40)}” (ô {unit_ref}) không phải báo cáo kỳ này: chỉ duyệt "
            f"ở các dòng hệ thống đã liệt kê. {unchanged}",
            unit_ref,
        )
    if reviewer_code != rl.TOP and context.first_reviewer.get(unit) != reviewer_code:
        return (
            "decision.not_reviewers_unit",
            f"Báo cáo của đơn vị {unit} (ô {unit_ref}) không do cấp này duyệt trước. {unchanged}",
            unit_ref,
        )
    if version is None or (unit, version) not in context.versions:
        return (
            "decision.unknown_version",
            f"Ô {version_ref} không chỉ ra bản báo cáo nào của đơn vị {unit}: mỗi quyết định "
            f"áp dụng cho đúng bản ghi ở dòng đó, chỉ duyệt ở các dòng hệ thống đã liệt kê. "
            f"{unchanged}",
            version_ref,
        )
    return None


# ------------------------------------------------------------------ reading and landing
@dataclass
class ReviewSummary(gsheets.CountsCalls):
    period_code: str
    sheets: int = 0
    #: readings landed (the sheet changed since its last reading)
    new_readings: int = 0
    decisions: int = 0
    problems: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    api_calls: Counter = field(default_factory=Counter)


def review_context(settings: Settings, period_code: str) -> ReviewContext | None:
    """The period's expected units, first reviewers and versions, from the marts (None before
    they are built)."""
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        with conn.cursor() as cur:
            cur.execute("select to_regclass('marts.fct_submission') is not null")
            if not cur.fetchone()[0]:
                return None
            cur.execute(
                """select unit_code, coalesce(parent_reviewer_code, %s) from marts.fct_submission
                   where period_code = %s""",
                (rl.TOP, period_code),
            )
            first = dict(cur.fetchall())
            cur.execute(
                """select unit_code, sheet_version_id from marts.fct_report_version
                   where period_code = %s""",
                (period_code,),
            )
            versions = frozenset((u, int(v)) for u, v in cur.fetchall())
    finally:
        conn.close()
    return ReviewContext(frozenset(first), first, versions)


def registered_sheets(conn, period_code: str) -> list[tuple[str, str, str | None, str | None]]:
    """(reviewer code, spreadsheet id, service account, sha256 of its last reading) of each
    review sheet of the period."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select s.reviewer_code, s.spreadsheet_id, s.service_account,
                   (select r.content_sha256 from raw.review_readings r
                    where r.spreadsheet_id = s.spreadsheet_id
                    order by r.review_reading_id desc limit 1)
            from ops.review_sheets s where s.period_code = %s
            order by s.reviewer_code""",
            (period_code,),
        )
        return cur.fetchall()


def read_reviews(
    settings: Settings, period_code: str, pull_run_id: str, *, client=None
) -> ReviewSummary:
    """Read every review sheet of the period and land what changed (see the module's doc).
    A sheet that cannot be read is recorded in the summary and read again next cycle."""
    summary = ReviewSummary(period_code)
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        sheets = registered_sheets(conn, period_code)
        summary.sheets = len(sheets)
        if not sheets:
            return summary
        context = review_context(settings, period_code)
        pool = gsheets.ClientPool(settings) if client is None else None
        for reviewer_code, spreadsheet_id, account, last_sha in sheets:
            api = client if client is not None else pool(account)
            try:
                summary.api_calls["sheets.spreadsheets.values.get"] += 1
                rows, read_at = gsheets.read_values_dated(api, spreadsheet_id, rl.TAB_TITLE)
                sha = content_sha256({"rows": rows})
                if sha == last_sha:
                    continue
                summary.api_calls["drive.revisions.list"] += 1
                revisions, _ = gsheets.list_revisions(
                    api, spreadsheet_id, gsheets.REVIEW_REVISION_FIELDS
                )
            except (APIError, RequestException) as exc:
                summary.failed[spreadsheet_id] = gsheets.describe_error(exc)
                log.warning("review sheet %s not read: %s", spreadsheet_id, summary.failed)
                continue
            if context is None:
                # no marts to check the decisions against: read again once they are built
                log.warning("review sheet %s: the marts are not built yet", spreadsheet_id)
                continue
            parsed = parse_decisions(rows, reviewer_code, context)
            _land(
                conn,
                period_code,
                reviewer_code,
                spreadsheet_id,
                account,
                pull_run_id,
                rows,
                sha,
                read_at,
                revisions,
                parsed,
            )
            summary.new_readings += 1
            summary.decisions += sum(1 for p in parsed if p.decision_code)
            summary.problems += sum(1 for p in parsed if p.problem_code)
    finally:
        conn.close()
    log.info(
        "review sheets of %s: %d read, %d changed, %d decision(s), %d refused",
        period_code,
        summary.sheets,
        summary.new_readings,
        summary.decisions,
        summary.problems,
    )
    return summary


def _land(
    conn,
    period_code,
    reviewer_code,
    spreadsheet_id,
    account,
    pull_run_id,
    rows,
    sha,
    read_at,
    revisions,
    parsed,
) -> None:
    """One reading and its parsed rows, in one transaction."""
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into raw.review_readings (period_code, reviewer_code, spreadsheet_id, read_at,
                content_sha256, payload, revisions, service_account, pull_run_id)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
            returning review_reading_id""",
            (
                period_code,
                reviewer_code,
                spreadsheet_id,
                read_at or dt.datetime.now(dt.UTC).isoformat(),
                sha,
                Json(storable({"rows": rows})["rows"]),
                Json(storable({"r": revisions})["r"]) if revisions is not None else None,
                account,
                pull_run_id,
            ),
        )
        (reading_id,) = cur.fetchone()
        for p in parsed:
            cur.execute(
                """
                insert into parsed.review_decisions (review_reading_id, row_number, unit_code,
                    sheet_version_id, decision_text, decision_code, reason, problem_code,
                    message_vi, cell_ref)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    reading_id,
                    p.row_number,
                    p.unit_code,
                    p.sheet_version_id,
                    p.decision_text,
                    p.decision_code,
                    p.reason,
                    p.problem_code,
                    p.message_vi,
                    p.cell_ref,
                ),
            )
    conn.commit()
