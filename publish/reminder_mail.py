"""Reminder mails: each unit whose report does not count yet is told so, by e-mail, on the days
that matter.

Who: every expected report of the period that ``marts.fct_submission`` does not count (its one
rule; read with :func:`publish.unit_state.read_states`), at the unit's ``contact_email`` in the
catalogue. A counted report gets no mail.

When: on the reminder days of the day the run acts for (the run's logical or as-of day, Vietnam
time, never the machine's clock): ``Settings.remind_days_before`` days before the period's last
on-time day (default 5 and 1), that day itself, and every day after it while the report is
missing or invalid (the calendar's daily builds stop at the end of the late window, and with them
the mails). Any other day: no mail.

What: in Vietnamese, the state in :mod:`publish.unit_state`'s one sentence (what is missing and
what to do about it — :func:`~publish.unit_state.missing_vi` —, the deadline, "đã quá hạn"),
what to do with it (open the sheet, by when), the link to the unit's spreadsheet
(:func:`sheets.client.spreadsheet_link`, from ``ops.sheet_registry``) and its tab when units
share a spreadsheet, the deadline and how far it is.

Never twice the same: every mail is recorded in ``ops.reminder_mails`` (append-only) with the
day and the state it told, and read before sending — a unit gets one mail per state and day (a
second one the same day only when its state changed: it sent a report with errors, say). A mail
the server refuses, or that cannot be sent, is recorded as failed and sent again by the next run
of the day (or on the next reminder day); it never stops the other units' mails, and an alert
says how many failed. A mail is recorded once the server has taken it: a process killed between
the two sends that one mail again. One sender per period at a time (an advisory lock).

Without an SMTP server configured (``TONGHOP_SMTP_URL``, or Airflow's ``tonghop_smtp``
connection) nothing is sent or recorded: the reminder list (``publish.reminder``) is all there
is.
"""

from __future__ import annotations

import datetime as dt
import logging
import unicodedata
from dataclasses import dataclass
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.utils import format_datetime, make_msgid

import psycopg2

from publish.unit_state import UnitState, read_states, sentence
from sheets import layout
from sheets.client import spreadsheet_link
from tonghop import alerts
from tonghop.catalogue import Catalogue, Period, vi_day
from tonghop.mail import MailConfigError, Mailer, Outcome, SmtpServer
from tonghop.settings import Settings
from tonghop.vn import VN_TZ

log = logging.getLogger(__name__)

#: the header naming what a mail is about (period, unit, state), for filters and for tests
HEADER_PERIOD, HEADER_UNIT, HEADER_STATE = "X-Tonghop-Period", "X-Tonghop-Unit", "X-Tonghop-State"


@dataclass(frozen=True)
class ReminderDay:
    """Where a day stands against a period's last on-time day: ``before`` (``days`` to go),
    ``due`` (the day itself) or ``after`` (``days`` past)."""

    when: str
    days: int

    @property
    def timing_vi(self) -> str:
        if self.when == "before":
            return f"còn {self.days} ngày"
        if self.when == "due":
            return "hôm nay là ngày cuối cùng"
        return f"đã quá hạn {self.days} ngày"


def last_on_time_day(period: Period) -> dt.date:
    return period.on_time_until.astimezone(VN_TZ).date()


def reminder_day(period: Period, day: dt.date, days_before: tuple[int, ...]) -> ReminderDay | None:
    """Whether ``day`` is a reminder day of the period, and where it stands; None if not."""
    last = last_on_time_day(period)
    if day > last:
        return ReminderDay("after", (day - last).days)
    if day == last:
        return ReminderDay("due", 0)
    if (last - day).days in days_before:
        return ReminderDay("before", (last - day).days)
    return None


def state_key(state: UnitState) -> str:
    """The state a mail tells: fct_submission's ``submission_state``, a sheet rejected for the
    wrong unit or period told apart from one with errors (what to do differs)."""
    if state.state == "con_loi" and state.latest_is_blocked:
        return "con_loi/sai_ma"
    return state.state


@dataclass(frozen=True)
class UnitSheet:
    spreadsheet_id: str
    tab_title: str  # '' when the whole spreadsheet is the unit's


