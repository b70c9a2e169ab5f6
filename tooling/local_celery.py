"""docker-compose.yml's Airflow as processes on this machine: Redis, the API server, scheduler,
DAG processor, triggerer and Celery workers, with compose's own settings.

Docker cannot run here (nor on CI), so the production topology runs without containers: Debian's
``redis-server`` and the Celery provider of ``deploy/requirements-celery.lock`` (both installed
by ``scripts/bootstrap.sh``), each service a process group of its own.

**One definition.** Nothing of compose is copied here; it is read from the files at start:

- every ``AIRFLOW__*`` setting from the ``x-airflow`` block of docker-compose.yml
  (:func:`compose_airflow_settings`), secrets included: they stay ``AIRFLOW__…_CMD`` settings
  running ``deploy/secret.py`` on a secrets folder made by ``deploy/make-secrets.sh``;
- each service's ``command:`` from compose, run through the image's entrypoint
  (``deploy/entrypoint.py``, the Dockerfile's ``ENTRYPOINT``), which writes the login's password
  file as in a container; the metadata database prepared by compose's ``airflow-init`` command
  (``deploy/airflow-init.sh``: migration, the pool, the connections tried);
- Redis started by compose's own command: its password from the secret into a configuration
  file, never on a command line; nothing persisted.

What differs is only *where* things are (:class:`Placement`): compose's host names
(``airflow-db:5432``, ``redis:6379``, ``airflow-api-server:8080``) become 127.0.0.1 and free
ports, the image's folders (``/opt/tonghop``, ``/opt/airflow``, ``/run/secrets``) this
checkout, the Airflow home and its secrets folder; and what a container gets for free
(:data:`LOCAL_SETTINGS`, :meth:`CeleryTopology.local_flags`): a host name of its own for each
worker's tasks, a listening address on 127.0.0.1 for the API server and the scheduler's health
check, no log server on fixed ports (the API server reads the task logs from the shared
folder, as compose's ``airflow-logs`` volume), a pid file per worker, a bundle folder per Airflow
home. ``tests/test_celery_topology.py`` checks that the environment is compose's but for these.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from tonghop.settings import PROJECT_ROOT, load_local_secrets
from tooling.local_airflow import AirflowServices, free_port, with_metadata_database

log = logging.getLogger(__name__)

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
#: where docker-compose.yml and the image put things
IMAGE_ROOT = "/opt/tonghop"
IMAGE_AIRFLOW_HOME = "/opt/airflow"
SECRETS_MOUNT = "/run/secrets"
#: compose's Airflow services run here, by their compose names; the workers are named apart
AIRFLOW_SERVICES = (
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
WORKER_SERVICE = "airflow-worker"
INIT_SERVICE = "airflow-init"
REDIS_SERVICE = "redis"
#: two workers, as `docker compose up -d --scale airflow-worker=2` would run them
WORKERS = ("worker-1", "worker-2")
#: the secrets Airflow's services read (compose's x-airflow block mounts more: the warehouse
#: roles' passwords and the Google key, which the local connections replace)
AIRFLOW_SECRETS = (
    "airflow_db_password",
    "airflow_admin_password",
    "airflow_fernet_key",
    "airflow_jwt_secret",
    "airflow_api_secret_key",
    "redis_password",
)
#: the variable tooling.worker_host reads: each worker's host name, as a container has its own
WORKER_HOSTNAME_VAR = "TONGHOP_WORKER_HOSTNAME"


def compose_definition(path: Path = COMPOSE_FILE) -> dict:
    """docker-compose.yml as YAML (its anchors resolved; variables left as written)."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def compose_airflow_settings(compose: dict) -> dict[str, str]:
    """Every ``AIRFLOW__*`` variable of compose's ``x-airflow`` block, as written there."""
    env = compose["x-airflow"]["environment"]
    settings = {k: str(v) for k, v in env.items() if k.startswith("AIRFLOW__")}
    interpolated = [k for k, v in settings.items() if "${" in v]
    if interpolated:  # read as literals here: compose would substitute them
        raise ValueError(f"docker-compose.yml: Airflow settings from the shell: {interpolated}")
    return settings


