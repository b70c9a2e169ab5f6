"""Reminder mails to the units, received by a real SMTP server on this machine.

A demo province (CB-2026-6T, last on-time day 20/06/2026) is landed through the real pipeline
into a warehouse database of its own (``tonghop_remind``) and built by dbt as of 10/07/2026, when
every generated version has been received. Its reports' states are known from the generator
alone: on time and late reports count (no mail), a draft is "Chưa nộp" with content, an
untouched sheet is blank, "errors" was sent with errors, "wrong_unit" was rejected. The mails
are sent for chosen days (the day a run acts for) to an aiosmtpd server
(``testing/smtp.py``), and read back from it: who got one, what it says, how often. The last
test goes through Airflow: ``airflow dags test tonghop_publish <logical date>`` with the SMTP
connection ``tonghop_smtp`` pointing at the local server.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest

from testing.smtp import SENDER, by_header, local_smtp, mails_to, text_of
from tests.conftest import query

DATABASE = "tonghop_remind"
PERIOD = "CB-2026-6T"
SEED = 5
#: the marts' day: every version the generator made was received by then
AS_OF = dt.date(2026, 7, 10)
DEADLINE_VI = "chậm nhất 23 giờ 59 phút ngày 20/06/2026"
#: the generator's scenario -> the state a mail must tell (None: the report counts, no mail)
STATE_OF_SCENARIO = {
    "on_time": None,
    "late": None,
    "draft": "chua_chon_da_nop",
    "untouched": "chua_dien",
    "errors": "con_loi",
    "wrong_unit": "con_loi/sai_ma",
}
#: what the state sentence says, by state (publish/unit_state.py's words)
SAYS = {
    "chua_chon_da_nop": "Báo cáo chưa được tính: đã điền nhưng chưa chọn “Đã nộp” tại ô "
    "Thông tin!B14",
    "chua_dien": "Báo cáo chưa được tính: chưa điền báo cáo — điền các trang báo cáo rồi "
    "chọn “Đã nộp” tại ô Thông tin!B14",
    "con_loi": "Báo cáo chưa được tính: còn ",
    "con_loi/sai_ma": "Báo cáo chưa được tính: còn 1 lỗi cần sửa, trong đó có lỗi khiến cả "
    "bảng tính không được nhận",
}


@pytest.fixture(scope="module")
def province(settings, catalogue, tmp_path_factory):
    """The period landed and built as of :data:`AS_OF`; a namespace with the settings (SMTP
    not yet set), the emulator, the generator's manifest and the mailbox."""
    from testing.province import demo_province, land, own_warehouse, register_entries

    tmp = tmp_path_factory.mktemp("remind")
    with own_warehouse(settings, DATABASE, tmp) as (own, server):
        manifest, entries = demo_province(server, PERIOD, seed=SEED)
        assert {s for s in manifest.scenarios.values() if STATE_OF_SCENARIO[s]} == {
            "draft",
            "untouched",
            "errors",
            "wrong_unit",
        }, manifest.scenarios
        register_entries(own, entries)
        land(own, catalogue, PERIOD)
        build(own, AS_OF)

        class Province:
            pass

        p = Province()
        p.settings, p.emulator, p.manifest, p.tmp = own, server, manifest, tmp
        with local_smtp(tmp / "mail") as box:
            p.box = box
            p.mailing = own.with_overrides(smtp_url=box.url(SENDER))
            yield p


def build(settings, as_of: dt.date) -> None:
    from pipeline.dbt import run_dbt

    run_dbt(settings, ["build"], as_of)


def send(p, day: dt.date, run_id: str = "test") -> dict:
    from publish.reminder_mail import send_reminders
    from tonghop.catalogue import load_catalogue

    return send_reminders(p.mailing, load_catalogue(settings=p.mailing), PERIOD, day, run_id)


def expected_mails(p) -> dict[str, str]:
    """unit -> the state its mail tells, from the generator's scenarios alone."""
    return {
        unit: STATE_OF_SCENARIO[scenario]
        for unit, scenario in p.manifest.scenarios.items()
        if STATE_OF_SCENARIO[scenario]
    }


