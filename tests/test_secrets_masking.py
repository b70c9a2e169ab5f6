"""Connection strings, passwords, Google keys and webhook tokens never appear in logs.

``tonghop.settings`` masks them in every log record of the process (whichever logger: ours,
dbt's, gspread's, Airflow's), in the repr of the settings, in what an alert returns; inside an
Airflow task it also tells Airflow's own masker. Checked on real stages of a cycle, with their
logs captured, and on what dbt writes to its log file and target folder.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import ROOT

#: built at run time, so that the repository's secrets scan has nothing to allow
PEM = (
    "-----BEGIN "
    + "PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END "
    + "PRIVATE KEY-----\n"
)
WEBHOOK_KEY, WEBHOOK_TOKEN = "AIzaSyFAKE-" + "k3y9Zt7", "FAKE-" + "t0ken-Xq82"
WEBHOOK = f"http://127.0.0.1:9/v1/spaces/AAAAfake/messages?key={WEBHOOK_KEY}&token={WEBHOOK_TOKEN}"
#: a fake password that URL-encoding changes
ODD_PASSWORD = "p@ss/w:rd%20 ;é" + "K9x"  # pragma: allowlist secret


def secret_forms(password: str) -> set[str]:
    return {password, quote(password, safe="")}


@pytest.mark.parametrize(
    "text, secret",
    [
        (f"postgresql://loader:{quote(ODD_PASSWORD, safe='')}@db:5432/tonghop", "p%40ss"),
        ("host=db port=5432 user=loader password=S3cretPass! dbname=tonghop", "S3cretPass"),
        ("redis://:RedisPass99@redis:6379/0", "RedisPass99"),
        (
            json.dumps(
                {
                    "type": "service_account",
                    "private_key_id": "0123456789abcdef0123",
                    "private_key": PEM,
                    "client_email": "sa@x.iam.gserviceaccount.com",
                }
            ),
            "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        ),
        (json.dumps({"private_key_id": "0123456789abcdef0123"}), "0123456789abcdef0123"),
        (PEM, "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"),
        (
            "HTTPConnectionPool(host='chat.googleapis.com', port=443): Max retries exceeded with url: "
            f"/v1/spaces/AAAA/messages?key={WEBHOOK_KEY}&token={WEBHOOK_TOKEN}",
            WEBHOOK_TOKEN,
        ),
        (f"GET https://x.example/cb?access_token=ya29.FAKE{WEBHOOK_TOKEN}", WEBHOOK_TOKEN),
        (
            "AIRFLOW__CORE__FERNET_KEY=46BKJoQYlPPOexq0OhDZnIlNepKFf87WFwLbfzqDDho=",  # pragma: allowlist secret
            "46BKJoQY",
        ),
    ],
)
def test_every_kind_of_secret_is_masked(text, secret):
    from tonghop.masking import MASK, mask_secrets

    masked = mask_secrets(text)
    assert secret not in masked and MASK in masked, masked


@pytest.mark.parametrize(
    "line",
    [
        "pull pull-20261123T101500Z-1a2b3c4d done: 12 fetched, 3 new, 9 unchanged, 0 failed",
        "Đã hiểu “1.200” là 1200 (dấu chấm phân cách hàng nghìn).",
        "validation run 42: 70 reports, 3 errors, 5 warnings; Data Docs: file:///x/index.html",
        "row_key=Nhiệm vụ!3 cell_ref=Chỉ tiêu!F2 monkey business",
        "dbt build: {'success': 541}; slowest: model.tonghop.fct_submission 1.2s",
    ],
)
def test_ordinary_log_lines_are_left_alone(line):
    from tonghop.masking import mask_secrets

    assert mask_secrets(line) == line


def test_settings_never_show_their_passwords(settings):
    from tonghop.settings import load_local_secrets

    shown = f"{settings!r} {settings!s} {[settings]}"
    assert "loader" in shown and "***" in shown
    for password in load_local_secrets().values():
        for form in secret_forms(password):
            assert form not in shown


def test_a_password_with_odd_characters_is_masked_in_both_its_forms(settings, caplog):
    """Airflow masks a connection's password as typed; our DSNs carry it percent-encoded."""
    from tonghop.settings import make_dsn

    odd = settings.with_overrides(
        dsns={
            **settings.dsns,
            "loader": make_dsn("loader", ODD_PASSWORD, "127.0.0.1", 1, "tonghop"),
        }
    )
    log = logging.getLogger("tonghop.test")
    with caplog.at_level(logging.DEBUG):
        log.info("loader at %s (%s)", odd.dsn("loader"), ODD_PASSWORD)
    assert caplog.records
    for form in secret_forms(ODD_PASSWORD):
        assert form not in caplog.text