def image_entrypoint(dockerfile: Path = DOCKERFILE) -> list[str]:
    """The Dockerfile's ``ENTRYPOINT`` (exec form), e.g. ``["python", ".../entrypoint.py"]``."""
    found = re.search(r"^ENTRYPOINT\s+(\[.*\])\s*$", dockerfile.read_text(encoding="utf-8"), re.M)
    if not found:
        raise ValueError(f"{dockerfile}: no ENTRYPOINT in exec form")
    return json.loads(found.group(1))


@dataclass(frozen=True)
class Placement:
    """Where compose's services are on this machine: 127.0.0.1 and free ports for its host
    names, this checkout, the Airflow home and its secrets folder for the image's paths."""

    home: Path  # AIRFLOW_HOME: logs, pid files, the login's password file, bundles
    pg_port: int  # the local cluster, which holds the metadata database
    metadata_db: str
    redis_port: int
    api_port: int
    health_port: int  # the scheduler's health check (compose: 8974 inside its container)

    @classmethod
    def free(cls, home: Path, pg_port: int, metadata_db: str) -> Placement:
        return cls(home, pg_port, metadata_db, free_port(), free_port(), free_port())

    @property
    def secrets(self) -> Path:
        return self.home / "secrets"

    def replacements(self) -> dict[str, str]:
        return {
            # Airflow runs the _CMD settings without a shell: the venv's interpreter by its path
            "python -I -S ": f"{sys.executable} -I -S ",
            f"{IMAGE_ROOT}/": f"{PROJECT_ROOT}/",
            f"{IMAGE_AIRFLOW_HOME}/": f"{self.home}/",
            f"{SECRETS_MOUNT}/": f"{self.secrets}/",
            "@airflow-db:5432/airflow": f"@127.0.0.1:{self.pg_port}/{self.metadata_db}",
            "@redis:6379/": f"@127.0.0.1:{self.redis_port}/",
            "http://airflow-api-server:8080/": f"http://127.0.0.1:{self.api_port}/",
        }

    def localize(self, value: str) -> str:
        """A value of docker-compose.yml with its hosts and paths put here."""
        for image, local in self.replacements().items():
            value = value.replace(image, local)
        return value


#: settings a container does not need, each saying where a process listens or keeps files
#: (``{home}`` and ``{health_port}`` filled from the placement)
LOCAL_SETTINGS = {
    # compose: 0.0.0.0:8974 inside the scheduler's container; here, loopback and a free port
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": "127.0.0.1",
    "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_PORT": "{health_port}",
    # by default under the system's temporary folder, which every Airflow of the machine shares
    # (each container has its own)
    "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": "{home}/dag_bundles",
}
#: set for the workers only: their tasks' host name from WORKER_HOSTNAME_VAR
WORKER_SETTINGS = {"AIRFLOW__CORE__HOSTNAME_CALLABLE": "tooling.worker_host.hostname"}


def topology_env(base: dict[str, str], placement: Placement, compose: dict) -> dict[str, str]:
    """``base`` (from :func:`tooling.local_airflow.airflow_env`: the pipeline's connections and
    variables) without any ``AIRFLOW__*`` of its own, plus compose's Airflow settings put here,
    :data:`LOCAL_SETTINGS`, the Airflow home, the secrets folder the entrypoint reads, and the
    venv's commands first on ``PATH`` (``airflow``, ``python``, as in the image)."""
    env = {k: v for k, v in base.items() if not k.startswith("AIRFLOW__")}
    env.update({k: placement.localize(v) for k, v in compose_airflow_settings(compose).items()})
    env.update(
        {
            k: v.format(home=placement.home, health_port=placement.health_port)
            for k, v in LOCAL_SETTINGS.items()
        }
    )
    env["AIRFLOW_HOME"] = str(placement.home)
    env["TONGHOP_SECRETS_DIR"] = str(placement.secrets)  # deploy/entrypoint.py reads them there
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', os.defpath)}"
    return env


