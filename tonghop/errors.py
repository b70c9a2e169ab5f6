"""Errors a stage raises for the data engineer who reads the task log or the failure alert."""

from __future__ import annotations

import psycopg2


class WarehouseConnectionLost(RuntimeError):
    """The connection to the warehouse database broke under a stage: the server crashed or was
    restarted, or the network dropped. The message says where the stage was, what it had
    stored, and that the task's retry is safe (every write is one transaction)."""


def connection_lost(conn, exc: BaseException) -> bool:
    """Whether ``exc``, raised while using ``conn``, means the connection itself is gone (the
    server closed or ended it), not an error of one statement (a constraint, a deadlock, a
    cancelled query), after which the connection is still open."""
    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) and bool(
        getattr(conn, "closed", 0)
    )


def one_line(exc: BaseException) -> str:
    """The driver's message on one line (libpq's spans three), without its final full stop."""
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


# ------------------------------------------------------------------ the command line's answers
#: exit codes of ``tonghop`` (listed in ``tonghop --help``)
EXIT_OK = 0  # valid / done
EXIT_REPORT_ERRORS = 1  # `tonghop check`: the report has errors
EXIT_USAGE = 2  # bad usage or unreadable input (argparse exits 2 on usage errors too)
EXIT_ENVIRONMENT = 3  # the environment is not ready (PostgreSQL, the emulator, a registry)
EXIT_FAILED = 4  # a stage failed otherwise; the traceback is in a log file


class UserError(Exception):
    """A mistake or a missing precondition the person at the command line can put right.

    ``message_vi`` says, in Vietnamese, what is wrong and what to do; ``tonghop`` prints it as
    one "Lỗi: …" line on stderr, without a traceback, and exits with ``exit_code``."""

    exit_code = EXIT_USAGE

    def __init__(self, message_vi: str, exit_code: int | None = None):
        super().__init__(message_vi)
        self.message_vi = message_vi
        if exit_code is not None:
            self.exit_code = exit_code


class EnvironmentNotReady(UserError):
    """What the command needs is not there (PostgreSQL not running or not reachable, the Sheets
    emulator not answering, sheets not provisioned); the message says which command fixes it."""

    exit_code = EXIT_ENVIRONMENT
