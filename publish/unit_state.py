"""Whether a unit's report counts, said in one Vietnamese sentence, the same everywhere a unit looks.

The state itself is the warehouse's: ``marts.fct_submission.submission_state`` (the one rule of
which reports count, on time or late — see that model). This module only words it, for the
"Kết quả kiểm tra" tab (``publish.unit_feedback``), the reminders (``publish.reminder``: the list
for the Sở and the mails to units) and ``tonghop check`` offline, so a unit reads the same
sentence wherever it looks:

- counted: "Báo cáo đã được tính: nộp hợp lệ, đúng hạn (nhận lúc …)." — and, when a newer
  version does not count, why the counted figures are still those of the earlier one;
- not counted: "Báo cáo chưa được tính: <what is missing>." with what to do;
- always the deadline, and "đã quá hạn" once it has passed.

``tonghop check`` reads a file nobody has received yet: it says what the report would be if sent
now (:func:`version_state`, the version part of the model's rule; ``tests/test_unit_feedback.py``
checks that it agrees with the model on every report of the demo province).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sheets import layout
from tonghop.catalogue import Period
from tonghop.vn import VN_TZ, format_vi

log = logging.getLogger(__name__)

#: fct_submission.submission_state values that count (is_counted)
COUNTED = ("hop_le_dung_han", "hop_le_tre_han")

#: fct_submission's columns this module reads, in :class:`UnitState`'s order
COLUMNS = (
    "unit_code",
    "unit_name_at_period",
    "submission_state",
    "received_at",
    "days_late",
    "is_overdue",
    "counted_sheet_version_id",
    "latest_sheet_version_id",
    "latest_is_submitted",
    "latest_is_blocked",
    "latest_error_count",
    "latest_has_content",
    # review (issue 24): where the report stands with its reviewers, when the period requires it
    "approval_state",
    "latest_valid_version_number",
    "has_version_awaiting_review",
    "returned_by",
    "return_reason",
    "returned_at",
)


@dataclass(frozen=True)
class UnitState:
    """One expected report's row of ``marts.fct_submission`` (the columns in :data:`COLUMNS`)."""

    unit_code: str
    unit_name: str
    state: str
    received_at: dt.datetime | None = None
    days_late: int = 0
    is_overdue: bool = False
    counted_sheet_version_id: int | None = None
    latest_sheet_version_id: int | None = None
    latest_is_submitted: bool | None = None
    latest_is_blocked: bool | None = None
    latest_error_count: int | None = None
    latest_has_content: bool | None = None
    approval_state: str | None = None
    latest_valid_version_number: int | None = None
    has_version_awaiting_review: bool | None = None
    #: who returned the latest valid version: 'tong_hop' (the Sở) or the parent unit's code
    returned_by: str | None = None
    return_reason: str | None = None
    returned_at: dt.datetime | None = None

    @property
    def is_counted(self) -> bool:
        return self.state in COUNTED

    @property
    def newer_version_pending(self) -> bool:
        """Counted, but a newer version (with errors, or switched back to "Chưa nộp") does not
        replace the counted figures."""
        return (
            self.is_counted
            and self.latest_sheet_version_id is not None
            and self.latest_sheet_version_id != self.counted_sheet_version_id
        )

    @property
    def key(self) -> str:
        """What the sentence depends on: a unit's tab is written again when this changes."""
        return "|".join(
            str(v)
            for v in (
                self.state,
                self.received_at and self.received_at.isoformat(),
                self.is_overdue,
                self.counted_sheet_version_id,
                self.latest_sheet_version_id,
                self.approval_state,
                self.latest_valid_version_number,
                self.has_version_awaiting_review,
                self.returned_at and self.returned_at.isoformat(),
            )
        )

    @property
    def has_nothing_to_do(self) -> bool:
        """A valid report waiting for its reviewers: the unit has nothing to do (no reminder)."""
        return self.state == "cho_duyet"