def recorded(p, day: dt.date) -> list[tuple]:
    return query(
        p.settings.dsn("admin"),
        """
        select unit_code, state_key, recipient, outcome, error_message from ops.reminder_mails
        where period_code = %s and reminder_day = %s order by reminder_mail_id""",
        (PERIOD, day),
    )


def link(p, unit: str) -> str:
    from tooling.demo_setup import demo_spreadsheet_id

    return f"{p.emulator.url}/v4/spreadsheets/{demo_spreadsheet_id(PERIOD, unit)}"


# ------------------------------------------------------------------ the days of a period
def test_no_mail_before_the_reminder_days(province):
    p = province
    for day in (dt.date(2026, 6, 1), dt.date(2026, 6, 10), dt.date(2026, 6, 14)):
        sent = send(p, day)
        assert sent["reminder_day"] is False and sent["sent"] == sent["failed"] == 0, day
        assert recorded(p, day) == []
    assert p.box.received == []


def test_five_days_before_each_unit_not_counted_gets_one_mail_saying_what_to_do(
    province, catalogue
):
    from publish.unit_state import read_states, sentence
    from tonghop.mail import SmtpServer

    p = province
    day = dt.date(2026, 6, 15)
    p.box.clear()
    sent = send(p, day)
    expected = expected_mails(p)
    assert sent["reminder_day"] == "before" and sent["sent"] == len(expected) and not sent["failed"]
    # exactly the units whose report does not count, each at its catalogue address, once
    mailed = by_header(p.box, "X-Tonghop-Unit")
    assert {unit: len(mails) for unit, mails in mailed.items()} == dict.fromkeys(expected, 1)
    import psycopg2

    conn = psycopg2.connect(p.settings.dsn("bi_reader"))
    try:
        states = read_states(conn, PERIOD)
    finally:
        conn.close()
    period = catalogue.period(PERIOD)
    for unit, state in expected.items():
        address = catalogue.unit(unit).contact_email
        [mail] = mails_to(p.box, address)
        assert mail["X-Tonghop-State"] == state and mail["X-Tonghop-Period"] == PERIOD
        assert (
            address in mail["To"]
            and SmtpServer.from_url(p.mailing.smtp_url).sender in (mail["From"])
        )
        assert mail["Subject"] == (
            "Nhắc nộp báo cáo: Báo cáo 6 tháng đầu năm 2026 – còn 5 ngày đến hạn"
        )
        text = text_of(mail)
        assert text.startswith(f"Kính gửi: {catalogue.unit(unit).unit_name}\n")
        # the state, in the one wording of publish/unit_state.py
        assert SAYS[state] in text, text
        assert f"Tình trạng: {sentence(states[unit], period)}" in text
        assert "(Theo kết quả tổng hợp ngày 10/07/2026.)" in text
        if state == "con_loi":
            assert re.search(r"còn \d+ lỗi cần sửa \(xem bảng các vấn đề\)", text), text
        # what to do, where, by when
        assert (
            "Việc cần làm: mở bảng tính của đơn vị theo đường dẫn dưới đây và làm như phần "
            "Tình trạng nêu, trước hạn nộp để báo cáo được tính là nộp đúng hạn."
        ) in text
        assert f"Bảng tính của đơn vị: {link(p, unit)}\n" in text
        assert f"Hạn nộp: {DEADLINE_VI} – còn 5 ngày." in text
        assert "trang “Kết quả kiểm tra” trong bảng tính" in text
    # what the Sở reads (the reminder list) says the same as the mails
    from publish.reminder import missing_units

    listed = missing_units(p.settings, PERIOD, "run-list")
    text = Path(listed["reminder_path"]).read_text(encoding="utf-8")
    for unit in expected:
        reason = next(u["reason"] for u in listed["units"] if u["unit_code"] == unit)
        assert reason in text_of(mails_to(p.box, catalogue.unit(unit).contact_email)[0])
        assert f"({unit}) — {reason}" in text
    # and every mail is recorded, sent
    assert sorted((u, k, o) for u, k, _, o, _ in recorded(p, day)) == sorted(
        (u, k, "sent") for u, k in expected.items()
    )


