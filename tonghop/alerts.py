"""Telling data engineers when a run fails or runs late.

Targets come from the environment (set them in the Airflow containers, never in the repo):
``TONGHOP_ALERT_WEBHOOK`` — a URL that receives a JSON POST (Google Chat, Slack, Teams, Zalo
OA bridges all accept one) — and ``TONGHOP_ALERT_EMAIL`` — comma-separated addresses, sent
through Airflow's configured SMTP. With neither, the alert is only logged. An alert never
raises: a broken webhook must not hide the failure it reports.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

from tonghop.masking import install_log_masking, mask_secrets, register_secret

log = logging.getLogger(__name__)


def _targets() -> tuple[str | None, list[str]]:
    webhook = os.environ.get("TONGHOP_ALERT_WEBHOOK") or None
    # a webhook URL is a credential (Google Chat's key and token, Slack's path): never logged
    install_log_masking()
    register_secret(webhook)
    emails = [e.strip() for e in os.environ.get("TONGHOP_ALERT_EMAIL", "").split(",") if e.strip()]
    return webhook, emails


def send(subject: str, body: dict[str, Any]) -> dict[str, str]:
    """Send one alert to every configured target; returns {target: outcome}."""
    webhook, emails = _targets()
    outcomes: dict[str, str] = {}
    log.warning("ALERT %s: %s", subject, body)
    if webhook:
        try:
            import requests

            response = requests.post(webhook, json={"text": subject, **body}, timeout=10)
            outcomes["webhook"] = f"HTTP {response.status_code}"
        except Exception as exc:
            outcomes["webhook"] = mask_secrets(f"failed: {exc}")
            log.error("alert webhook failed: %s", exc)
    if emails:
        try:
            from airflow.utils.email import send_email

            lines = "".join(f"<li><b>{k}</b>: {v}</li>" for k, v in body.items())
            send_email(emails, subject, f"<ul>{lines}</ul>")
            outcomes["email"] = "sent"
        except Exception as exc:
            outcomes["email"] = mask_secrets(f"failed: {exc}")
            log.error("alert e-mail failed: %s", exc)
    return outcomes


def _describe(context: dict) -> dict[str, Any]:
    ti = context.get("task_instance") or context.get("ti")
    dag_run = context.get("dag_run")
    params = context.get("params") or {}
    return {
        "dag_id": getattr(dag_run, "dag_id", None) or getattr(ti, "dag_id", None),
        "run_id": getattr(dag_run, "run_id", None) or context.get("run_id"),
        "task_id": getattr(ti, "task_id", None),
        "try_number": getattr(ti, "try_number", None),
        "period_code": params.get("period_code"),
        "error": str(context.get("exception") or "")[:2000] or None,
        "log_url": getattr(ti, "log_url", None),
    }


def on_task_failure(context: dict) -> None:
    """Task failure callback (after its last retry)."""
    body = _describe(context)
    send(
        f"[tonghop] Lỗi chạy / task failed: {body['dag_id']}.{body['task_id']} "
        f"({body.get('period_code') or body['run_id']})",
        body,
    )


def deadline_at_risk(stage: str, projection: dict, context: dict | None = None) -> None:
    """The alert of a stage that cannot finish before its period's deadline, sent when it
    starts (``pipeline/deadline.py`` projects its finish from its calls and the quota)."""
    body = {**_describe(context or {}), "stage": stage, **projection}
    send(
        f"[tonghop] Không kịp hạn / deadline at risk: {stage} of {projection['period_code']} "
        f"projected to finish at {projection['projected_finish']}, after the deadline "
        f"{projection['deadline']}",
        body,
    )


#: how long each stage of the cycle may take before data engineers are told it runs late
#: (seconds); override with TONGHOP_STAGE_BUDGETS='{"pull": 600, ...}'
STAGE_BUDGETS = {
    "pull": 900,
    "validate": 600,
    "tell_units": 900,
    "build_warehouse": 900,
    "publish": 300,
    "remind": 120,
    "read_reviews": 300,
    "review_sheets": 300,
}


def stage_budget(stage: str) -> float:
    import json

    overrides = json.loads(os.environ.get("TONGHOP_STAGE_BUDGETS") or "{}")
    return float(overrides.get(stage, STAGE_BUDGETS.get(stage, 900)))


class watch:
    """``with watch("pull", context): ...`` — a deadline alert: when the stage is still running
    after its budget, an alert says so at that moment (the run goes on). A stage that hangs is
    stopped by the task's ``execution_timeout`` and reported by :func:`on_task_failure`."""

    def __init__(self, stage: str, context: dict | None = None):
        self.stage, self.context = stage, context or {}
        self.budget = stage_budget(stage)
        self.alerted = threading.Event()

    def __enter__(self):
        self.started = time.monotonic()
        self.timer = threading.Timer(self.budget, self._late)
        self.timer.daemon = True
        self.timer.start()
        return self

    def _late(self) -> None:
        elapsed = time.monotonic() - self.started
        body = {
            **_describe(self.context),
            "stage": self.stage,
            "seconds": round(elapsed, 1),
            "budget_seconds": self.budget,
        }
        self.alerted.set()
        send(
            f"[tonghop] Chạy chậm / stage late: {self.stage} still running after "
            f"{elapsed:.0f}s (budget {self.budget:.0f}s)",
            body,
        )

    def __exit__(self, *exc) -> None:
        self.timer.cancel()
