"""The production stack (docker-compose.yml, Dockerfile, deploy/) checked without a Docker engine.

``docker-compose config`` (Debian's package) validates the file and prints it resolved: anchors
merged, paths absolute, variables substituted. The checks below read that, and compare it with
what the code expects: the executor, each service's command, the environment variables and
Airflow connections the code reads, the pool the DAGs use, the volumes where the code writes,
the warehouse's roles, Superset's services (the same settings tests/test_dashboard.py starts it
with; the warehouse read as ``bi_reader``), and that no secret is in the file or the image. The
deploy scripts are run for real where they can be (the entrypoint's connections through
``pipeline.cycle.settings_from_airflow``, Airflow's ``_CMD`` settings, the secrets generator, the
bundle the dashboards' loader imports, and the Airflow CLI with the image's Celery packages).
Nothing here needs PostgreSQL; tests/test_dashboard.py runs Superset itself.

Without ``docker-compose`` the tests that need it skip, except on CI (``CI=true``) where they fail:
``apt-get install -y docker-compose`` (scripts/bootstrap.sh).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import re
import secrets
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DEPLOY = ROOT / "deploy"
SECRETS_MOUNT = "/run/secrets"
#: where the code lives in the image (tonghop.settings.PROJECT_ROOT there)
IMAGE_ROOT = "/opt/tonghop"

AIRFLOW_COMMANDS = {
    "airflow-init": ["bash", f"{IMAGE_ROOT}/deploy/airflow-init.sh"],
    "airflow-api-server": ["airflow", "api-server"],
    "airflow-scheduler": ["airflow", "scheduler"],
    "airflow-dag-processor": ["airflow", "dag-processor"],
    "airflow-triggerer": ["airflow", "triggerer"],
    "airflow-worker": ["airflow", "celery", "worker"],
    "flower": ["airflow", "celery", "flower"],
}
REQUIRED_SERVICES = set(AIRFLOW_COMMANDS) | {
    "redis",
    "airflow-db",
    "warehouse",
    "warehouse-init",
    "superset",
    "superset-db",
    "superset-init",
    "dashboards-init",
}
#: Superset's services and what each runs (bi/)
SUPERSET_COMMANDS = {
    "superset-init": ["python", "/opt/bi/setup_metadata.py"],
    "superset": ["bash", "/opt/bi/run-server.sh"],
    "dashboards-init": ["python", "/opt/bi/load_dashboards.py"],
}
#: the celery provider's settings Airflow accepts from _CMD (its provider.yaml marks them
#: sensitive; named here too, so that the check holds whether or not the provider is installed)
CELERY_SENSITIVE = {
    ("celery", "broker_url"),
    ("celery", "result_backend"),
    ("celery", "flower_basic_auth"),
}
#: TONGHOP_* variables the production code reads that the stack deliberately leaves unset
NOT_IN_PRODUCTION = {
    "TONGHOP_EMULATOR_URL": "only read with TONGHOP_SHEETS_BACKEND=emulator; production uses Google",
    "TONGHOP_SMTP_URL": "outside Airflow only; the tasks read the connection tonghop_smtp",
    "TONGHOP_SHEETS_IDENTITIES": "outside Airflow only; the tasks read the connections "
    "tonghop_sheets_<n> (deploy/entrypoint.py makes them from the numbered keys)",
}
#: connections the operator gives in .env, passed through docker-compose.yml as AIRFLOW_CONN_<ID>
#: (optional, not built from the secrets): conn id -> what it is for
FROM_DOT_ENV = {"tonghop_smtp": "the reminder mails' SMTP server (without it, none are sent)"}
#: modules for the local set-up only (their variables are not production settings)
LOCAL_ONLY_MODULES = {
    "tooling/localdb.py",
    "tooling/local_airflow.py",
    "tooling/demo.py",
    "tooling/demo_setup.py",
}
PRODUCTION_CODE = ("dags", "tonghop", "ingest", "publish", "expectations")


# ---------------------------------------------------------------------------- helpers
def _missing(message: str):
    """A tool these tests need is absent: a failure on CI (CI=true), a skip elsewhere."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _docker_compose() -> str:
    return shutil.which("docker-compose") or _missing(
        "docker-compose is not installed: `apt-get install -y docker-compose` (Debian's "
        "package; scripts/bootstrap.sh installs it)"
    )