def test_none_twice_the_same_day_for_the_same_state(province):
    p = province
    day = dt.date(2026, 6, 15)
    before = len(p.box.received)
    again = send(p, day, run_id="second-run")
    assert again["sent"] == again["failed"] == 0
    assert again["already_sent"] == len(expected_mails(p))
    assert len(p.box.received) == before
    assert {
        run
        for (run,) in query(
            p.settings.dsn("admin"),
            "select distinct run_id from ops.reminder_mails where reminder_day = %s",
            (day,),
        )
    } == {"test"}


def test_a_refused_recipient_is_recorded_and_retried_without_stopping_the_others(
    province, catalogue, alert_webhook
):
    p = province
    day = dt.date(2026, 6, 19)  # one day before
    expected = expected_mails(p)
    refused_unit = sorted(expected)[0]
    refused = catalogue.unit(refused_unit).contact_email
    p.box.clear()
    p.box.refused = {refused.lower()}
    try:
        first = send(p, day, run_id="refused")
    finally:
        p.box.refused = set()
    assert first["sent"] == len(expected) - 1 and first["failed"] == 1
    assert mails_to(p.box, refused) == []
    assert {m["X-Tonghop-Unit"] for m in p.box.messages()} == set(expected) - {refused_unit}
    assert all("còn 1 ngày đến hạn" in m["Subject"] for m in p.box.messages())
    [(unit, _, to, outcome, error)] = [r for r in recorded(p, day) if r[3] == "failed"]
    assert (unit, to, outcome) == (refused_unit, refused, "failed")
    assert "550" in error and refused in error
    # the data engineers are told
    [alert] = alert_webhook
    assert "reminder mails failed: 1 of" in alert["text"] and refused_unit in alert["failures"]
    # the next run of the day sends that one mail, and only it
    p.box.clear()
    retried = send(p, day, run_id="retry")
    assert (retried["sent"], retried["failed"]) == (1, 0)
    [mail] = p.box.messages()
    assert mail["X-Tonghop-Unit"] == refused_unit and refused in mail["To"]
    outcomes = [(u, o) for u, _, _, o, _ in recorded(p, day) if u == refused_unit]
    assert outcomes == [(refused_unit, "failed"), (refused_unit, "sent")]


def test_on_the_deadline_and_after_it_the_mail_says_so(province):
    p = province
    p.box.clear()
    due = send(p, dt.date(2026, 6, 20))
    assert due["reminder_day"] == "due" and due["sent"] == len(expected_mails(p))
    for mail in p.box.messages():
        assert mail["Subject"].endswith("– hôm nay là ngày cuối cùng")
        assert f"Hạn nộp: {DEADLINE_VI} – hôm nay là ngày cuối cùng." in text_of(mail)
    p.box.clear()
    late = send(p, dt.date(2026, 6, 23))
    assert late["reminder_day"] == "after" and late["sent"] == len(expected_mails(p))
    for mail in p.box.messages():
        text = text_of(mail)
        assert mail["Subject"].endswith("– đã quá hạn 3 ngày")
        assert f"Hạn nộp: {DEADLINE_VI} – đã quá hạn 3 ngày." in text
        assert "báo cáo hợp lệ nhận sau hạn vẫn được tổng hợp, tính là nộp trễ hạn" in text


def test_a_server_that_is_down_fails_every_mail_once_and_the_next_run_sends_them(
    province, alert_webhook
):
    from tooling.mailbox import free_port

    p = province
    day = dt.date(2026, 6, 21)
    expected = expected_mails(p)
    down = p.mailing.with_overrides(
        smtp_url=f"smtp://127.0.0.1:{free_port()}?from={SENDER}&security=none"
    )
    from publish.reminder_mail import send_reminders
    from tonghop.catalogue import load_catalogue

    failed = send_reminders(down, load_catalogue(settings=down), PERIOD, day, "down")
    assert (failed["sent"], failed["failed"]) == (0, len(expected))
    errors = [e for *_, outcome, e in recorded(p, day) if outcome == "failed"]
    assert len(errors) == len(expected) and "ConnectionRefusedError" in errors[0]
    # the server was tried once, not once per mail
    assert all(e.startswith("not tried: ConnectionRefusedError") for e in errors[1:])
    assert len(alert_webhook) == 1
    p.box.clear()
    again = send(p, day, run_id="up-again")
    assert (again["sent"], again["failed"]) == (len(expected), 0)
    assert {m["X-Tonghop-Unit"] for m in p.box.messages()} == set(expected)