def read_states(conn, period_code: str, unit_codes=None) -> dict[str, UnitState]:
    """The period's rows of ``marts.fct_submission`` (a connection that reads the marts); none
    before the warehouse's first build."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_submission') is not null")
        if not cur.fetchone()[0]:
            log.warning("marts.fct_submission is not built yet: no unit's state to tell")
            return {}
        cur.execute(
            f"""
            select {", ".join(COLUMNS)} from marts.fct_submission
            where period_code = %s and (%s::text[] is null or unit_code = any(%s::text[]))
            order by unit_code""",
            (period_code, unit_codes and list(unit_codes), unit_codes and list(unit_codes)),
        )
        return {row[0]: UnitState(*row) for row in cur.fetchall()}


def submitted_cell() -> str:
    """'Thông tin!B14': where a unit chooses "Đã nộp"."""
    return f"{layout.TAB_INFO}!{layout.info_cell('submitted')}"


def local_time(when: dt.datetime) -> str:
    """'14:05 ngày 23/11/2026' in Vietnam's time."""
    when = when.astimezone(VN_TZ)
    return f"{when:%H:%M} ngày {layout.vi_date(when.date())}"


def deadline_clause(period: Period, overdue: bool) -> str:
    """'hạn nộp chậm nhất 23 giờ 59 phút ngày 20/06/2026' (+ '(giả định …)', + ', đã quá hạn')."""
    return f"hạn nộp {period.deadline_with_basis_vi}" + (", đã quá hạn" if overdue else "")


def reviewer_name(code: str | None, period: Period) -> str:
    """Who reviews: the consolidating body of the period's programme ('tong_hop', the Sở), or
    the parent unit of that code (the catalogue's names)."""
    from tonghop.catalogue import load_catalogue

    catalogue = load_catalogue()
    if code and code != "tong_hop" and code in catalogue.units:
        return catalogue.units[code].unit_name
    programme = catalogue.programmes.get(period.programme_code, {})
    return programme.get("consolidating_body") or "cơ quan tổng hợp"


def _version(state: UnitState) -> str:
    return (
        f"phiên bản số {format_vi(state.latest_valid_version_number)}"
        if state.latest_valid_version_number
        else "bản đã nộp"
    )


def returned_vi(state: UnitState, period: Period) -> str:
    """'Sở … đã trả lại bản nộp lần 1 lúc 09:00 ngày 12/06/2025, lý do: “…”' (lower-case
    start where it continues a sentence)."""
    when = f" lúc {local_time(state.returned_at)}" if state.returned_at else ""
    return (
        f"{reviewer_name(state.returned_by, period)} đã trả lại {_version(state)}{when}, "
        f"lý do: “{state.return_reason or ''}”"
    )


def missing_vi(state: UnitState, period: Period | None = None) -> str:
    """What keeps a report that does not count out, as a thing to do (lower case)."""
    if state.state == "bi_tra_lai" and period is not None:
        return (
            f"{returned_vi(state, period)} — sửa báo cáo theo ý kiến đó, giữ “Đã nộp” tại ô "
            f"{submitted_cell()} để gửi lại bản mới"
        )
    if state.state == "bi_tra_lai":
        return f"báo cáo bị trả lại, lý do: “{state.return_reason or ''}” — sửa rồi gửi lại"
    if state.state == "cho_duyet":
        who = reviewer_name(_first_reviewer(state), period) if period is not None else "cấp trên"
        return f"{_version(state)} hợp lệ, đang chờ {who} duyệt — đơn vị không cần làm gì thêm"
    errors = state.latest_error_count or 0
    if state.state == "con_loi" and state.latest_has_content is False:
        # its one error is "Chưa điền báo cáo" (sheet.not_filled): nothing to fix but that
        return "đã chọn “Đã nộp” nhưng chưa điền báo cáo — điền các trang báo cáo"
    if state.state == "con_loi" and state.latest_is_blocked:
        return (
            f"còn {format_vi(errors)} lỗi cần sửa, trong đó có lỗi khiến cả bảng tính không được "
            "nhận (xem bảng các vấn đề)"
        )
    if state.state == "con_loi":
        return f"còn {format_vi(errors)} lỗi cần sửa (xem bảng các vấn đề)"
    if state.state == "chua_chon_da_nop":
        also = f", và sửa {format_vi(errors)} lỗi" if errors else ""
        return f"đã điền nhưng chưa chọn “Đã nộp” tại ô {submitted_cell()}{also}"
    if state.state == "chua_dien":
        return (
            "chưa điền báo cáo — điền các trang báo cáo rồi chọn “Đã nộp” tại ô " + submitted_cell()
        )
    return "chưa đọc được bảng tính của đơn vị — mở bảng tính được cấp (đường dẫn trong thư giao nhiệm vụ)"