@pytest.fixture(scope="module")
def config(tmp_path_factory) -> dict:
    """docker-compose.yml as `docker-compose config` resolves it, in a clean environment (no
    .env, no variable of the developer's shell)."""
    exe = _docker_compose()
    tmp = tmp_path_factory.mktemp("compose")
    env_file = tmp / "empty.env"
    env_file.write_text("", encoding="utf-8")
    result = subprocess.run(
        [
            exe,
            "--project-directory",
            str(ROOT),
            "-f",
            str(COMPOSE),
            "--env-file",
            str(env_file),
            "--profile",
            "flower",
            "config",
        ],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    assert "WARN" not in result.stderr.upper(), result.stderr
    resolved = yaml.safe_load(result.stdout)
    assert resolved and resolved.get("services"), result.stdout
    return resolved


def unescape(value) -> str:
    """A value as the container sees it (`config` prints a literal $ as $$)."""
    return str(value).replace("$$", "$")


def services(config: dict) -> dict[str, dict]:
    return config["services"]


def airflow_services(config: dict) -> dict[str, dict]:
    return {name: svc for name, svc in services(config).items() if name in AIRFLOW_COMMANDS}


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {key: unescape(value) for key, value in env.items() if value is not None}


def secrets_of(service: dict) -> set[str]:
    return {s["source"] if isinstance(s, dict) else s for s in service.get("secrets") or []}


def volumes_of(service: dict) -> dict[str, str]:
    """{container path: source} of a service's mounts (short or long syntax)."""
    mounts = {}
    for volume in service.get("volumes") or []:
        if isinstance(volume, dict):
            mounts[volume["target"]] = volume.get("source", "")
        else:
            parts = volume.split(":")
            mounts[parts[1]] = parts[0]
    return mounts


def command_of(service: dict) -> list[str]:
    command = service.get("command") or []
    return command.split() if isinstance(command, str) else [str(c) for c in command]


def strings_in(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return [unescape(value)] if isinstance(value, str) else []


def load_deploy_module(name: str):
    spec = importlib.util.spec_from_file_location(f"deploy_{name}", DEPLOY / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def secret_files(tmp_path: Path, names) -> Path:
    """A stand-in for /run/secrets: one file per name, with characters URLs must escape."""
    folder = tmp_path / "secrets"
    folder.mkdir(exist_ok=True)
    for name in names:
        (folder / name).write_text(f"s3cr:et/{name}@x\n", encoding="utf-8")
    return folder


def section(markdown: str, title: str) -> str:
    start = markdown.index(title)
    following = markdown.find("\n## ", start + len(title))
    return markdown[start : following if following != -1 else None]


# ---------------------------------------------------------------------------- the file is valid
def test_every_service_of_the_stack_is_defined(config):
    missing = REQUIRED_SERVICES - set(services(config))
    assert not missing, f"services missing from docker-compose.yml: {sorted(missing)}"


def test_images_are_pinned(config):
    for name, svc in services(config).items():
        image = svc.get("image", "")
        if "build" in svc:
            continue  # built here, from the Dockerfile
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and re.search(r"\d", tag), (
            f"{name}: image {image!r} has no pinned version tag"
        )


def test_published_ports_listen_on_localhost_by_default(config):
    for name, svc in services(config).items():
        for port in svc.get("ports") or []:
            host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
            assert host_ip == "127.0.0.1", f"{name} publishes {port} beyond this host"


# ---------------------------------------------------------------------------- Airflow
def secret_command(value: str) -> tuple[str, str | None]:
    """(secret name, URL template or None) of an AIRFLOW__…_CMD running deploy/secret.py."""
    words = shlex.split(value)
    assert words[:4] == ["python", "-I", "-S", f"{IMAGE_ROOT}/deploy/secret.py"], value
    assert words[4].startswith(f"{SECRETS_MOUNT}/") and len(words) in (5, 6), value
    return words[4][len(SECRETS_MOUNT) + 1 :], (words[5] if len(words) == 6 else None)


def test_airflow_runs_the_celery_executor_with_redis_and_the_metadata_database(config):
    for name, svc in airflow_services(config).items():
        env = env_of(svc)
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert secret_command(env["AIRFLOW__CELERY__BROKER_URL_CMD"]) == (
            "redis_password",
            "redis://:{}@redis:6379/0",
        ), name
        metadata = (
            "airflow_db_password",
            "postgresql+psycopg2://airflow:{}@airflow-db:5432/airflow",
        )
        assert secret_command(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD"]) == metadata, name
        name_, template = secret_command(env["AIRFLOW__CELERY__RESULT_BACKEND_CMD"])
        assert (name_, template) == (metadata[0], "db+" + metadata[1]), name
    assert "redis" in services(config)["redis"]["image"]
    assert "requirepass" in " ".join(command_of(services(config)["redis"]))
    airflow_db = env_of(services(config)["airflow-db"])
    assert (airflow_db["POSTGRES_USER"], airflow_db["POSTGRES_DB"]) == ("airflow", "airflow")


def test_each_airflow_service_runs_its_command(config):
    for name, expected in AIRFLOW_COMMANDS.items():
        assert command_of(services(config)[name]) == expected, name


def test_airflow_services_share_one_definition(config):
    """Same image, environment, secrets and volumes: what one task sees, every component sees."""
    definitions = {
        name: {
            "image": svc.get("image"),
            "build": svc.get("build"),
            "init": svc.get("init"),
            "entrypoint": svc.get("entrypoint"),
            "environment": env_of(svc),
            "secrets": secrets_of(svc),
            "volumes": volumes_of(svc),
        }
        for name, svc in airflow_services(config).items()
    }
    reference = definitions["airflow-worker"]
    assert reference["build"] and reference["init"] is True and reference["entrypoint"] is None
    for name, definition in definitions.items():
        assert definition == reference, f"{name} differs from airflow-worker"
    env = reference["environment"]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == f"{IMAGE_ROOT}/dags"
    api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api.hostname == "airflow-api-server" and api.port == 8080 and api.path == "/execution/"
    assert "8080" in str(services(config)["airflow-api-server"]["ports"])


def test_the_workers_can_be_scaled(config):
    worker = services(config)["airflow-worker"]
    assert "container_name" not in worker and not worker.get("ports")
    assert worker.get("stop_grace_period"), "a warm shutdown needs time for running tasks"


def test_airflow_starts_after_its_database_broker_and_the_warehouse_roles(config):
    for name, svc in airflow_services(config).items():
        depends = svc.get("depends_on") or {}
        assert depends.get("airflow-db", {}).get("condition") == "service_healthy", name
        assert (
            depends.get("warehouse-init", {}).get("condition") == "service_completed_successfully"
        ), name
        if name != "airflow-init":
            assert depends["airflow-init"]["condition"] == "service_completed_successfully"
            assert depends["redis"]["condition"] == "service_healthy", name


def test_airflow_takes_its_secret_settings_from_commands_it_honours(config, tmp_path):
    """Every AIRFLOW__…_CMD names a setting Airflow reads from a command (it silently ignores the
    others), and the command, run as Airflow runs it, prints the value from the secret: no
    trailing newline, percent-encoded inside a URL (a password may hold any character)."""
    from airflow.configuration import conf, run_command

    worker = services(config)["airflow-worker"]
    env = env_of(worker)
    commands = {k: v for k, v in env.items() if k.startswith("AIRFLOW__") and k.endswith("_CMD")}
    assert {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD",
        "AIRFLOW__CELERY__BROKER_URL_CMD",
        "AIRFLOW__CELERY__RESULT_BACKEND_CMD",
        "AIRFLOW__CORE__FERNET_KEY_CMD",
        "AIRFLOW__API_AUTH__JWT_SECRET_CMD",
        "AIRFLOW__API__SECRET_KEY_CMD",
    } <= set(commands)
    sensitive = set(conf.sensitive_config_values) | CELERY_SENSITIVE
    folder = secret_files(tmp_path, secrets_of(worker))
    for variable, command in commands.items():
        section_name, key = variable[len("AIRFLOW__") : -len("_CMD")].lower().split("__")
        assert (section_name, key) in sensitive, f"Airflow ignores {variable}"
        name, template = secret_command(command)
        assert name in secrets_of(worker)
        local = (
            command.replace(f"{IMAGE_ROOT}/deploy/", f"{DEPLOY}/")
            .replace(SECRETS_MOUNT, str(folder))
            .replace("python ", f"{sys.executable} ", 1)
        )
        output = run_command(local)
        secret = (folder / name).read_text(encoding="utf-8").rstrip("\n")
        if template is None:
            assert output == secret, variable
        else:
            url = urlsplit(output.removeprefix("db+"))
            assert unquote(url.password) == secret, variable
            assert output == template.replace("{}", quote(secret, safe="")), variable


def test_the_connections_the_code_reads_come_from_the_secrets(config, tmp_path):
    """deploy/entrypoint.py turns the role passwords into the Airflow connections; read back
    through pipeline.cycle.settings_from_airflow (what every task calls), they reach the
    warehouse service as each role, and the Sheets connection uses the mounted Google key."""
    from pipeline import cycle
    from tonghop import settings as cfg

    entrypoint = load_deploy_module("entrypoint")
    worker = services(config)["airflow-worker"]
    env = env_of(worker)
    folder = secret_files(tmp_path, secrets_of(worker))
    (folder / "google_service_account.json").write_text(
        json.dumps({"type": "service_account", "client_email": "tonghop@example.iam"})
    )
    assert env["GOOGLE_APPLICATION_CREDENTIALS"] == f"{SECRETS_MOUNT}/google_service_account.json"
    env["GOOGLE_APPLICATION_CREDENTIALS"] = str(folder / "google_service_account.json")
    # two more service accounts, as an operator adds them: numbered keys, numbered connections
    for n in (1, 2):
        (folder / f"google_service_account_{n}.json").write_text(
            json.dumps({"type": "service_account", "client_email": f"tonghop-{n}@example.iam"})
        )

    conn_ids = {value for name, value in vars(cycle).items() if name.startswith("CONN_")}
    used_in_code = set()
    for path in [
        path for folder in ("dags", "tonghop", "pipeline") for path in ROOT.glob(f"{folder}/*.py")
    ]:
        used_in_code |= set(
            re.findall(
                r"""(?:conn_id\s*=\s*|Connection\.get\(\s*)["']([\w-]+)["']""",
                path.read_text(encoding="utf-8"),
            )
        )
    added = entrypoint.pipeline_environment(env, folder)
    for conn_id in conn_ids | used_in_code:
        if conn_id in FROM_DOT_ENV:  # passed through from .env, empty without it
            assert env[f"AIRFLOW_CONN_{conn_id.upper()}"] == "", conn_id
            continue
        assert f"AIRFLOW_CONN_{conn_id.upper()}" in added, f"connection {conn_id} not provided"
    # the SMTP connection as an operator writes it in .env (the SMTP provider's fields)
    smtp = {
        "conn_type": "smtp",
        "host": "smtp.example.gov.vn",
        "port": 465,
        "login": "nhacnho",
        "extra": {"from_email": "nhacnho@example.gov.vn"},
    }
    smtp["password"] = secrets.token_urlsafe(9) + ":/@"  # what a URL must escape

    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json; from pipeline.cycle import settings_from_airflow as s; x = s(); "
            "print(json.dumps({'dsns': x.dsns, 'backend': x.sheets_backend, "
            "'key': x.google_credentials_file, 'smtp': x.smtp_url, "
            "'keys': x.sheets_identities, 'slots': x.sheets_tasks_at_once, "
            "'quota': x.sheets_quota.as_dict()}))",
        ],
        # Airflow's own settings (AIRFLOW__…_CMD) need the image's paths: left out here
        env={
            **os.environ,
            **{k: v for k, v in env.items() if not k.startswith("AIRFLOW__")},
            **added,
            "AIRFLOW_CONN_TONGHOP_SMTP": json.dumps(smtp),
            "AIRFLOW_HOME": str(tmp_path / "airflow"),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert probe.returncode == 0, probe.stderr[-3000:]
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert set(seen["dsns"]) == set(cfg.ROLES)
    for role in cfg.ROLES:
        url = urlsplit(seen["dsns"][role])
        assert (url.username, url.hostname, url.port, url.path) == (
            role,
            env["TONGHOP_PG_HOST"],
            int(env["TONGHOP_PG_PORT"]),
            f"/{cfg.WAREHOUSE_DB}",
        )
        assert url.hostname in services(config)
        assert unquote(url.password) == (folder / f"{role}_password").read_text().strip()
        assert added[f"TONGHOP_{role.upper()}_DSN"] == seen["dsns"][role]
    assert seen["backend"] == "google" and seen["key"] == env["GOOGLE_APPLICATION_CREDENTIALS"]
    # the pool of service accounts, first the one of GOOGLE_APPLICATION_CREDENTIALS
    assert seen["keys"] == [
        env["GOOGLE_APPLICATION_CREDENTIALS"],
        *(str(folder / f"google_service_account_{n}.json") for n in (1, 2)),
    ]
    # the same pool slots as airflow-init makes, and Google's published quota
    assert seen["slots"] == int(env["TONGHOP_SHEETS_POOL_SLOTS"] or 2)
    from tonghop.quota import Quota

    assert seen["quota"] == Quota().as_dict()
    assert "TONGHOP_SHEETS_REQUESTS_PER_MINUTE" not in env
    from tonghop.mail import SmtpServer

    assert SmtpServer.from_url(seen["smtp"]) == SmtpServer(
        host="smtp.example.gov.vn",
        port=465,
        security="ssl",
        login="nhacnho",
        password=smtp["password"],
        sender="nhacnho@example.gov.vn",
    )
    # an operator's own connection is left alone
    assert "AIRFLOW_CONN_TONGHOP_LOADER" not in entrypoint.pipeline_environment(
        {**env, "AIRFLOW_CONN_TONGHOP_LOADER": "postgres://elsewhere"}, folder
    )


def test_the_api_server_login_password_comes_from_its_secret(config, tmp_path):
    entrypoint = load_deploy_module("entrypoint")
    env = env_of(services(config)["airflow-api-server"])
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    folder = secret_files(tmp_path, ["airflow_admin_password"])
    env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(tmp_path / "auth" / "pw.json")
    written = entrypoint.write_auth_passwords(env, folder)
    users = [u.split(":")[0] for u in env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")]
    assert json.loads(written.read_text()) == {
        user: (folder / "airflow_admin_password").read_text().strip() for user in users
    }
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_the_environment_variables_the_code_reads_are_set(config):
    """Every TONGHOP_* variable the production code reads is set for Airflow (in
    docker-compose.yml or the image), or deliberately left out (NOT_IN_PRODUCTION)."""
    reads = re.compile(
        r"""(?:environ\.get|environ\.setdefault|getenv|env\.get|environ\[)\(?\s*"""
        r"""["'](TONGHOP_[A-Z0-9_]+)["']"""
    )
    read: dict[str, str] = {}
    for folder in PRODUCTION_CODE:
        for path in (ROOT / folder).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative in LOCAL_ONLY_MODULES:
                continue
            for name in reads.findall(path.read_text(encoding="utf-8")):
                read.setdefault(name, relative)
    assert "TONGHOP_OUTPUT_DIR" in read, "the scan of the code found nothing"
    image_env = set(re.findall(r"\b(TONGHOP_[A-Z0-9_]+)=", DOCKERFILE.read_text()))
    env = env_of(services(config)["airflow-worker"])
    unset = {
        name: where
        for name, where in read.items()
        if name not in env and name not in image_env and name not in NOT_IN_PRODUCTION
    }
    assert not unset, f"read by the code but not set for Airflow in docker-compose.yml: {unset}"
    # the DSN variables (built with an f-string in tonghop.settings) come from the entrypoint:
    # see test_the_connections_the_code_reads_come_from_the_secrets
    assert env["TONGHOP_OUTPUT_DIR"] in volumes_of(services(config)["airflow-worker"])
    assert env["TONGHOP_PG_HOST"] == "warehouse"


def test_dbt_reads_only_what_tonghop_dbt_sets():
    from pipeline.dbt import dbt_env
    from tonghop.settings import Settings

    profile = (ROOT / "dbt_project" / "profiles.yml").read_text(encoding="utf-8")
    wanted = set(re.findall(r"env_var\('([A-Z0-9_]+)'", profile))
    given = dbt_env(Settings(dsns={"transformer": "postgresql://t:p@warehouse:5432/tonghop"}))
    assert wanted and wanted <= set(given)


def _pools_used_by_the_dags() -> set[str]:
    pools = set()
    for path in ROOT.glob("dags/*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {
            alias.asname or alias.name: node.module
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.keyword) and node.arg == "pool":
                if isinstance(node.value, ast.Constant):
                    pools.add(node.value.value)
                elif isinstance(node.value, ast.Name):
                    module = importlib.import_module(imported[node.value.id])
                    pools.add(getattr(module, node.value.id))
    return pools


def test_the_init_service_creates_the_pools_the_dags_use(config):
    used = _pools_used_by_the_dags()
    assert used, "no pool found in dags/"
    script = (DEPLOY / "airflow-init.sh").read_text(encoding="utf-8")
    created = set(re.findall(r"^\s*airflow pools set\s+\"?([\w-]+)", script, re.M))
    assert used <= created, f"pools the DAGs use but airflow-init does not create: {used - created}"
    assert re.search(r"^\s*airflow db migrate", script, re.M)
    assert "settings_from_airflow" in script  # the connections are tried at start
    assert subprocess.run(["bash", "-n", str(DEPLOY / "airflow-init.sh")]).returncode == 0


# ---------------------------------------------------------------------------- health, volumes
def test_every_long_running_service_has_a_health_check(config):
    for name, svc in services(config).items():
        if svc.get("restart") == "no":
            assert name.endswith("-init"), f"{name} runs once but is not an init service"
            continue
        check = svc.get("healthcheck") or {}
        assert check.get("test") and not check.get("disable"), f"{name} has no health check"
    scheduler = env_of(services(config)["airflow-scheduler"])
    assert scheduler["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"] == "True"  # port 8974


def test_data_lives_in_declared_volumes(config):
    declared = set(config.get("volumes") or {})
    for name, svc in services(config).items():
        for _target, source in volumes_of(svc).items():
            if not source.startswith("/"):
                assert source in declared, f"{name}: volume {source} is not declared"
    data = "/var/lib/postgresql/data"
    for database in ("warehouse", "airflow-db", "superset-db"):
        assert volumes_of(services(config)[database]).get(data) in declared, database
    worker = volumes_of(services(config)["airflow-worker"])
    env = env_of(services(config)["airflow-worker"])
    airflow_home = re.search(r"AIRFLOW_HOME=(\S+)", DOCKERFILE.read_text()).group(1)
    from expectations.runner import GX_DIR

    data_docs = f"{IMAGE_ROOT}/{GX_DIR.relative_to(ROOT).as_posix()}/gx/uncommitted"
    gx_config = yaml.safe_load((GX_DIR / "gx" / "great_expectations.yml").read_text())
    for site in gx_config["data_docs_sites"].values():
        assert site["store_backend"]["base_directory"].startswith("uncommitted/")
    for path in (f"{airflow_home}/logs", env["TONGHOP_OUTPUT_DIR"], data_docs):
        assert worker.get(path) in declared, f"{path} is not on a named volume"


# ---------------------------------------------------------------------------- secrets
def test_secrets_are_files_outside_the_repository_history(config):
    top = config.get("secrets") or {}
    assert top
    for name, definition in top.items():
        path = Path(definition["file"])
        assert path.parent == ROOT / "secrets", f"secret {name} is not under ./secrets/"
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {"/secrets/", "secrets/", "/secrets"} & set(gitignore)


def test_every_secret_a_service_reads_is_mounted_in_it(config):
    for name, svc in services(config).items():
        referenced = set()
        for text in strings_in(
            {k: svc.get(k) for k in ("environment", "command", "healthcheck", "entrypoint")}
        ):
            referenced |= set(re.findall(r"/run/secrets/([\w.]+)", text))
        assert referenced <= secrets_of(svc), f"{name} reads {referenced - secrets_of(svc)}"
        assert secrets_of(svc) <= set(config["secrets"]), name


def test_no_password_is_written_in_the_compose_file(config):
    secretish = re.compile(r"(PASSWORD|PASS|SECRET|TOKEN|_KEY|CREDENTIALS)$")
    for name, svc in services(config).items():
        for key, value in env_of(svc).items():
            if secretish.search(key) and value:
                assert value.startswith(SECRETS_MOUNT), f"{name}: {key} holds a value"
            for url in re.findall(r"\w+://[^\s\"']+", value):
                password = urlsplit(url).password
                assert password in (None, "{}"), f"{name}: {key} has a password in a URL"
    text = COMPOSE.read_text(encoding="utf-8")
    assert "PRIVATE KEY" not in text and "private_key" not in text


def test_the_google_key_is_a_mounted_secret_not_an_env_value_or_in_the_image(config):
    key = "google_service_account.json"
    assert key in config["secrets"]
    worker = services(config)["airflow-worker"]
    assert key in secrets_of(worker)
    assert env_of(worker)["GOOGLE_APPLICATION_CREDENTIALS"] == f"{SECRETS_MOUNT}/{key}"
    dockerfile = dockerfile_instructions()
    assert "secrets" not in dockerfile
    assert not re.search(r"^\s*(COPY|ADD)\s+(\.|\./)?\s", dockerfile, re.M), (
        "the Dockerfile copies the whole folder (and so ./secrets/)"
    )
    assert not re.search(r"^\s*ADD\s", dockerfile, re.M)


def test_make_secrets_creates_every_secret_but_the_google_key(config, tmp_path):
    folder = tmp_path / "secrets"
    run = subprocess.run(
        ["bash", str(DEPLOY / "make-secrets.sh"), str(folder)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert "google_service_account.json" in run.stderr  # says what is left to do
    made = {p.name for p in folder.iterdir()}
    assert made == set(config["secrets"]) - {"google_service_account.json"}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    first = {p.name: p.read_text() for p in folder.iterdir()}
    for name, value in first.items():
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o444, name
        assert not value.endswith("\n")
        if name != "airflow_fernet_key":
            assert re.fullmatch(r"[0-9a-f]{64}", value), name  # safe inside URLs
    from cryptography.fernet import Fernet

    Fernet(first["airflow_fernet_key"])
    assert (
        subprocess.run(
            ["bash", str(DEPLOY / "make-secrets.sh"), str(folder)], capture_output=True, timeout=60
        ).returncode
        == 0
    )
    assert {p.name: p.read_text() for p in folder.iterdir()} == first  # kept as they were


# ---------------------------------------------------------------------------- the warehouse
def test_the_warehouse_server_is_set_up_like_the_local_cluster(config):
    from tonghop import settings as cfg

    warehouse = services(config)["warehouse"]
    env = env_of(warehouse)
    assert warehouse["image"].startswith("postgres:")
    assert env["POSTGRES_USER"] == cfg.ADMIN_ROLE and env["POSTGRES_DB"] == cfg.WAREHOUSE_DB
    assert env["POSTGRES_PASSWORD_FILE"] == f"{SECRETS_MOUNT}/warehouse_admin_password"
    local = (ROOT / "tooling" / "localdb.py").read_text(encoding="utf-8")
    command = " ".join(command_of(warehouse))
    for setting in ("timezone", "log_timezone", "max_connections", "password_encryption"):
        value = re.search(rf"\b{setting} = '?([^'\\]+)'?\\n", local).group(1)
        assert f"{setting}={value}" in command, setting
    for option in ("--encoding", "--locale"):
        value = re.search(rf'"{option}=([^"]+)"', local).group(1)
        assert f"{option}={value}" in env["POSTGRES_INITDB_ARGS"], option


def test_the_warehouse_init_creates_the_three_roles_and_applies_the_structure(config):
    from tonghop import settings as cfg

    script_path = DEPLOY / "warehouse-init.sh"
    script = script_path.read_text(encoding="utf-8")
    assert subprocess.run(["bash", "-n", str(script_path)]).returncode == 0
    assert set(cfg.ROLES) == {"loader", "transformer", "bi_reader"}
    for role in cfg.ROLES:
        assert role in script
    assert "_password" in script and "warehouse_admin_password" in script
    assert r"\i ${warehouse_sql}" in script.replace("\\\\", "\\")
    init = services(config)["warehouse-init"]
    mounts = volumes_of(init)
    assert mounts[command_of(init)[-1]] == str(script_path)
    assert mounts[env_of(init)["WAREHOUSE_SQL"]] == str(ROOT / "tonghop" / "sql" / "warehouse.sql")
    assert secrets_of(init) == {"warehouse_admin_password"} | {f"{r}_password" for r in cfg.ROLES}
    assert (
        env_of(init)["PGHOST"] == "warehouse"
        and env_of(init)["PGUSER"] == env_of(services(config)["warehouse"])["POSTGRES_USER"]
    )
    assert init["depends_on"]["warehouse"]["condition"] == "service_healthy"
    warehouse_sql = (ROOT / "tonghop" / "sql" / "warehouse.sql").read_text(encoding="utf-8")
    assert all(role in warehouse_sql for role in cfg.ROLES)


# ---------------------------------------------------------------------------- Superset
def test_superset_keeps_its_own_database_and_reads_the_warehouse_as_bi_reader(config):
    from tonghop import settings as cfg

    for name, command in SUPERSET_COMMANDS.items():
        svc = services(config)[name]
        assert command_of(svc) == command, name
        assert svc["build"]["dockerfile"] == "bi/Dockerfile", name
        script = ROOT / "bi" / Path(command[-1]).name
        assert script.exists(), script
    server, init, loader = (
        services(config)[n] for n in ("superset", "superset-init", "dashboards-init")
    )
    env = env_of(server)
    assert env["SUPERSET_CONFIG_PATH"] == "/opt/bi/superset_config.py"
    assert env["SECRETS_DIR"] == SECRETS_MOUNT
    assert env["SUPERSET_DB_HOST"] == "superset-db"
    db = env_of(services(config)["superset-db"])
    assert (db["POSTGRES_USER"], db["POSTGRES_DB"]) == (
        env["SUPERSET_DB_USER"],
        env["SUPERSET_DB_NAME"],
    )
    assert db["POSTGRES_PASSWORD_FILE"] == f"{SECRETS_MOUNT}/superset_db_password"
    assert "8088" in str(server["ports"]) and env["SUPERSET_LISTEN"].endswith(":8088")
    assert urlsplit(env["SUPERSET_URL"]).hostname == "superset"
    assert (env["TONGHOP_PG_HOST"], env["TONGHOP_PG_DB"]) == ("warehouse", cfg.WAREHOUSE_DB)
    # each service mounts the secrets it reads, no more
    assert secrets_of(init) == {
        "superset_secret_key",
        "superset_db_password",
        "superset_admin_password",
    }
    assert secrets_of(server) == {"superset_secret_key", "superset_db_password"}
    assert secrets_of(loader) == {"superset_admin_password", "bi_reader_password"}
    assert init["depends_on"]["superset-db"]["condition"] == "service_healthy"
    assert server["depends_on"]["superset-init"]["condition"] == "service_completed_successfully"
    assert loader["depends_on"]["superset"]["condition"] == "service_healthy"
    assert loader["depends_on"]["warehouse-init"]["condition"] == "service_completed_successfully"
    assert "/health" in " ".join(server["healthcheck"]["test"])


def test_superset_starts_with_the_settings_the_dashboard_test_uses(config, tmp_path):
    """tests/test_dashboard.py starts Superset through testing.superset with the variables the
    stack gives its services: the same names, none more, none fewer."""
    from testing import superset as bi

    stack = bi.Stack(tmp_path, "db", 5432, "superset", "warehouse", 5432, "tonghop", port=8088)
    process_only = {"PATH", "HOME", "LANG", "TZ", "PYTHONUNBUFFERED"}
    tested = set(stack.env()) - process_only
    for name in SUPERSET_COMMANDS:
        assert set(env_of(services(config)[name])) == tested, name
    # and the scripts read no variable the stack does not set
    read = set()
    for path in (ROOT / "bi").glob("*.py"):
        read |= set(re.findall(r"""environ(?:\.get)?[\[(]\s*["']([A-Z_]+)["']""", path.read_text()))
    read |= set(re.findall(r"\$\{(SUPERSET_[A-Z_]+)", (ROOT / "bi" / "run-server.sh").read_text()))
    assert read - tested <= {"SUPERSET_THREADS", "SUPERSET_WEBSERVER_TIMEOUT"}, read - tested


def test_the_dashboards_bundle_points_at_the_warehouse_without_a_password(config):
    """What dashboards-init imports: bi/dashboards/ zipped, the connection's URI made of the
    stack's warehouse address, the password masked (it goes in the import request only), the
    period filter's default the period given."""
    import io
    import zipfile

    loader = importlib.util.spec_from_file_location(
        "load_dashboards", ROOT / "bi" / "load_dashboards.py"
    )
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    env = env_of(services(config)["dashboards-init"])
    with zipfile.ZipFile(io.BytesIO(module.bundle(env, period="CB-2026-6T"))) as archive:
        files = {name.split("/", 1)[1]: archive.read(name).decode() for name in archive.namelist()}
    assert set(files) == {
        p.relative_to(ROOT / "bi" / "dashboards").as_posix()
        for p in (ROOT / "bi" / "dashboards").rglob("*.yaml")
    }
    database = yaml.safe_load(files[module.DATABASE_FILE])
    assert database["sqlalchemy_uri"] == (
        f"postgresql+psycopg2://bi_reader:{'X' * 10}@warehouse:5432/tonghop"
    )
    (dashboard,) = [yaml.safe_load(t) for n, t in files.items() if n.startswith("dashboards/")]
    (period_filter,) = dashboard["metadata"]["native_filter_configuration"]
    assert period_filter["defaultDataMask"]["filterState"]["value"] == ["CB-2026-6T"]


def test_the_superset_image_installs_its_own_lock_with_hashes():
    dockerfile = "\n".join(
        line
        for line in (ROOT / "bi" / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    assert re.search(r"^FROM python:3\.11-slim-bookworm", dockerfile, re.M)
    assert re.search(
        r"pip install --no-deps --require-hashes -r /opt/bi/requirements-superset\.lock", dockerfile
    )
    assert "pip check" in dockerfile and "COPY bi /opt/bi" in dockerfile
    assert re.search(r"^USER\s+(?!root)\w+", dockerfile, re.M)
    pins = _pins(ROOT / "bi" / "requirements-superset.lock")
    assert pins["apache-superset"][0].startswith("6.") and all(h for _, h in pins.values())


# ---------------------------------------------------------------------------- the image
def dockerfile_instructions() -> str:
    """The Dockerfile without its comments."""
    return "\n".join(
        line
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )


def test_the_dockerfile_installs_the_locked_packages_and_copies_the_code():
    dockerfile = dockerfile_instructions()
    base = re.search(r"^FROM\s+(\S+)", dockerfile, re.M).group(1)
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    python = re.search(r'requires-python\s*=\s*"==(\d+\.\d+)', pyproject).group(1)
    assert base.startswith(f"python:{python}-"), base
    install = re.search(r"pip install ([^&\n]+)", dockerfile).group(1)
    for option in (
        "--require-hashes",
        "--no-deps",
        "-r requirements.lock",
        "-r deploy/requirements-celery.lock",
    ):
        assert option in install, option
    assert "pip check" in dockerfile
    assert not re.search(r"pip install (?!--no-deps --require-hashes)", dockerfile), (
        "a package installed without hashes"
    )
    packages = re.search(r"packages\s*=\s*\[([^\]]+)\]", pyproject).group(1)
    needed = set(re.findall(r'"([\w-]+)"', packages)) | {"dags", "dbt_project", "deploy"}
    copied = set(re.findall(r"^COPY\s+(\S+)\s+\1\s*$", dockerfile, re.M))
    assert needed <= copied, f"not copied into the image: {needed - copied}"
    # the code runs from the image's folder, its resources found by TONGHOP_HOME (no .pth)
    assert ".pth" not in dockerfile
    assert re.search(
        rf"^ENV PYTHONPATH={IMAGE_ROOT} \\\n\s+TONGHOP_HOME={IMAGE_ROOT}$", dockerfile, re.M
    ), "PYTHONPATH and TONGHOP_HOME"
    for package in ("libreoffice-writer-nogui", "fonts-liberation2", "curl"):
        assert package in dockerfile, package
    assert re.search(r"^USER\s+(?!root)\w+", dockerfile, re.M)
    assert f'"{IMAGE_ROOT}/deploy/entrypoint.py"' in dockerfile


def _pins(path: Path) -> dict[str, tuple[str, int]]:
    """{package: (version, number of hashes)} of a uv lock file."""
    pins, current = {}, None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", line)
        if match:
            current = match.group(1).lower()
            pins[current] = (match.group(2), 0)
        elif current and line.strip().startswith("--hash=sha256:"):
            pins[current] = (pins[current][0], pins[current][1] + 1)
    return pins


def test_the_celery_lock_only_adds_hashed_packages_to_requirements_lock():
    base = _pins(ROOT / "requirements.lock")
    extra = _pins(DEPLOY / "requirements-celery.lock")
    assert {"apache-airflow-providers-celery", "celery", "kombu", "redis"} <= set(extra)
    assert not set(base) & set(extra), "pinned twice: regenerate with deploy/compile-celery-lock.sh"
    assert all(hashes for _, hashes in extra.values())


def _uv() -> str:
    local = ROOT / ".local" / "tools" / "bin" / "uv"  # where bootstrap puts it
    return (
        shutil.which("uv")
        or (str(local) if local.exists() else None)
        or _missing("uv is not installed (scripts/bootstrap.sh installs it)")
    )


def test_the_airflow_commands_and_health_checks_exist_with_the_images_packages(config, tmp_path):
    """With requirements.lock (this venv) plus deploy/requirements-celery.lock, every
    dependency of the Celery packages is satisfied, the executor and the Celery app load, and
    each service's Airflow command line (and health check) parses."""
    uv = _uv()
    target = tmp_path / "celery"
    run = subprocess.run(
        [
            uv,
            "pip",
            "install",
            "--quiet",
            "--python",
            sys.executable,
            "--target",
            str(target),
            "--no-deps",
            "--require-hashes",
            "-r",
            str(DEPLOY / "requirements-celery.lock"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, f"installing deploy/requirements-celery.lock failed: {run.stderr}"
    command_lines = [
        command_of(svc)[1:]
        for svc in airflow_services(config).values()
        if command_of(svc)[0] == "airflow"
    ]
    for svc in airflow_services(config).values():
        test = unescape(" ".join(svc["healthcheck"]["test"][1:])) if "healthcheck" in svc else ""
        if test.startswith("airflow "):
            command_lines.append(test.split()[1:])
    command_lines.append(["pools", "set", "tonghop_sheets_api", "2", "description"])
    probe = f"""
import importlib.metadata as md, json, sys
from packaging.requirements import Requirement
problems = []
for dist in md.distributions(path=[{str(target)!r}]):
    for text in dist.requires or []:
        req = Requirement(text)
        if req.marker and not req.marker.evaluate({{"extra": ""}}):
            continue
        try:
            have = md.version(req.name)
        except md.PackageNotFoundError:
            problems.append(f"{{dist.metadata['Name']}} needs {{req}}: missing"); continue
        if not req.specifier.contains(have, prereleases=True):
            problems.append(f"{{dist.metadata['Name']}} needs {{req}}, has {{have}}")
assert not problems, problems
from airflow.providers.celery.executors.celery_executor import CeleryExecutor, app
from airflow.cli.cli_parser import get_parser
parser = get_parser()
for line in {json.dumps(command_lines)}:
    args = parser.parse_args(line)
    assert callable(args.func), line
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", probe],
        env={
            **os.environ,
            "PYTHONPATH": str(target),
            "AIRFLOW_HOME": str(tmp_path / "home"),
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-4000:]
    worker_check = " ".join(services(config)["airflow-worker"]["healthcheck"]["test"][1:])
    assert "airflow.providers.celery.executors.celery_executor.app" in worker_check


# ---------------------------------------------------------------------------- documentation
def test_the_docs_say_how_to_deploy(config):
    text = section(
        (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8"), "## Deploying (one province)"
    )
    for name in config["secrets"]:
        assert f"`{name}`" in text, f"docs/deployment.md does not mention the secret {name}"
    for phrase in (
        "deploy/make-secrets.sh",
        "docker compose up -d",
        "--scale airflow-worker=",
        "bi_reader",
        "127.0.0.1:8088",
        "127.0.0.1:8080",
        "marts",
    ):
        assert phrase in text, phrase