def compose(
    settings: Settings,
    catalogue: Catalogue,
    period: Period,
    state: UnitState,
    sheet: UnitSheet | None,
    when: ReminderDay,
    as_of: dt.date | None,
) -> tuple[str, str]:
    """(subject, body) of one unit's mail, in Vietnamese, NFC."""
    programme = catalogue.programmes.get(period.programme_code) or {}
    so = programme.get("consolidating_body") or "Sở Văn hóa, Thể thao và Du lịch"
    subject = (
        f"Báo cáo bị trả lại: {period.period_name} – {when.timing_vi}"
        if state.state == "bi_tra_lai"
        else f"Nhắc nộp báo cáo: {period.period_name} – {when.timing_vi}"
    )
    if when.when == "before":
        subject += " đến hạn"
    status = sentence(state, period)
    if as_of:
        status += f" (Theo kết quả tổng hợp ngày {vi_day(as_of)}.)"
    if when.when == "after":
        urgency = (
            "càng sớm càng tốt: báo cáo hợp lệ nhận sau hạn vẫn được tổng hợp, tính là nộp trễ hạn"
        )
    else:
        urgency = "trước hạn nộp để báo cáo được tính là nộp đúng hạn"
    if sheet is not None:
        todo = (
            "mở bảng tính của đơn vị theo đường dẫn dưới đây và làm như phần Tình trạng nêu, "
            f"{urgency}."
        )
        where = [f"Bảng tính của đơn vị: {spreadsheet_link(settings, sheet.spreadsheet_id)}"]
        if sheet.tab_title:
            where.append(
                f"Bảng tính dùng chung cho nhiều đơn vị: đơn vị điền vào trang “{sheet.tab_title}”."
            )
        check = (
            f"Sau mỗi lần {so} đọc bảng tính, trang “{layout.check_tab_title(sheet.tab_title)}” "
            "trong bảng tính cho biết kết quả kiểm tra: ô nào cần sửa và sửa thế nào."
        )
    else:
        todo = (
            f"liên hệ {so} để nhận đường dẫn bảng tính của đơn vị, rồi làm như phần Tình "
            f"trạng nêu, {urgency}."
        )
        where = [f"Bảng tính của đơn vị: chưa có trong danh sách của {so}."]
        check = ""
    lines = [
        f"Kính gửi: {state.unit_name or catalogue.unit(state.unit_code).unit_name}",
        "",
        f"{so} nhắc đơn vị về {period.period_name}.",
        "",
        f"Tình trạng: {status}",
        "",
        f"Việc cần làm: {todo}",
        "",
        *where,
        f"Hạn nộp: {period.deadline_with_basis_vi} – {when.timing_vi}.",
    ]
    if check:
        lines += ["", check]
    lines += [
        "",
        f"Thư này được gửi tự động, không quá một thư mỗi ngày cho cùng một tình trạng báo cáo. "
        f"Cần hỗ trợ, đơn vị trả lời thư này để liên hệ {so}.",
    ]
    body = "\n".join(lines) + "\n"
    return unicodedata.normalize("NFC", subject), unicodedata.normalize("NFC", body)


def message(
    server: SmtpServer,
    catalogue: Catalogue,
    period: Period,
    state: UnitState,
    recipient: str,
    subject: str,
    body: str,
    reply_to: str | None,
    when: dt.datetime,
) -> Message:
    """The mail: plain text in UTF-8 (quoted-printable), headers encoded as RFC 2047 words
    split on the bytes (``email.header``; the newer header folder of Python 3.11 drops the
    space where it splits a Vietnamese subject)."""
    programme = catalogue.programmes.get(period.programme_code) or {}
    charset = Charset("utf-8")
    charset.body_encoding = QP
    msg = MIMEText(body, "plain", charset)
    msg["Subject"] = Header(subject, "utf-8")
    if programme.get("consolidating_body"):
        sender = Header(programme["consolidating_body"], "utf-8")
        sender.append(f"<{server.sender}>", "us-ascii")
        msg["From"] = sender
    else:
        msg["From"] = server.sender
    msg["To"] = recipient
    if reply_to:
        msg["Reply-To"] = reply_to
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = make_msgid("nhacnho", domain=server.sender.rpartition("@")[2])
    msg[HEADER_PERIOD] = period.period_code
    msg[HEADER_UNIT] = state.unit_code
    msg[HEADER_STATE] = state_key(state)
    return msg


def so_address(catalogue: Catalogue, programme_code: str) -> str | None:
    """The consolidating body's own address in the catalogue (where replies go), if any."""
    body = (catalogue.programmes.get(programme_code) or {}).get("consolidating_body", "")
    found = (u.contact_email for u in catalogue.units.values() if body and u.unit_name == body)
    return next((address for address in found if address), None)


def unit_sheets(conn, period_code: str) -> dict[str, UnitSheet]:
    with conn.cursor() as cur:
        cur.execute(
            """select unit_code, spreadsheet_id, tab_title from ops.sheet_registry
               where period_code = %s""",
            (period_code,),
        )
        return {unit: UnitSheet(sid, tab) for unit, sid, tab in cur.fetchall()}


def already_sent(conn, period_code: str, day: dt.date) -> set[tuple[str, str]]:
    """(unit, state) pairs the day's mails have told already."""
    with conn.cursor() as cur:
        cur.execute(
            """select distinct unit_code, state_key from ops.reminder_mails
               where period_code = %s and reminder_day = %s and outcome = 'sent'""",
            (period_code, day),
        )
        return set(cur.fetchall())


