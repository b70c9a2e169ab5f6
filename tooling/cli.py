"""`tonghop` — the command line of the reporting warehouse ("tổng hợp": consolidate).

tonghop demo                      a whole reporting cycle on a demo province, through Airflow
tonghop db start|stop|status      the local PostgreSQL cluster
tonghop emulator                  run the local Sheets emulator
tonghop template --unit U --period P -o FILE.xlsx
tonghop provision --period P      create each expected unit's report sheet (idempotent)
tonghop generate --period P       fill the emulator with a demo province
tonghop check FILE.xlsx           check one filled report offline
tonghop run --period P            all stages in this process (no Airflow)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import re
import sys
import textwrap
import traceback
from pathlib import Path

from tonghop.errors import EXIT_ENVIRONMENT, EXIT_FAILED, EnvironmentNotReady, UserError, one_line

DEFAULT_DEMO_PERIOD = "CB-2026-6T"

EXIT_CODES = """\
exit codes (mã thoát):
  0  valid / done (hợp lệ / xong)
  1  check: the report would not count as it is (báo cáo chưa được tính): it has errors
     (every problem is listed with its cell), "Đã nộp" is not chosen, or nothing is filled
  2  bad usage or unreadable input (sai cách dùng, tệp không đọc được): an unknown unit or
     period (the nearest codes are suggested), a file that is not a readable .xlsx
  3  the environment is not ready (môi trường chưa sẵn sàng): PostgreSQL not running or not
     reachable, the Sheets emulator not answering, sheets not provisioned; the message says
     what to run, e.g. `tonghop db start`
  4  a stage failed otherwise: one line here, the traceback in a log file under
     .local/logs/ (its path is printed); -v also prints it
  130  interrupted (Ctrl+C)
