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
import json
import logging
import os
import sys
from pathlib import Path

DEFAULT_DEMO_PERIOD = "CB-2026-6T"


def _settings():
    from tonghop.settings import load_settings
    return load_settings()


# ------------------------------------------------------------------ db
def cmd_db(args) -> int:
    from tonghop import localdb
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
    return emulator_main(["serve", "--root", str(args.root), "--host", args.host,
                          "--port", str(args.port)])


# ------------------------------------------------------------------ template / check
def cmd_template(args) -> int:
    from tonghop.catalogue import load_catalogue
    from tonghop.template import write_template
    path = write_template(load_catalogue(), args.unit, args.period, Path(args.output))
    print(f"Đã tạo mẫu báo cáo: {path}")
    return 0


def cmd_check(args) -> int:
    from tonghop.check import check_workbook, print_problems, write_checked_copy
    result = check_workbook(Path(args.file), unit_code=args.unit, period_code=args.period)
    print_problems(result, Path(args.file).name)
    if args.output:
        path = write_checked_copy(Path(args.file), result, Path(args.output))
        print(f"Đã ghi bản có trang “Kết quả kiểm tra”: {path}")
    return 1 if result.errors else 0


# ------------------------------------------------------------------ generate / run / demo
def cmd_generate(args) -> int:
    from tonghop.demo_setup import generate_into_emulator
    manifest, _ = generate_into_emulator(args.period, seed=args.seed, root=args.root,
                                         register=not args.no_register)
    counts = {}
    for scenario in manifest.scenarios.values():
        counts[scenario] = counts.get(scenario, 0) + 1
    print(f"Đã tạo {len(manifest.scenarios)} bảng báo cáo cho kỳ {args.period}: "
          + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return 0


def cmd_provision(args) -> int:
    from tonghop.cycle import stage_provision
    result = stage_provision(_settings(), args.period, layout=args.layout,
                             share=not args.no_share)
    print(f"Kỳ {args.period}: tạo mới {len(result['created'])} bảng tính, "
          f"giữ nguyên {len(result['existing'])}; {result['api_calls_total']} lệnh gọi API.")
    return 0


def cmd_run(args) -> int:
    """One line per stage on the console, everything else in ``<state>/logs/run-<time>.log``;
    ``--json`` prints what each stage returned instead (for scripts)."""
    from tonghop import console, progress
    from tonghop.cycle import run_cycle
    from tonghop.settings import state_dir

    log_path = console.log_file_path(state_dir(), "run")
    lines = console.StageLines(sys.stderr if args.json else sys.stdout)
    stop_listening = progress.listen(lines)
    try:
        with console.log_to_file(log_path, logging.DEBUG if args.verbose else logging.INFO):
            try:
                result = run_cycle(_settings(), args.period,
                                   mode="full" if args.full else "auto",
                                   unit_codes=args.unit or None)
            except Exception:
                logging.getLogger("tonghop.run").exception("the cycle stopped")
                lines.print(f"Chu kỳ báo cáo dừng vì lỗi. Xem nhật ký đầy đủ: {log_path}")
                return 4
    finally:
        stop_listening()
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    lines.print(f"Nhật ký đầy đủ (dbt, Great Expectations): {log_path}")
    return 0


def cmd_demo(args) -> int:
    from tonghop.demo_setup import run_demo
    return run_demo(args.period, seed=args.seed, port=args.port)


def build_parser() -> argparse.ArgumentParser:
    from tonghop.settings import DEFAULT_EMULATOR_PORT, state_dir
    parser = argparse.ArgumentParser(prog="tonghop", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("db", help="the local PostgreSQL cluster")
    p.add_argument("action", choices=["start", "stop", "status", "destroy"])
    p.set_defaults(func=cmd_db)

    p = sub.add_parser("emulator", help="run the local Sheets/Drive emulator")
    p.add_argument("--root", type=Path, default=state_dir() / "emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT)
    p.set_defaults(func=cmd_emulator)

    p = sub.add_parser("template", help="write a blank report for a unit and period")
    p.add_argument("--unit", required=True)
    p.add_argument("--period", required=True)
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("check", help="check one filled report (.xlsx) offline")
    p.add_argument("file")
    p.add_argument("--unit", help="the unit the file belongs to (default: as written in it)")
    p.add_argument("--period", help="the period (default: as written in it)")
    p.add_argument("-o", "--output", help="also write a copy of the file with the "
                   "“Kết quả kiểm tra” tab the unit would get in Sheets")
    p.set_defaults(func=cmd_check)

    p = sub.add_parser("generate", help="fill the emulator with a demo province")
    p.add_argument("--period", default=DEFAULT_DEMO_PERIOD)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--root", type=Path, default=state_dir() / "emulator")
    p.add_argument("--no-register", action="store_true",
                   help="do not record the sheets in ops.sheet_registry")
    p.set_defaults(func=cmd_generate)

    p = sub.add_parser("provision", help="create (or reuse) each expected unit's report sheet")
    p.add_argument("--period", required=True)
    p.add_argument("--layout", choices=["per_unit", "per_period"], default="per_unit")
    p.add_argument("--no-share", action="store_true",
                   help="do not share the sheets with the units' e-mail addresses")
    p.set_defaults(func=cmd_provision)

    p = sub.add_parser("run", help="run all stages in this process, without Airflow")
    p.add_argument("--period", required=True)
    p.add_argument("--full", action="store_true",
                   help="read every spreadsheet, changed or not")
    p.add_argument("--unit", action="append", metavar="UNIT_CODE",
                   help="read only this unit's spreadsheet again, changed or not (repeatable)")
    p.add_argument("--json", action="store_true",
                   help="print what every stage returned, as JSON, on standard output (the "
                        "stage lines then go to standard error)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("demo", help="a whole reporting cycle on a demo province, via Airflow")
    p.add_argument("--period", default=DEFAULT_DEMO_PERIOD)
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--port", type=int, default=DEFAULT_EMULATOR_PORT)
    p.set_defaults(func=cmd_demo)
    return parser


#: commands that write their own log file and show stage lines on the console
LOGGING_COMMANDS = {"demo", "run", "emulator"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    # the console shows a command's answer; libraries' INFO lines are not part of it (demo and
    # run send them to a log file of their own, the emulator is a server that logs)
    quiet = args.command not in LOGGING_COMMANDS and not args.verbose
    logging.basicConfig(level=logging.DEBUG if args.verbose else
                        logging.WARNING if quiet else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from tonghop.localdb import LocalDbError
    try:
        return args.func(args)
    except KeyError as exc:
        print(f"Lỗi: {exc.args[0]}", file=sys.stderr)
        return 2
    except LocalDbError as exc:          # the local cluster: the message says what to do
        if args.verbose:
            raise
        print(f"Lỗi: {exc}", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