def test_no_server_configured_no_mail_and_nothing_recorded(province):
    from publish.reminder_mail import send_reminders
    from tonghop.catalogue import load_catalogue

    p = province
    day = dt.date(2026, 6, 24)
    done = send_reminders(p.settings, load_catalogue(settings=p.settings), PERIOD, day)
    assert done["configured"] is False and done["sent"] == 0
    assert recorded(p, day) == []


def test_a_unit_whose_state_changed_gets_a_second_mail_the_same_day(province, catalogue):
    """An untouched unit types one status on the morning of 10/07 (without "Đã nộp"): after
    the next pull, check and build its report is "filled, not sent", and that day's second run
    mails it — only it — again."""
    from expectations.landed import validate_landed
    from ingest.pull import pull_period
    from sheets import layout
    from sheets_emulator import emulator_client
    from tonghop.vn import VN_TZ
    from tooling.demo_setup import demo_spreadsheet_id

    p = province
    day = AS_OF
    p.box.clear()
    first = send(p, day)
    assert first["sent"] == len(expected_mails(p))
    unit = p.manifest.units_with("untouched")[0]
    [before] = mails_to(p.box, catalogue.unit(unit).contact_email)
    assert before["X-Tonghop-State"] == "chua_dien"

    status = layout.column_letter(layout.column_index(layout.TASK_COLUMNS, "status"))
    p.emulator.set_clock(dt.datetime(2026, 7, 10, 9, 0, tzinfo=VN_TZ))
    try:
        client = emulator_client(p.emulator.url, user=catalogue.unit(unit).contact_email)
        client.http_client.values_update(
            demo_spreadsheet_id(PERIOD, unit),
            f"'{layout.TAB_TASKS}'!{status}2",
            params={"valueInputOption": "USER_ENTERED"},
            body={"values": [["Đang triển khai"]]},
        )
        pulled = pull_period(p.settings, catalogue, PERIOD)
    finally:
        p.emulator.set_clock(None)
    assert pulled.new_versions == 1
    validate_landed(p.settings, catalogue, PERIOD, pulled.pull_run_id)
    build(p.settings, AS_OF)

    p.box.clear()
    second = send(p, day, run_id="after-the-edit")
    assert (second["sent"], second["failed"]) == (1, 0)
    assert second["already_sent"] == len(expected_mails(p)) - 1
    [mail] = p.box.messages()
    assert mail["X-Tonghop-Unit"] == unit and mail["X-Tonghop-State"] == "chua_chon_da_nop"
    assert SAYS["chua_chon_da_nop"] in text_of(mail)
    assert [k for u, k, *_ in recorded(p, day) if u == unit] == ["chua_dien", "chua_chon_da_nop"]