def record(
    conn,
    period_code: str,
    unit_code: str,
    day: dt.date,
    key: str,
    recipient: str,
    subject: str,
    message_id: str | None,
    run_id: str | None,
    outcome: Outcome,
) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """insert into ops.reminder_mails
                   (period_code, unit_code, reminder_day, state_key, recipient, subject,
                    message_id, run_id, outcome, error_message)
               values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            (
                period_code,
                unit_code,
                day,
                key,
                recipient,
                subject,
                message_id,
                run_id,
                "sent" if outcome.sent else "failed",
                outcome.error,
            ),
        )
    conn.commit()


def marts_as_of(conn, period_code: str) -> dt.date | None:
    with conn.cursor() as cur:
        cur.execute(
            "select max(as_of_date) from marts.fct_submission where period_code = %s",
            (period_code,),
        )
        return cur.fetchone()[0]


def send_reminders(
    settings: Settings,
    catalogue: Catalogue,
    period_code: str,
    day: dt.date,
    run_id: str | None = None,
) -> dict:
    """The day's reminder mails of the period (see the module's docstring); what was done."""
    period = catalogue.period(period_code)
    summary = {
        "day": day.isoformat(),
        "reminder_day": False,
        "configured": bool(settings.smtp_url),
        "to_send": 0,
        "sent": 0,
        "failed": 0,
        "already_sent": 0,
        "failures": {},
    }
    when = reminder_day(period, day, settings.remind_days_before)
    # a report returned by its reviewers is news the unit must hear at once, reminder day or not
    returned_only = when is None
    if returned_only and not period.review_required:
        log.info("reminder mails: %s is not a reminder day of %s", day, period_code)
        return summary
    if returned_only:
        when = ReminderDay("before", (last_on_time_day(period) - day).days)
    else:
        summary["reminder_day"] = when.when
    if not settings.smtp_url:
        log.info(
            "reminder mails: no SMTP server configured (TONGHOP_SMTP_URL or the Airflow "
            "connection tonghop_smtp); none sent for %s",
            period_code,
        )
        return summary
    bi = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        states = read_states(bi, period_code)
        as_of = marts_as_of(bi, period_code)
    finally:
        bi.close()
    # a valid report waiting for its reviewers has nothing to do: no mail
    pending = [s for s in states.values() if not s.is_counted and not s.has_nothing_to_do]
    if returned_only:
        pending = [s for s in pending if s.state == "bi_tra_lai"]
        if not pending:
            log.info("reminder mails: %s is not a reminder day of %s", day, period_code)
            return summary
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn.cursor() as cur:  # held until the session ends: one sender per period
            cur.execute(
                "select pg_advisory_lock(hashtext('tonghop.reminder_mails'), hashtext(%s))",
                (period_code,),
            )
        sheets = unit_sheets(conn, period_code)
        told = already_sent(conn, period_code, day)
        conn.commit()
        try:
            server = SmtpServer.from_url(settings.smtp_url)
            broken = None
        except MailConfigError as exc:
            server, broken = None, f"SMTP settings: {exc}"
        reply_to = so_address(catalogue, period.programme_code)
        now = dt.datetime.now(dt.UTC)
        mailer = Mailer(server) if server else None
        try:
            for state in pending:
                key = state_key(state)
                if (state.unit_code, key) in told:
                    summary["already_sent"] += 1
                    continue
                summary["to_send"] += 1
                unit = catalogue.units.get(state.unit_code)
                recipient = (unit.contact_email if unit else "") or ""
                subject, body = compose(
                    settings,
                    catalogue,
                    period,
                    state,
                    sheets.get(state.unit_code),
                    when,
                    as_of,
                )
                message_id = None
                if broken:
                    outcome = Outcome(False, broken)
                elif not recipient:
                    outcome = Outcome(False, "the unit has no contact_email in the catalogue")
                else:
                    msg = message(
                        server, catalogue, period, state, recipient, subject, body, reply_to, now
                    )
                    message_id = msg["Message-ID"]
                    outcome = mailer.send(msg)
                record(
                    conn,
                    period_code,
                    state.unit_code,
                    day,
                    key,
                    recipient,
                    subject,
                    message_id,
                    run_id,
                    outcome,
                )
                if outcome.sent:
                    summary["sent"] += 1
                else:
                    summary["failed"] += 1
                    summary["failures"][state.unit_code] = outcome.error
        finally:
            if mailer:
                mailer.close()
    finally:
        conn.close()
    log.info(
        "reminder mails of %s for %s (%s): %d sent, %d failed, %d told already today",
        period_code,
        day,
        when.when,
        summary["sent"],
        summary["failed"],
        summary["already_sent"],
    )
    if summary["failed"]:
        alerts.send(
            f"[tonghop] Thư nhắc chưa gửi được / reminder mails failed: {summary['failed']} "
            f"of {summary['to_send']} ({period_code}, {day})",
            {
                "period_code": period_code,
                "day": day.isoformat(),
                "failures": summary["failures"],
                "next": "sent again by the next run (ops.reminder_mails)",
            },
        )
    return summary
