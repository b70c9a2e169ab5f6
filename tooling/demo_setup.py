"""Setting up and running the demo: a province's sheets in the emulator, then the DAG."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

from ingest.registry import RegistryEntry, register
from sheets.layout import app_properties, spreadsheet_title
from tonghop.catalogue import load_catalogue
from tonghop.errors import EnvironmentNotReady
from tonghop.settings import Settings, load_settings, state_dir
from tooling.demo import DemoManifest, generate_province
from tooling.mailbox import LocalMailbox

log = logging.getLogger(__name__)


def demo_spreadsheet_id(period_code: str, unit_code: str) -> str:
    """Stable, Google-shaped (44 url-safe characters) id, so reruns replace the same file."""
    digest = hashlib.sha256(f"tonghop-demo:{period_code}:{unit_code}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:44].ljust(44, "A")


def manifest_path(root: Path, period_code: str) -> Path:
    return root / f"_demo_manifest_{period_code}.json"


def generate_into_emulator(
    period_code: str,
    *,
    seed: int = 2026,
    root: Path | None = None,
    register: bool = True,
    settings: Settings | None = None,
) -> tuple[DemoManifest, list[RegistryEntry]]:
    """Write every unit's filled report into the emulator's folder; record who owns which."""
    from sheets_emulator import SpreadsheetStore

    catalogue = load_catalogue()
    root = Path(root or state_dir() / "emulator")
    store = SpreadsheetStore(root)
    reports, manifest = generate_province(catalogue, period_code, seed=seed)
    entries = []
    with store.batch():  # one write of Drive's metadata for the whole province
        for report in reports:
            spreadsheet_id = store.put_workbook(
                demo_spreadsheet_id(period_code, report.unit_code),
                report.workbook,
                name=spreadsheet_title(catalogue, report.unit_code, period_code),
                modified_time=report.modified_time,
                app_properties=app_properties(report.unit_code, period_code),
            )
            entries.append(
                RegistryEntry(
                    spreadsheet_id, manifest.programme_code, period_code, report.unit_code
                )
            )
    manifest_path(root, period_code).write_text(
        json.dumps(
            {
                "programme_code": manifest.programme_code,
                "period_code": period_code,
                "seed": seed,
                "scenarios": manifest.scenarios,
                "valid_values": {
                    u: {k: (None if v is None else str(v)) for k, v in vals.items()}
                    for u, vals in manifest.valid_values.items()
                },
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    if register:
        _register(settings or load_settings(), entries)
    return manifest, entries


def _register(settings: Settings, entries: list[RegistryEntry]) -> None:
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        register(conn, entries)
    finally:
        conn.close()


class EmulatorProcess:
    """The emulator as a child process (what the DAG's tasks talk to during the demo)."""

    def __init__(self, root: Path, port: int):
        self.root, self.port = root, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> EmulatorProcess:
        try:
            requests.get(f"{self.url}/_emulator/health", timeout=1)
            raise EnvironmentNotReady(
                f"Cổng {self.port} của trình giả lập Google Sheets đang có chương trình khác "
                f"dùng: dừng chương trình đó (có thể là một `tonghop emulator` đang chạy) hoặc "
                f"chọn cổng khác với --port."
            )
        except requests.ConnectionError:
            pass
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sheets_emulator",
                "serve",
                "--root",
                str(self.root),
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise EnvironmentNotReady(
                    f"Trình giả lập Google Sheets dừng ngay khi khởi động: "
                    f"{self.proc.stderr.read().strip()[-500:]}"
                )
            try:
                if requests.get(f"{self.url}/_emulator/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise EnvironmentNotReady("Trình giả lập Google Sheets không trả lời sau 30 giây.")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_demo(period_code: str, *, seed: int = 2026, port: int = 8931) -> int:
    """`tonghop demo`: database, demo province, emulator, Airflow run, and what came out.

    The console gets one line per step and stage (:mod:`tooling.console`); Airflow's, dbt's and
    Great Expectations' logs go to ``<state>/logs/demo-<time>.log``, named at the end."""
    from tooling import console, localdb

    log_path = console.log_file_path(state_dir(), "demo")
    lines = console.StageLines()
    started = time.monotonic()
    with console.log_to_file(log_path) as log_file:
        cluster = localdb.default_cluster()
        localdb.start(cluster)
        lines.print(f"PostgreSQL cục bộ: {cluster.where()}")
        settings = load_settings().with_overrides(
            emulator_url=f"http://127.0.0.1:{port}", sheets_backend="emulator"
        )
        root = state_dir() / "emulator"
        code, _ = demo_cycle(
            settings,
            period_code,
            seed=seed,
            root=root,
            pg_port=cluster.port,
            lines=lines,
            log_file=log_file,
            log_path=log_path,
            serving=lambda: EmulatorProcess(root, port),
        )
    if code == 0:
        lines.print(
            f"Xong sau {console.seconds_vi(time.monotonic() - started)}. Nhật ký đầy "
            f"đủ (Airflow, dbt, Great Expectations): {log_path}"
        )
    return code


def demo_cycle(
    settings: Settings,
    period_code: str,
    *,
    seed: int,
    root: Path,
    pg_port: int,
    lines,
    log_file,
    log_path: Path,
    serving=contextlib.nullcontext,
) -> tuple[int, DemoManifest]:
    """The demo's cycle after its database is up: the province written into the emulator's
    folder ``root``, Airflow's database migrated, the three DAGs run by ``airflow dags test``
    while ``serving()`` (the emulator) and a mailbox on this machine run (the units' reminder
    mails, written as .eml files in ``output/<period>/mail/``: :func:`mail_folder`), and the
    outcome — each step a line of ``lines`` (:class:`tooling.console.StageLines`), every tool's
    output in ``log_file``.

    Returns (exit code, what was generated); 4 when a DAG run failed."""
    from tonghop.progress import PROGRESS_FILE_ENV
    from tooling import console, local_airflow

    manifest, entries = generate_into_emulator(period_code, seed=seed, root=root, settings=settings)
    lines.print(
        f"Tỉnh mẫu: {len(entries)} đơn vị báo cáo kỳ {period_code}, trong trình giả "
        f"lập Google Sheets ({root})"
    )
    # the units' reminder mails go to a mailbox on this machine, never to the world
    mailbox = LocalMailbox(mail_folder(settings, period_code))
    settings = settings.with_overrides(smtp_url=mailbox.url(DEMO_SENDER))
    env = local_airflow.airflow_env(settings, pg_port)
    events = Path(log_path).with_suffix(".progress.jsonl")
    events.unlink(missing_ok=True)
    env[PROGRESS_FILE_ENV] = str(events)
    try:
        local_airflow.migrate(env, log=log_file)
        lines.print(f"Airflow: {' → '.join(local_airflow.CYCLE_DAG_IDS)} (airflow dags test)")
        with serving(), mailbox, console.FollowFile(events, lines):
            local_airflow.dags_test(env, period_code, log=log_file)
    except subprocess.CalledProcessError as exc:
        log.error("%s failed with exit code %s", " ".join(exc.cmd), exc.returncode)
        lines.print(
            f"Chu kỳ báo cáo dừng vì lỗi ở lệnh `{' '.join(exc.cmd[:3])}`. Xem nhật ký "
            f"đầy đủ: {log_path}"
        )
        return 4, manifest
    finally:
        events.unlink(missing_ok=True)
    print_outcome(settings, period_code, out=lines.print, mails=len(mailbox.received))
    return 0, manifest


#: the demo's sender of reminder mails (a reserved domain: nothing leaves this machine)
DEMO_SENDER = "nhacnho@demo.tonghop.invalid"


def mail_folder(settings: Settings, period_code: str) -> Path:
    """Where the demo's mailbox writes the mails it received (.eml)."""
    return Path(settings.output_dir) / period_code / "mail"


def print_outcome(
    settings: Settings, period_code: str, out=print, mails: int | None = None
) -> None:
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """select expected_reports, actual_reports, on_time_reports,
                                  late_reports, missing_reports, reporting_rate
                           from marts.agg_province_summary where period_code = %s""",
                (period_code,),
            )
            row = cur.fetchone()
    finally:
        conn.close()
    if row:
        from publish.marts import pct_vi

        expected, actual, on_time, late, missing, rate = row
        out(
            f"Kết quả: phải báo cáo {expected} đơn vị; đã nộp hợp lệ {actual} "
            f"(đúng hạn {on_time}, trễ hạn {late}); chưa nộp {missing}; "
            f"tỷ lệ nộp {pct_vi(rate)}"
        )
    runs = sorted(
        (Path(settings.output_dir) / period_code).glob("*/tong_hop_*.xlsx"),
        key=lambda p: p.stat().st_mtime,
    )
    if runs:
        out(f"   Bảng tổng hợp (xlsx): {runs[-1]}")
        for report in sorted(runs[-1].parent.glob("bao_cao_*")):
            out(f"   Dự thảo báo cáo: {report}")
        for reminder in runs[-1].parent.glob("nhac_nho_*.txt"):
            out(f"   Danh sách đơn vị chưa nộp (để nhắc): {reminder}")
    if mails is not None:
        out(
            f"   Thư nhắc gửi đơn vị: {mails} thư mới, mở bằng trình đọc thư (.eml): "
            f"{mail_folder(settings, period_code)}"
        )
    docs = Path(settings.output_dir) / "dbt_docs" / "index.html"
    if docs.exists():
        out(f"   Tài liệu kho dữ liệu (dbt docs): {docs}")
    out(
        "   Bảng cho BI (đăng nhập bi_reader): schema marts - agg_reporting_rate, "
        "agg_indicator_totals, fct_submission, agg_data_quality_by_rule …"
    )