"""
#: libpq's words for a connection that could not be made (not one lost under a stage)
_CANNOT_CONNECT = re.compile(
    r"Connection refused|could not connect|could not translate host"
    r"|timeout expired|password authentication failed|does not exist"
    r"|No such file or directory|no password supplied",
    re.I,
)


def _settings():
    from tonghop.settings import load_settings

    return load_settings()


# ------------------------------------------------------------------ checks before the work
def _catalogue():
    """The catalogue of the seeds (no database)."""
    from tonghop.catalogue import load_catalogue

    return load_catalogue()


def _require_seeded_period(period_code: str) -> None:
    """``generate``/``demo`` build a province from the seeds: the period must be one of them."""
    from tooling.codes import require_period

    require_period(_catalogue(), period_code)


def _require_database(settings) -> None:
    """The warehouse answers as the loader, or EnvironmentNotReady (exit 3)."""
    import psycopg2

    from tonghop.masking import mask_secrets

    try:
        dsn = settings.dsn("loader")
    except RuntimeError:
        raise EnvironmentNotReady(
            "Chưa có kết nối tới kho dữ liệu PostgreSQL: cụm cục bộ chưa từng được khởi động ở "
            "đây và không có TONGHOP_LOADER_DSN. Chạy `tonghop db start` rồi thử lại."
        ) from None
    try:
        psycopg2.connect(dsn, connect_timeout=5).close()
    except psycopg2.Error as exc:
        raise EnvironmentNotReady(
            f"Không kết nối được kho dữ liệu PostgreSQL ({mask_secrets(one_line(exc))}). Chạy "
            "`tonghop db start` (cụm cục bộ) hoặc kiểm tra TONGHOP_PG_HOST, TONGHOP_PG_PORT, "
            "TONGHOP_LOADER_DSN, rồi thử lại."
        ) from exc


def _require_sheets(settings) -> None:
    """The Sheets backend can be reached (the emulator answers; Google's key file is there),
    or EnvironmentNotReady (exit 3). Google itself is not called."""
    if settings.sheets_backend == "emulator":
        import requests

        url = settings.emulator_url.rstrip("/")
        try:
            requests.get(f"{url}/_emulator/health", timeout=3)
        except requests.RequestException:
            raise EnvironmentNotReady(
                f"Trình giả lập Google Sheets không trả lời tại {url}. Chạy `tonghop emulator` "
                "trong một cửa sổ khác (hoặc đặt TONGHOP_EMULATOR_URL), rồi thử lại."
            ) from None
    elif settings.sheets_backend == "google":
        key = settings.google_credentials_file
        if not key or not Path(key).is_file():
            raise EnvironmentNotReady(
                "Không có khóa tài khoản dịch vụ Google"
                + (f" “{key}”" if key else "")
                + ": đặt GOOGLE_APPLICATION_CREDENTIALS là "
                "đường dẫn tới tệp khóa (.json), rồi thử lại."
            )
    else:
        raise EnvironmentNotReady(
            f"TONGHOP_SHEETS_BACKEND phải là “emulator” hoặc “google”, không phải "
            f"“{settings.sheets_backend}”."
        )


def _pipeline_catalogue(settings, period_code: str):
    """The catalogue for ``run``/``provision``, with ``period_code`` known in it: a seeded
    period needs no database; any other code may be an ad hoc period, which lives in the
    warehouse (ops.adhoc_periods)."""
    from tonghop.catalogue import load_catalogue
    from tooling.codes import require_period

    catalogue = _catalogue()
    if period_code not in catalogue.periods:
        try:
            _require_database(settings)
        except EnvironmentNotReady as not_ready:
            try:
                require_period(catalogue, period_code)
            except UserError as unknown:
                raise EnvironmentNotReady(
                    f"{unknown.message_vi} Các kỳ đột xuất nằm trong kho dữ liệu nhưng chưa "
                    f"xem được: {not_ready.message_vi}"
                ) from None
        catalogue = load_catalogue(settings=settings)
    require_period(catalogue, period_code)
    return catalogue


def _check_pipeline_args(period_code: str, unit_codes=()) -> None:
    """``run``/``provision``: the codes, then the database and the Sheets backend, before any
    stage starts."""
    from tooling.codes import require_expected_unit

    settings = _settings()
    catalogue = _pipeline_catalogue(settings, period_code)
    for code in unit_codes or ():
        require_expected_unit(catalogue, code, period_code)
    _require_database(settings)
    _require_sheets(settings)


# ------------------------------------------------------------------ db
def cmd_db(args) -> int:
    from tooling import localdb

    cluster = localdb.default_cluster()
    if args.action == "start":
        localdb.start(cluster)
        print(f"PostgreSQL đang chạy: {cluster.where()}")
    elif args.action == "stop":
        print("Đã dừng PostgreSQL." if localdb.stop(cluster) else "PostgreSQL không chạy.")
    elif args.action == "destroy":
        localdb.destroy(cluster)
        print(f"Đã xóa cụm PostgreSQL cục bộ {cluster.root}.")
    else:
        running = localdb.is_running(cluster)
        print(f"PostgreSQL {'đang chạy' if running else 'không chạy'}: {cluster.where()}")
        return 0 if running else 3
    return 0


# ------------------------------------------------------------------ emulator
def cmd_emulator(args) -> int:
    from sheets_emulator.__main__ import main as emulator_main

    return emulator_main(
        ["serve", "--root", str(args.root), "--host", args.host, "--port", str(args.port)]
    )


# ------------------------------------------------------------------ template / check
def cmd_template(args) -> int:
    from sheets.template import write_template
    from tooling.codes import require_unit_in_programme

    catalogue = _catalogue()
    require_unit_in_programme(catalogue, args.unit, args.period)
    path = write_template(catalogue, args.unit, args.period, Path(args.output))
    print(f"Đã tạo mẫu báo cáo: {path}")
    return 0


def cmd_check(args) -> int:
    from sheets.xlsx_guard import guard_xlsx
    from tooling.codes import require_period, require_unit

    catalogue = _catalogue()
    if args.period:
        require_period(catalogue, args.period)
    if args.unit:
        require_unit(catalogue, args.unit)
    if args.output:
        from sheets.template import require_output_path

        require_output_path(Path(args.output))
    guard_xlsx(Path(args.file))  # before the checks' heavy imports
    from tooling.check import check_workbook, print_problems, write_checked_copy

    result = check_workbook(Path(args.file), unit_code=args.unit, period_code=args.period)
    print_problems(result, Path(args.file).name)
    if args.output:
        path = write_checked_copy(Path(args.file), result, Path(args.output))
        print(f"Đã ghi bản có trang “Kết quả kiểm tra”: {path}")
    return 0 if result.would_count else 1


# ------------------------------------------------------------------ generate / run / demo
def cmd_generate(args) -> int:
    _require_seeded_period(args.period)
    if not args.no_register:
        _require_database(_settings())
    from tooling.demo_setup import generate_into_emulator

    manifest, _ = generate_into_emulator(
        args.period, seed=args.seed, root=args.root, register=not args.no_register
    )
    counts = {}
    for scenario in manifest.scenarios.values():
        counts[scenario] = counts.get(scenario, 0) + 1
    print(
        f"Đã tạo {len(manifest.scenarios)} bảng báo cáo cho kỳ {args.period}: "
        + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    )
    return 0


def cmd_provision(args) -> int:
    _check_pipeline_args(args.period)
    from pipeline.cycle import stage_provision

    result = stage_provision(_settings(), args.period, layout=args.layout, share=not args.no_share)
    updated = len(result.get("updated", []))
    settled = result.get("settled") or []
    print(
        f"Kỳ {args.period}: tạo mới {len(result['created'])} bảng tính, "
        f"cập nhật theo danh mục {updated}, giữ nguyên {len(result['existing']) - updated}"
        + (
            f" (đặt ngôn ngữ, múi giờ Việt Nam cho {len(settled)} bảng tính tạo trước đây)"
            if settled
            else ""
        )
        + f"; {result['api_calls_total']} lệnh gọi API."
    )
    for unit_code, reason in result.get("update_failed", {}).items():
        print(f"  {unit_code}: chưa cập nhật được bảng tính ({reason}); chạy lại lệnh sau.")
    return 0


def cmd_run(args) -> int:
    """One line per stage on the console, everything else in ``<state>/logs/run-<time>.log``;
    ``--json`` prints what each stage returned instead (for scripts)."""
    _check_pipeline_args(args.period, args.unit)
    from pipeline.cycle import run_cycle
    from tonghop import progress
    from tonghop.settings import state_dir
    from tooling import console

    log_path = console.log_file_path(state_dir(), "run")
    lines = console.StageLines(sys.stderr if args.json else sys.stdout)
    stop_listening = progress.listen(lines)
    try:
        with console.log_to_file(log_path, logging.DEBUG if args.verbose else logging.INFO):
            try:
                result = run_cycle(
                    _settings(),
                    args.period,
                    mode="full" if args.full else "auto",
                    unit_codes=args.unit or None,
                )
            except UserError:  # what to put right: main() says it in one line
                logging.getLogger("tonghop.run").exception("the cycle stopped")
                raise
            except Exception as exc:
                logging.getLogger("tonghop.run").exception("the cycle stopped")
                environment = _environment_problem(exc)
                if environment:
                    print(f"Lỗi: {environment} Nhật ký: {log_path}", file=sys.stderr)
                    return EXIT_ENVIRONMENT
                lines.print(
                    f"Chu kỳ báo cáo dừng vì lỗi ({type(exc).__name__}). Xem nhật ký "
                    f"đầy đủ: {log_path}"
                )
                return EXIT_FAILED
    finally:
        stop_listening()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    lines.print(f"Nhật ký đầy đủ (dbt, Great Expectations): {log_path}")
    return 0


def cmd_demo(args) -> int:
    _require_seeded_period(args.period)
    from tooling.demo_setup import run_demo

    return run_demo(args.period, seed=args.seed, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    """The command line. ``template`` and ``check`` are run by units' officials: their help is
    in Vietnamese, with the English in brackets; the other commands are the data engineers',
    in English, with the Vietnamese term where the project uses one."""
    from tonghop.settings import DEFAULT_EMULATOR_PORT, state_dir

    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="tonghop", description=__doc__, epilog=EXIT_CODES, formatter_class=raw
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug logging, and the traceback of a failure on the console",
    )
    sub = parser.add_subparsers(
        dest="command",
        required=True,
        title="commands",
        help="run `tonghop COMMAND --help` for a command's options",
    )

    def command(name: str, summary: str, description: str) -> argparse.ArgumentParser:
        # raw, for the exit codes' layout: the description is wrapped here
        wrapped = "\n".join(textwrap.fill(line, 88) for line in description.split("\n"))
        return sub.add_parser(
            name, help=summary, description=wrapped, epilog=EXIT_CODES, formatter_class=raw
        )

    p = command(
        "db",
        "the local PostgreSQL cluster (start, stop, status, destroy)",
        "The local PostgreSQL cluster of the warehouse (under .local/pg; the port is "
        "TONGHOP_PG_PORT). Idempotent.",
    )
    p.add_argument(
        "action",
        choices=["start", "stop", "status", "destroy"],
        help="start: create it the first time, start it, apply roles and structure; "
        "stop: stop it; status: exit 0 if it runs, 3 if not; destroy: stop it "
        "and delete its data",
    )
    p.set_defaults(func=cmd_db)

    p = command(
        "emulator",
        "run the local Sheets/Drive emulator",
        "Serve the local Google Sheets/Drive emulator (trình giả lập) until Ctrl+C; "
        "`run`, `provision` and Airflow's tasks talk to it.",
    )
    p.add_argument(
        "--root",
        type=Path,
        default=state_dir() / "emulator",
        help="folder it keeps the spreadsheets in (default: %(default)s)",
    )
    p.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_EMULATOR_PORT,
        help="port to listen on (default: %(default)s)",
    )
    p.set_defaults(func=cmd_emulator)

    p = command(
        "template",
        "tạo mẫu báo cáo trống (.xlsx) của một đơn vị cho một kỳ (a unit's blank report)",
        "Tạo mẫu báo cáo trống của một đơn vị cho một kỳ báo cáo, dạng tệp Excel (.xlsx): "
        "các trang Hướng dẫn, Thông tin, Nhiệm vụ, Chỉ tiêu, Phản hồi; chỉ các ô cần "
        "điền được mở khóa.\n(A unit's blank report for a period, as an .xlsx file.)\n\n"
        "Ví dụ: tonghop template --unit CB-XA-001 --period CB-2026-6T -o bao_cao.xlsx",
    )
    p.add_argument(
        "--unit",
        required=True,
        metavar="MÃ_ĐƠN_VỊ",
        help="mã đơn vị (unit code), ví dụ CB-XA-001; gõ sai thì lệnh gợi ý mã gần nhất",
    )
    p.add_argument(
        "--period",
        required=True,
        metavar="MÃ_KỲ",
        help="mã kỳ báo cáo (period code), ví dụ CB-2026-6T",
    )
    p.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="TỆP.xlsx",
        help="tệp .xlsx sẽ tạo (the file to write); thư mục chưa có thì được tạo",
    )
    p.set_defaults(func=cmd_template)

    p = command(
        "check",
        "kiểm tra một báo cáo đã điền (.xlsx), không cần mạng (check one filled report offline)",
        "Kiểm tra một báo cáo đã điền (tệp Excel .xlsx) bằng đúng các quy tắc của hệ "
        "thống, không cần mạng; không lưu gì. Mỗi vấn đề ghi rõ trang, ô và cách sửa.\n"
        "(The pipeline's own checks on one filled report, offline.)\n\n"
        "Ví dụ: tonghop check bao_cao.xlsx -o bao_cao_da_kiem_tra.xlsx",
    )
    p.add_argument(
        "file",
        metavar="TỆP.xlsx",
        help="tệp báo cáo đã điền (the filled report, .xlsx). Tệp có mật khẩu, tệp "
        ".xls cũ, tệp hỏng, tệp không phải Excel và tệp quá lớn bị từ chối, có "
        "ghi lý do",
    )
    p.add_argument(
        "--unit",
        metavar="MÃ_ĐƠN_VỊ",
        help="mã đơn vị của tệp (the unit the file belongs to); mặc định: mã ghi trong tệp",
    )
    p.add_argument(
        "--period", metavar="MÃ_KỲ", help="mã kỳ báo cáo (the period); mặc định: mã ghi trong tệp"
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="TỆP.xlsx",
        help="ghi thêm một bản sao của tệp có trang “Kết quả kiểm tra”, như đơn vị "
        "nhận trên Google Sheets (a copy with the check tab)",
    )
    p.set_defaults(func=cmd_check)

    p = command(
        "generate",
        "fill the emulator with a demo province",
        "Write every expected unit's filled report (tỉnh mẫu: a demo province, with "
        "late, missing and faulty reports) into the emulator's folder, and record them "
        "in ops.sheet_registry.",
    )
    add_demo_province_arguments(p)
    p.add_argument(
        "--root",
        type=Path,
        default=state_dir() / "emulator",
        help="the emulator's folder (default: %(default)s)",
    )
    p.add_argument(
        "--no-register",
        action="store_true",
        help="do not record the sheets in ops.sheet_registry (no database needed)",
    )
    p.set_defaults(func=cmd_generate)

    p = command(
        "provision",
        "create (or reuse) each expected unit's report sheet",
        "Create, through the Sheets API, the report spreadsheet of every unit expected "
        "for the period, shared with the unit and recorded in ops.sheet_registry. "
        "Idempotent: a registered unit is not touched. Needs PostgreSQL and the Sheets "
        "backend (the emulator: `tonghop emulator`).",
    )
    add_pipeline_period_argument(p)
    p.add_argument(
        "--layout",
        choices=["per_unit", "per_period"],
        default=None,
        help="per_unit: one spreadsheet per unit; per_period: one spreadsheet for "
        "the period, a tab per unit (default: the period's sheet_layout in "
        "the catalogue)",
    )
    p.add_argument(
        "--no-share",
        action="store_true",
        help="do not share the sheets with the units' e-mail addresses",
    )
    p.set_defaults(func=cmd_provision)

    p = command(
        "run",
        "run all stages in this process, without Airflow",
        "Every stage of a reporting cycle in this process, without Airflow: pull, "
        "validate, dbt build, feedback to units (“Kết quả kiểm tra” tabs), publish. "
        "Needs PostgreSQL and the Sheets backend.",
    )
    add_pipeline_period_argument(p)
    p.add_argument("--full", action="store_true", help="read every spreadsheet, changed or not")
    p.add_argument(
        "--unit",
        action="append",
        metavar="UNIT_CODE",
        help="read only this unit's spreadsheet again, changed or not (repeatable); "
        "the unit must be expected for the period",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help="print what every stage returned, as JSON, on standard output (the "
        "stage lines then go to standard error)",
    )
    p.set_defaults(func=cmd_run)

    p = command(
        "demo",
        "a whole reporting cycle on a demo province, via Airflow",
        "Start the local PostgreSQL, fill the emulator with a demo province, run the "
        "cycle's DAGs with `airflow dags test`, and show what came out.",
    )
    add_demo_province_arguments(p)
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_EMULATOR_PORT,
        help="port of the Sheets emulator the demo starts (default: %(default)s)",
    )
    p.set_defaults(func=cmd_demo)
    return parser


def add_demo_province_arguments(p: argparse.ArgumentParser) -> None:
    """--period and --seed of a demo province (``generate``, ``demo``)."""
    p.add_argument(
        "--period",
        default=DEFAULT_DEMO_PERIOD,
        metavar="PERIOD_CODE",
        help="period code (mã kỳ báo cáo) of the seeds (default: %(default)s)",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=2026,
        help="random seed: the same seed gives the same province (default: %(default)s)",
    )


def add_pipeline_period_argument(p: argparse.ArgumentParser) -> None:
    """--period of a command that runs a stage on a period (``provision``, ``run``)."""
    p.add_argument(
        "--period",
        required=True,
        metavar="PERIOD_CODE",
        help="period code (mã kỳ báo cáo), e.g. CB-2026-6T, or an ad hoc period "
        "requested in the warehouse",
    )


#: commands that write their own log file and show stage lines on the console
LOGGING_COMMANDS = {"demo", "run", "emulator"}


# ------------------------------------------------------------------ failures
def _log_dir() -> Path:
    from tonghop.settings import state_dir
    from tooling.console import log_dir

    return log_dir(state_dir())


def _write_failure_log(argv: list[str], exc: BaseException) -> Path | None:
    """The traceback of a failed command, in .local/logs/ (or the temp folder); None if
    neither can be written."""
    import tempfile

    from tonghop.masking import mask_secrets

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    command = next((a for a in argv if not a.startswith("-")), "tonghop")
    text = mask_secrets(
        f"tonghop {' '.join(argv)}\n{dt.datetime.now().isoformat()}\n\n"
        + "".join(traceback.format_exception(exc))
    )
    for folder in (_log_dir(), Path(tempfile.gettempdir())):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"tonghop-{command}-{stamp}-{os.getpid()}.log"
            path.write_text(text, encoding="utf-8")
            return path
        except OSError:
            continue
    return None


def _environment_problem(exc: BaseException) -> str | None:
    """The Vietnamese message when ``exc``, raised under a command, means the environment is
    not ready (exit 3) rather than a failed stage: the local cluster cannot start, a connection
    to PostgreSQL or to the Sheets backend cannot be made."""
    import psycopg2
    import requests

    from tooling.localdb import LocalDbError

    if isinstance(exc, LocalDbError):
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"PostgreSQL cục bộ chưa sẵn sàng: {first}"
    if isinstance(exc, psycopg2.OperationalError) and _CANNOT_CONNECT.search(str(exc)):
        return (
            f"Không kết nối được kho dữ liệu PostgreSQL ({one_line(exc)}). Chạy "
            "`tonghop db start` (cụm cục bộ) hoặc kiểm tra TONGHOP_PG_HOST, TONGHOP_PG_PORT, "
            "TONGHOP_LOADER_DSN, rồi thử lại."
        )
    if isinstance(exc, requests.ConnectionError):
        return (
            f"Không kết nối được Google Sheets / trình giả lập ({one_line(exc)[:200]}). Với "
            "trình giả lập: chạy `tonghop emulator`; với Google: kiểm tra mạng, rồi thử lại."
        )
    return None


def _fail(argv: list[str], command: str, exc: Exception, verbose: bool) -> int:
    """One line on stderr and the traceback in a log file (on the console too with -v)."""
    from tonghop.masking import mask_secrets

    if verbose:
        traceback.print_exc()
    log = _write_failure_log(argv, exc)
    where = f" Chi tiết (traceback): {log}" if log else ""
    environment = _environment_problem(exc)
    if environment:
        print(mask_secrets(f"Lỗi: {environment}{where}"), file=sys.stderr)
        return EXIT_ENVIRONMENT
    detail = one_line(exc)
    detail = detail if len(detail) <= 300 else detail[:299] + "…"
    print(
        mask_secrets(
            f"Lỗi: `tonghop {command}` thất bại: {type(exc).__name__}: {detail}."
            f"{where}" + ("" if verbose else " (-v: in traceback ra màn hình)")
        ),
        file=sys.stderr,
    )
    return EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = build_parser().parse_args(argv)
    # the console shows a command's answer; libraries' INFO lines are not part of it (demo and
    # run send them to a log file of their own, the emulator is a server that logs)
    quiet = args.command not in LOGGING_COMMANDS and not args.verbose
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    try:
        return args.func(args)
    except UserError as exc:
        if args.verbose:
            traceback.print_exc()
        print(f"Lỗi: {exc.message_vi}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Đã dừng (Ctrl+C).", file=sys.stderr)
        return 130
    except Exception as exc:
        return _fail(argv, args.command, exc, args.verbose)


if __name__ == "__main__":
    sys.exit(main())