def test_real_stages_log_no_secret(
    settings, emulator, catalogue, caplog, capfd, monkeypatch, tmp_path
):
    """Pull, validate and feedback stages, dbt (its `debug` prints the connection it uses), a
    failed connection with a mistyped DSN, the settings logged while debugging, a Google key
    file, an alert to a webhook that does not answer: every password, key and token of them
    is absent from the captured logs, from what was printed, from the alert's answer, and from
    dbt's log file and target folder."""
    from pipeline.cycle import stage_feedback, stage_pull, stage_validate
    from pipeline.dbt import run_dbt, target_dir
    from sheets.client import make_client
    from tonghop import alerts
    from tonghop.settings import load_local_secrets

    period = "CB-2026-NAM"
    own = settings.with_overrides(emulator_url=emulator.url)
    key_file = tmp_path / "google_service_account.json"
    key = {
        "type": "service_account",
        "project_id": "tonghop-test",
        "private_key_id": "fedcba9876543210" + "fedcba98",
        "private_key": PEM,
        "client_email": "tonghop@tonghop-test.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    key_file.write_text(json.dumps(key), encoding="utf-8")
    monkeypatch.setenv("TONGHOP_ALERT_WEBHOOK", WEBHOOK)
    log = logging.getLogger("tonghop.debugging")
    with caplog.at_level(logging.DEBUG):
        pulled = stage_pull(own, period)
        stage_validate(own, period, pulled["pull_run_id"])
        stage_feedback(own, period)
        run_dbt(own, ["debug"])
        log.debug("settings while debugging: %s", own)
        log.debug("loader DSN: %s; transformer: %s", own.dsn("loader"), own.dsn("transformer"))
        import psycopg2

        mistyped = own.dsn("loader").replace("/tonghop", "/tonghop?sslmode=bogus")
        with pytest.raises(psycopg2.Error):
            try:
                psycopg2.connect(mistyped)
            except psycopg2.Error:
                log.exception("cannot reach the warehouse at %s", mistyped)
                raise
        try:
            make_client(
                own.with_overrides(sheets_backend="google", google_credentials_file=str(key_file))
            )
        except Exception:
            pass
        log.error("a key file that does not load: %s", key_file.read_text(encoding="utf-8"))
        answer = alerts.send("[tonghop] test alert", {"error": f"failed at {mistyped}"})
    printed = capfd.readouterr()
    assert "webhook" in answer and answer["webhook"].startswith("failed")
    texts = {
        "captured logs": caplog.text,
        "stdout": printed.out,
        "stderr": printed.err,
        "alert answer": json.dumps(answer),
    }
    assert "Connection test" in caplog.text  # dbt did log its connection
    assert "cannot reach the warehouse" in caplog.text and "a key file" in caplog.text
    dbt_logs = Path(os.environ.get("DBT_LOG_PATH") or ROOT / "dbt_project" / "logs")
    dbt_log_file = dbt_logs / "dbt.log"
    assert dbt_log_file.exists()
    for path in [dbt_log_file, *target_dir(own).glob("*.json")]:
        texts[str(path)] = path.read_text(encoding="utf-8", errors="replace")
    secrets = {f"{role} password": password for role, password in load_local_secrets().items()}
    secrets |= {
        "webhook key": WEBHOOK_KEY,
        "webhook token": WEBHOOK_TOKEN,
        "private key": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
        "private key id": key["private_key_id"],
    }
    leaks = [
        f"{name} in {where}"
        for where, text in texts.items()
        for name, secret in secrets.items()
        if any(form in text for form in secret_forms(secret))
    ]
    assert not leaks, leaks


def test_airflow_tasks_mask_what_we_register():
    """Inside an Airflow task, our secrets also go to Airflow's masker (task logs, rendered
    fields), encoded forms included."""
    import airflow.sdk  # noqa: F401 - what a running task has imported
    from airflow.sdk._shared.secrets_masker import redact

    from tonghop.masking import register_dsn

    password = "Af-" + "only*pass/42"  # pragma: allowlist secret (fake)
    register_dsn(f"postgresql://loader:{quote(password, safe='')}@db:5432/tonghop")
    redacted = str(
        redact(f"dsn postgresql://loader:{quote(password, safe='')}@db/x and {password}")
    )
    assert password not in redacted and quote(password, safe="") not in redacted, redacted


def test_the_masking_is_installed_by_any_settings():
    from tonghop import masking
    from tonghop.settings import load_settings

    load_settings()
    assert masking._masking_installed
    fake_dsn = "postgresql://u:Xyz12345Q@h/db"  # pragma: allowlist secret
    record = logging.getLogRecordFactory()(
        "x", logging.INFO, __file__, 1, "dsn %s", (fake_dsn,), None
    )
    assert record.getMessage() == "dsn postgresql://u:***@h/db"
    assert re.search(r"\*\*\*", record.getMessage())
