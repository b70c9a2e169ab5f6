"""Alerts reach the configured webhook, and a broken webhook does not raise."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from tonghop import alerts


@pytest.fixture
def webhook(alert_webhook):
    return alert_webhook


def context(**overrides):
    ti = SimpleNamespace(
        dag_id="tonghop_reporting_cycle", task_id="pull", try_number=2, log_url="http://airflow/log"
    )
    dag_run = SimpleNamespace(dag_id="tonghop_reporting_cycle", run_id="manual__1")
    return {
        "task_instance": ti,
        "dag_run": dag_run,
        "params": {"period_code": "CB-2026-6T"},
        "exception": RuntimeError("Sheets API 503"),
        **overrides,
    }


def test_a_task_failure_posts_what_failed_and_why(webhook):
    alerts.on_task_failure(context())
    [body] = webhook
    assert body["task_id"] == "pull" and body["period_code"] == "CB-2026-6T"
    assert body["error"] == "Sheets API 503" and body["try_number"] == 2
    assert "Lỗi chạy" in body["text"] and "tonghop_reporting_cycle.pull" in body["text"]


def test_a_stage_past_its_budget_is_reported_while_it_runs(webhook, monkeypatch):
    """A deadline alert: sent when the budget runs out, not when the stage ends; a stage
    within its budget sends nothing."""
    monkeypatch.setenv("TONGHOP_STAGE_BUDGETS", '{"pull": 0.05, "validate": 60}')
    with alerts.watch("validate", context(exception=None)):
        pass
    assert webhook == []
    with alerts.watch("pull", context(exception=None)) as watched:
        assert watched.alerted.wait(timeout=10), "no alert while the stage was still running"
        for _ in range(100):  # the webhook server stores it a moment later
            if webhook:
                break
            time.sleep(0.05)
        [body] = webhook
    assert "Chạy chậm" in body["text"] and body["stage"] == "pull"
    assert "still running" in body["text"]
    assert body["budget_seconds"] == 0.05 and body["seconds"] >= 0.05
    assert len(webhook) == 1  # nothing more when it ends


def test_a_broken_webhook_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("TONGHOP_ALERT_WEBHOOK", "http://127.0.0.1:9/unreachable")
    outcome = alerts.send("x", {"a": 1})
    assert outcome["webhook"].startswith("failed")


def test_without_targets_the_alert_is_only_logged(monkeypatch, caplog):
    monkeypatch.delenv("TONGHOP_ALERT_WEBHOOK", raising=False)
    monkeypatch.delenv("TONGHOP_ALERT_EMAIL", raising=False)
    assert alerts.send("subject", {"a": 1}) == {}
    assert "ALERT subject" in caplog.text