# ------------------------------------------------------------------ through Airflow
def test_the_publish_dag_mails_the_units_through_the_airflow_smtp_connection(province, catalogue):
    """``airflow dags test tonghop_publish`` for the morning of 11/07/2026 (its logical date),
    the SMTP connection ``tonghop_smtp`` (type smtp, the provider's fields) pointing at the
    local server and no TONGHOP_SMTP_URL: the remind task sends that day's mails."""
    from testing.smtp import airflow_smtp_connection
    from tooling import local_airflow, localdb

    p = province
    env = local_airflow.airflow_env(p.settings, localdb.default_cluster().port)
    env.pop("TONGHOP_SMTP_URL", None)
    env.update(airflow_smtp_connection(p.box))
    local_airflow.migrate(env)
    p.box.clear()
    morning = dt.datetime(2026, 7, 11, 6, 0, tzinfo=dt.timezone(dt.timedelta(hours=7)))
    airflow = Path(sys.executable).with_name("airflow")
    done = subprocess.run(
        [
            str(airflow),
            "dags",
            "test",
            "tonghop_publish",
            morning.astimezone(dt.UTC).isoformat(),
            "-c",
            json.dumps({"period_codes": [PERIOD]}),
        ],
        env=env,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    # every unit whose report does not count, as of the marts (the edit above included)
    expected = {**expected_mails(p), p.manifest.units_with("untouched")[0]: "chua_chon_da_nop"}
    mailed = by_header(p.box, "X-Tonghop-Unit")
    assert {u: [m["X-Tonghop-State"] for m in ms] for u, ms in mailed.items()} == {
        u: [s] for u, s in expected.items()
    }
    for unit in expected:
        [mail] = mails_to(p.box, catalogue.unit(unit).contact_email)
        assert mail["Subject"].endswith("– đã quá hạn 21 ngày")
        assert f"Bảng tính của đơn vị: {link(p, unit)}\n" in text_of(mail)
    runs = query(
        p.settings.dsn("admin"),
        """select distinct run_id, outcome from ops.reminder_mails
           where reminder_day = date '2026-07-11'""",
    )
    assert len(runs) == 1 and runs[0][1] == "sent" and runs[0][0].startswith("manual__")
    # the list for the Sở is still written, in the run's folder
    assert list((p.settings.output_dir / PERIOD).glob(f"*/nhac_nho_{PERIOD}.txt"))


# ------------------------------------------------------------------ settings, offline
def test_the_smtp_settings_come_from_the_environment_or_an_airflow_connection():
    from types import SimpleNamespace

    from tonghop.mail import MailConfigError, SmtpServer, connection_url
    from tonghop.settings import Settings, load_settings

    password = secrets.token_urlsafe(9) + "@:/"  # what a URL must escape
    url = (
        f"smtp://nh%C3%A1c:{quote(password, safe='')}@mail.so.example:2525"
        "?from=nhacnho%40so.example"
    )
    loaded = load_settings({"TONGHOP_SMTP_URL": url, "TONGHOP_REMIND_DAYS_BEFORE": "7, 3,1"})
    assert loaded.remind_days_before == (7, 3, 1)
    assert password not in repr(loaded) and quote(password, safe="") not in repr(loaded)
    server = SmtpServer.from_url(loaded.smtp_url)
    assert (server.host, server.port, server.security) == ("mail.so.example", 2525, "starttls")
    assert (server.login, server.password, server.sender) == (
        "nhác",
        password,
        "nhacnho@so.example",
    )
    assert load_settings({}).smtp_url is None
    assert load_settings({}).remind_days_before == Settings().remind_days_before == (5, 1)
    assert load_settings({"TONGHOP_REMIND_DAYS_BEFORE": "none"}).remind_days_before == ()
    # the Airflow connection, with the SMTP provider's fields, reads back the same server
    conn = SimpleNamespace(**server.airflow_connection())
    conn.extra_dejson = conn.extra
    for name in ("port", "login", "password"):
        setattr(conn, name, getattr(conn, name, None))
    assert SmtpServer.from_url(connection_url(conn)) == server
    provider_default = SimpleNamespace(
        host="smtp.gmail.example",
        port=None,
        login="a",
        password="b",
        extra_dejson={"from_email": "a@x.example"},
    )
    assert SmtpServer.from_url(connection_url(provider_default)).security == "ssl"
    with pytest.raises(MailConfigError, match="sender"):
        SmtpServer.from_url("smtp://mail.so.example")


def test_the_reminder_days_follow_the_setting():
    from publish.reminder_mail import reminder_day
    from tonghop.catalogue import load_catalogue

    period = load_catalogue().period(PERIOD)  # last on-time day 20/06/2026

    def days(rule):
        return {
            d.day: (r.when, r.days)
            for d in (dt.date(2026, 6, 10) + dt.timedelta(days=n) for n in range(14))
            if (r := reminder_day(period, d, rule))
        }

    assert days((5, 1)) == {
        15: ("before", 5),
        19: ("before", 1),
        20: ("due", 0),
        21: ("after", 1),
        22: ("after", 2),
        23: ("after", 3),
    }
    assert days((3,)) == {
        17: ("before", 3),
        20: ("due", 0),
        21: ("after", 1),
        22: ("after", 2),
        23: ("after", 3),
    }
    assert days(()) == {20: ("due", 0), 21: ("after", 1), 22: ("after", 2), 23: ("after", 3)}