def _first_reviewer(state: UnitState) -> str | None:
    """Whose decision a report awaiting review waits for: its parent unit's (approval state
    cho_cap_tren_duyet: the parent's code is not in the marts' row here, so the catalogue's
    parent), else the Sở's."""
    if state.approval_state != "cho_cap_tren_duyet":
        return "tong_hop"
    from tonghop.catalogue import load_catalogue

    unit = load_catalogue().units.get(state.unit_code)
    return unit.parent_unit_code if unit and unit.parent_unit_code else "tong_hop"


def sentence(state: UnitState, period: Period) -> str:
    """The one sentence: does the report count, and if not, what is missing; the deadline.
    When the period requires review: who accepted it, and what became of an edit made after
    (awaiting review, or returned with the reviewer's reason)."""
    if state.is_counted:
        when = (
            "đúng hạn"
            if state.state == "hop_le_dung_han"
            else f"trễ hạn {format_vi(state.days_late)} ngày"
        )
        received = f"nhận lúc {local_time(state.received_at)}; " if state.received_at else ""
        accepted = (
            f", đã được {reviewer_name('tong_hop', period)} chấp nhận"
            if state.approval_state == "da_chap_nhan"
            else ""
        )
        text = (
            f"Báo cáo đã được tính: nộp hợp lệ, {when} ({received}"
            f"{deadline_clause(period, False)}){accepted}."
        )
        kept = "số liệu được tổng hợp vẫn là của bản đã được chấp nhận."
        if state.has_version_awaiting_review:
            return text + (
                f" {_version(state).capitalize()} (đơn vị sửa sau khi được chấp nhận) đang chờ "
                f"duyệt; {kept}"
            )
        if state.approval_state == "da_chap_nhan" and state.returned_by:
            returned = returned_vi(state, period)
            return text + f" {returned[0].upper()}{returned[1:]}; {kept}"
        if state.newer_version_pending:
            if state.latest_is_submitted and (state.latest_error_count or 0):
                why = f"còn {format_vi(state.latest_error_count)} lỗi"
            elif state.latest_is_submitted:
                why = "có lỗi khiến cả bảng tính không được nhận"
            else:
                why = "đang để “Chưa nộp”"
            text += (
                f" Bản sửa mới nhất {why} nên chưa thay số liệu đã tính; số liệu được tổng hợp "
                "vẫn là của bản hợp lệ trước."
            )
        return text
    return (
        f"Báo cáo chưa được tính: {missing_vi(state, period)}; "
        f"{deadline_clause(period, state.is_overdue)}."
    )


def version_state(
    *, has_content: bool, is_submitted: bool, is_blocked: bool, error_count: int
) -> str:
    """What one version would make of a report on its own — the version part of
    fct_submission's rule: 'hop_le' (counts once received), 'con_loi', 'chua_chon_da_nop',
    'chua_dien'."""
    if is_submitted and not is_blocked and not error_count:
        return "hop_le"
    if is_submitted:
        return "con_loi"
    if has_content:
        return "chua_chon_da_nop"
    return "chua_dien"


def offline_sentence(
    period: Period,
    *,
    has_content: bool,
    is_submitted: bool,
    is_blocked: bool,
    error_count: int,
    now: dt.datetime,
) -> str:
    """``tonghop check``'s sentence: what the report would be if this file were received now."""
    would = version_state(
        has_content=has_content,
        is_submitted=is_submitted,
        is_blocked=is_blocked,
        error_count=error_count,
    )
    late = now > period.on_time_until
    if would == "hop_le":
        timing = "trễ hạn" if late else "đúng hạn"
        return (
            f"Nếu gửi bản này bây giờ, báo cáo được tính: nộp hợp lệ, {timing} "
            f"({deadline_clause(period, False)})."
        )
    state = UnitState(
        "",
        "",
        would,
        is_overdue=late,
        latest_is_submitted=is_submitted,
        latest_is_blocked=is_blocked,
        latest_error_count=error_count,
        latest_has_content=has_content,
    )
    return (
        f"Nếu gửi bản này, báo cáo chưa được tính: {missing_vi(state)}; "
        f"{deadline_clause(period, late)}."
    )
