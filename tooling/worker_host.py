"""The host name a local Celery worker's tasks report to Airflow.

In docker-compose.yml every worker is a container with a host name of its own, which Airflow
records as each task instance's ``hostname``. Two workers run as processes on one machine share
its name, so :mod:`tooling.local_celery` gives each worker ``TONGHOP_WORKER_HOSTNAME`` and points
Airflow's ``[core] hostname_callable`` here. Kept apart and tiny: every task imports it.
"""

from __future__ import annotations

import os
import socket


def hostname() -> str:
    """``TONGHOP_WORKER_HOSTNAME``, else the machine's fully qualified name (Airflow's own)."""
    return os.environ.get("TONGHOP_WORKER_HOSTNAME") or socket.getfqdn()
