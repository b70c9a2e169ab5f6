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
    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError)) and \
        bool(getattr(conn, "closed", 0))


def one_line(exc: BaseException) -> str:
    """The driver's message on one line (libpq's spans three), without its final full stop."""
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__