def make_secrets(folder: Path) -> None:
    """The Airflow services' secrets, as ``deploy/make-secrets.sh`` makes them (random, kept
    once made), but the metadata database's password: the local cluster's ``airflow`` role's.
    The warehouse roles' passwords it also makes are removed: the local connections are used
    (the entrypoint would turn those files into connections with other passwords)."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    db_password = folder / "airflow_db_password"
    wanted = load_local_secrets()["airflow"]
    if not db_password.exists() or db_password.read_text(encoding="utf-8") != wanted:
        db_password.unlink(missing_ok=True)
        db_password.write_text(wanted, encoding="utf-8")
    subprocess.run(
        ["bash", str(PROJECT_ROOT / "deploy" / "make-secrets.sh"), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    )
    for path in folder.iterdir():
        if path.name not in AIRFLOW_SECRETS:
            path.unlink()


def kill_process_tree(pid: int) -> list[int]:
    """SIGKILL a process and every process under it, as a container's processes die together:
    each is stopped first (SIGSTOP) until none is left to fork a new one, then all are killed
    at once. Returns their pids (empty if ``pid`` was already gone)."""
    stopped: dict[int, psutil.Process] = {}
    while True:
        try:
            root = psutil.Process(pid)
            tree = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            break
        new = [p for p in tree if p.pid not in stopped]
        if not new:
            break
        for proc in new:
            try:
                proc.suspend()
                stopped[proc.pid] = proc
            except psutil.NoSuchProcess:
                pass
    for proc in stopped.values():
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(list(stopped.values()), timeout=10)
    return sorted(stopped)


class CeleryTopology(AirflowServices):
    """Redis, compose's Airflow services and the Celery workers, started by
    :func:`running_celery`; a worker can be killed and started again."""

    def __init__(self, env: dict[str, str], placement: Placement, compose: dict, workers=WORKERS):
        super().__init__(env, placement.api_port)
        self.placement, self.compose, self.workers = placement, compose, tuple(workers)
        self.entrypoint = [placement.localize(word) for word in image_entrypoint()]
        self.entrypoint[0] = (
            sys.executable if self.entrypoint[0] == "python" else self.entrypoint[0]
        )
        self.restarts: dict[str, int] = dict.fromkeys(self.workers, 0)

    # -- what runs
    @property
    def redis_password(self) -> str:
        return (self.placement.secrets / "redis_password").read_text(encoding="utf-8")

    @property
    def broker_url(self) -> str:
        return f"redis://:{self.redis_password}@127.0.0.1:{self.placement.redis_port}/0"

    def compose_command(self, service: str) -> list[str]:
        command = self.compose["services"][service]["command"]
        words = command.split() if isinstance(command, str) else [str(w) for w in command]
        return [self.placement.localize(w) for w in words]

    def local_flags(self, service: str, name: str) -> list[str]:
        """Command-line options a container does not need (addresses, files, names)."""
        if service == "airflow-api-server":
            return ["--host", "127.0.0.1", "--port", str(self.placement.api_port)]
        if service == "airflow-triggerer":
            return ["--skip-serve-logs"]  # a log server on port 8794 of every interface
        if service == WORKER_SERVICE:
            return [
                "--celery-hostname",  # celery@worker-1, as a container's celery@<its host>
                name,
                "--pid",  # each its own (the default is one file in AIRFLOW_HOME)
                str(self.placement.home / f"{name}.pid"),
                "--skip-serve-logs",  # a log server on port 8793 of every interface
            ]
        return []

    def _launch(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.process_log_dir.mkdir(parents=True, exist_ok=True)
        with open(self.process_log_dir / f"{name}.log", "ab") as log_file:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=str(PROJECT_ROOT),  # the image's WORKDIR
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a process group of its own, like a container
            )
        self.processes[name] = proc
        return proc

    # -- lifecycle
    def start_redis(self, timeout: float = 30) -> None:
        """compose's Redis command, with its configuration file in the Airflow home and the
        server on 127.0.0.1 and a free port; waits until it answers PING with the password."""
        script = self.compose["services"][REDIS_SERVICE]["command"][-1].replace("$$", "$")
        script = script.replace("/tmp/redis.conf", str(self.placement.home / "redis.conf"))
        script = self.placement.localize(script)
        script += (
            f" --bind 127.0.0.1 --port {self.placement.redis_port} --dir {self.placement.home}"
        )
        self._launch("redis", ["sh", "-c", script], self.env)
        import redis

        client = redis.Redis(
            host="127.0.0.1", port=self.placement.redis_port, password=self.redis_password
        )
        deadline = time.monotonic() + timeout
        try:
            while True:
                self.check_alive()
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.2)
        finally:
            client.close()

    def init(self) -> None:
        """compose's ``airflow-init``: the metadata database migrated, the pool made (its slots
        from ``TONGHOP_SHEETS_POOL_SLOTS``), the connections tried."""
        argv = [*self.entrypoint, *self.compose_command(INIT_SERVICE)]
        with open(self.process_log_dir / "airflow-init.log", "ab") as log_file:
            result = subprocess.run(
                argv, env=self.env, cwd=str(PROJECT_ROOT), stdout=log_file, stderr=log_file
            )
        if result.returncode:
            raise RuntimeError(
                f"airflow-init failed ({result.returncode}):\n{self.process_log_tail('airflow-init')}"
            )

    def start(self, names: tuple[str, ...] = AIRFLOW_SERVICES) -> None:
        for service in names:
            argv = [
                *self.entrypoint,
                *self.compose_command(service),
                *self.local_flags(service, service),
            ]
            self._launch(service, argv, self.env)

    def worker_env(self, name: str) -> dict[str, str]:
        return {**self.env, **WORKER_SETTINGS, WORKER_HOSTNAME_VAR: name}

    def start_worker(self, name: str) -> None:
        argv = [
            *self.entrypoint,
            *self.compose_command(WORKER_SERVICE),
            *self.local_flags(WORKER_SERVICE, name),
        ]
        self._launch(name, argv, self.worker_env(name))

    def worker_ready(self, name: str) -> bool:
        """Does ``celery@<name>`` answer a ping through the broker (compose's health check,
        ``celery inspect ping -d celery@<host>``)?"""
        from celery import Celery

        app = Celery(broker=self.broker_url)
        try:
            return bool(app.control.ping(destination=[f"celery@{name}"], timeout=1.0))
        finally:
            app.close()

    def wait_workers(self, names: tuple[str, ...], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        waiting = list(names)
        while waiting:
            self.check_alive()
            waiting = [n for n in waiting if not self.worker_ready(n)]
            if waiting and time.monotonic() > deadline:
                logs = "\n".join(f"--- {n}\n{self.process_log_tail(n)}" for n in waiting)
                raise RuntimeError(f"workers not ready within {timeout:.0f} s: {waiting}\n{logs}")
            if waiting:
                time.sleep(1)

    def kill_worker(self, name: str) -> dict:
        """SIGKILL worker ``name`` and every process under it (its pool, the tasks' supervisors
        and the tasks), as when its container dies; returns what was killed."""
        proc = self.processes.pop(name)
        pids = kill_process_tree(proc.pid)
        proc.wait(timeout=10)
        log.info("worker %s killed: %d processes (SIGKILL)", name, len(pids))
        return {"worker": name, "pid": proc.pid, "processes": len(pids)}

    def restart_worker(self, name: str) -> None:
        """Start worker ``name`` again, as compose's ``restart: unless-stopped`` does."""
        self.restarts[name] += 1
        self.start_worker(name)

    def stop(self, grace: float = 30) -> None:
        """SIGTERM to each service's process, as ``docker compose stop`` (through ``init``)
        sends it: the scheduler first, so that it sends nothing new, the workers' warm shutdown,
        then the rest, Redis last once they have left; SIGKILL to every process tree still
        there after ``grace`` seconds."""
        services = [
            name
            for name in (
                "airflow-scheduler",
                *self.workers,
                "airflow-triggerer",
                "airflow-dag-processor",
                "airflow-api-server",
            )
            if name in self.processes
        ]
        deadline = time.monotonic() + grace
        for names in (services, ["redis"] if "redis" in self.processes else []):
            for name in names:
                try:
                    os.kill(self.processes[name].pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            for name in names:
                try:
                    self.processes[name].wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass
        for name in [*services, "redis"]:
            # only a process still running (never one reaped: its pid may be another's now)
            if name in self.processes and self.processes[name].poll() is None:
                kill_process_tree(self.processes[name].pid)
                try:
                    self.processes[name].wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass


@contextmanager
def running_celery(
    env: dict[str, str],
    metadata_db: str,
    pg_port: int,
    *,
    workers: tuple[str, ...] = WORKERS,
    timeout: float = 300,
):
    """docker-compose.yml's Airflow on this machine for as long as the ``with`` block lasts.

    ``env`` comes from :func:`tooling.local_airflow.airflow_env` (its ``AIRFLOW_HOME`` is used;
    ``TONGHOP_SHEETS_POOL_SLOTS`` sizes the pool as in compose); Airflow's metadata goes to
    ``metadata_db`` of the local cluster (created if missing, migrated by compose's init).
    Starts Redis, runs the init, starts the API server, scheduler, DAG processor, triggerer and
    the ``workers`` (each a process group, output in ``<AIRFLOW_HOME>/process-logs/``), and
    yields :class:`CeleryTopology` once the API reports the scheduler, DAG processor and
    triggerer healthy and every worker answers a ping. On leaving, even on an error, every
    process is stopped.
    """
    home = Path(env["AIRFLOW_HOME"])
    placement = Placement.free(home, pg_port, metadata_db)
    base = with_metadata_database(env, metadata_db, pg_port)  # creates it; compose's _CMD serves
    base.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    make_secrets(placement.secrets)
    compose = compose_definition()
    topology = CeleryTopology(topology_env(base, placement, compose), placement, compose, workers)
    try:
        topology.start_redis()
        topology.init()
        topology.start(AIRFLOW_SERVICES)
        for name in workers:
            topology.start_worker(name)
        topology.wait_healthy(("scheduler", "dag_processor", "triggerer"), timeout)
        topology.wait_workers(workers, timeout)
        yield topology
    finally:
        topology.stop()


def main(argv: list[str] | None = None) -> int:
    """``python -m tooling.local_celery``: the topology against the local cluster (started if
    needed) and the Sheets backend of the settings (the demo's emulator: ``tonghop emulator``),
    until Ctrl-C."""
    import argparse

    from tonghop.settings import load_settings, state_dir
    from tooling import local_airflow, localdb

    parser = argparse.ArgumentParser(
        prog="python -m tooling.local_celery", description=main.__doc__
    )
    parser.add_argument("--metadata-db", default="airflow_celery")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    cluster = localdb.default_cluster()
    localdb.start(cluster)
    env = local_airflow.airflow_env(load_settings(), cluster.port)
    env["AIRFLOW_HOME"] = str(state_dir() / "airflow-celery")
    with running_celery(env, args.metadata_db, cluster.port) as topology:
        print(
            f"Airflow (CeleryExecutor, workers {', '.join(topology.workers)}): "
            f"{topology.base_url} — user {topology.user}, password in "
            f"{topology.env['AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE']}; "
            f"logs in {topology.process_log_dir}. Ctrl-C stops it.",
            flush=True,
        )
        try:
            while True:
                topology.check_alive()
                time.sleep(5)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
