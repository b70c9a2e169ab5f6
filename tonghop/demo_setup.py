"""Setting up and running the demo: a province's sheets in the emulator, then the DAG."""

from __future__ import annotations

import base64
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
from tonghop.catalogue import load_catalogue
from tonghop.demo import DemoManifest, generate_province
from tonghop.layout import app_properties, spreadsheet_title
from tonghop.settings import Settings, load_settings, state_dir

log = logging.getLogger(__name__)


def demo_spreadsheet_id(period_code: str, unit_code: str) -> str:
    """Stable, Google-shaped (44 url-safe characters) id, so reruns replace the same file."""
    digest = hashlib.sha256(f"tonghop-demo:{period_code}:{unit_code}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:44].ljust(44, "A")


def manifest_path(root: Path, period_code: str) -> Path:
    return root / f"_demo_manifest_{period_code}.json"


def generate_into_emulator(period_code: str, *, seed: int = 2026, root: Path | None = None,
                           register: bool = True, settings: Settings | None = None
                           ) -> tuple[DemoManifest, list[RegistryEntry]]:
    """Write every unit's filled report into the emulator's folder; record who owns which."""
    from sheets_emulator import SpreadsheetStore

    catalogue = load_catalogue()
    root = Path(root or state_dir() / "emulator")
    store = SpreadsheetStore(root)
    reports, manifest = generate_province(catalogue, period_code, seed=seed)
    entries = []
    with store.batch():     # one write of Drive's metadata for the whole province
        for report in reports:
            spreadsheet_id = store.put_workbook(
                demo_spreadsheet_id(period_code, report.unit_code), report.workbook,
                name=spreadsheet_title(catalogue, report.unit_code, period_code),
                modified_time=report.modified_time,
                app_properties=app_properties(report.unit_code, period_code))
            entries.append(RegistryEntry(spreadsheet_id, manifest.programme_code,
                                         period_code, report.unit_code))
    manifest_path(root, period_code).write_text(json.dumps({
        "programme_code": manifest.programme_code, "period_code": period_code, "seed": seed,
        "scenarios": manifest.scenarios,
        "valid_values": {u: {k: (None if v is None else str(v)) for k, v in vals.items()}
                         for u, vals in manifest.valid_values.items()},
    }, ensure_ascii=False, indent=2), encoding="utf-8")
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

    def __enter__(self) -> "EmulatorProcess":
        try:
            requests.get(f"{self.url}/_emulator/health", timeout=1)
            raise RuntimeError(f"Port {self.port} is already in use; stop what runs there or "
                               "pass --port.")
        except requests.ConnectionError:
            pass
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "sheets_emulator", "serve", "--root", str(self.root),
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Sheets emulator exited: {self.proc.stderr.read()}")
            try:
                if requests.get(f"{self.url}/_emulator/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("Sheets emulator did not start within 30 s")

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def run_demo(period_code: str, *, seed: int = 2026, port: int = 8931) -> int:
    """`tonghop demo`: database, demo province, emulator, Airflow run, and what came out."""
    from tonghop import local_airflow, localdb

    cluster = localdb.default_cluster()
    print(f"1/5 PostgreSQL cục bộ (127.0.0.1:{cluster.port}) …", flush=True)
    localdb.start(cluster)
    settings = load_settings().with_overrides(emulator_url=f"http://127.0.0.1:{port}",
                                              sheets_backend="emulator")
    root = state_dir() / "emulator"
    print(f"2/5 Tạo tỉnh mẫu cho kỳ {period_code} trong trình giả lập Google Sheets ({root}) …",
          flush=True)
    manifest, entries = generate_into_emulator(period_code, seed=seed, root=root,
                                               settings=settings)
    env = local_airflow.airflow_env(settings, cluster.port)
    print("3/5 Chuẩn bị cơ sở dữ liệu của Airflow …", flush=True)
    local_airflow.migrate(env)
    with EmulatorProcess(root, port):
        print(f"4/5 Chạy các DAG {', '.join(local_airflow.CYCLE_DAG_IDS)} (airflow dags test) …",
              flush=True)
        local_airflow.dags_test(env, period_code)
    print("5/5 Kết quả:", flush=True)
    print_outcome(settings, period_code)
    return 0


def print_outcome(settings: Settings, period_code: str) -> None:
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        with conn.cursor() as cur:
            cur.execute("""select expected_reports, actual_reports, on_time_reports,
                                  late_reports, missing_reports, reporting_rate
                           from marts.province_summary where period_code = %s""",
                        (period_code,))
            row = cur.fetchone()
    finally:
        conn.close()
    if row:
        from publish.marts import pct_vi
        expected, actual, on_time, late, missing, rate = row
        print(f"   Phải báo cáo: {expected} đơn vị; đã nộp hợp lệ: {actual} "
              f"(đúng hạn {on_time}, trễ hạn {late}); chưa nộp: {missing}; "
              f"tỷ lệ nộp {pct_vi(rate)}")
    runs = sorted((Path(settings.output_dir) / period_code).glob("*/tong_hop_*.xlsx"),
                  key=lambda p: p.stat().st_mtime)
    if runs:
        print(f"   Bảng tổng hợp (xlsx): {runs[-1]}")
        for report in sorted(runs[-1].parent.glob("bao_cao_*")):
            print(f"   Dự thảo báo cáo: {report}")
        for reminder in runs[-1].parent.glob("nhac_nho_*.txt"):
            print(f"   Danh sách đơn vị chưa nộp (để nhắc): {reminder}")
    docs = Path(settings.output_dir) / "dbt_docs" / "index.html"
    if docs.exists():
        print(f"   Tài liệu kho dữ liệu (dbt docs): {docs}")
    print("   Bảng cho BI (đăng nhập bi_reader): schema marts - reporting_rate, indicator_totals, "
          "fct_submission, data_quality_by_rule …")
