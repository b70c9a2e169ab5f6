"""The repository holds no secret: every tracked file is scanned with detect-secrets (Yelp's
scanner, its default plugins: private keys, AWS/GCP/Slack/… tokens, high-entropy strings,
password assignments) on every CI run, as part of the test suite.

A finding fails the suite unless it is in :data:`ALLOWED` with the reason it is not a secret, or
its line says ``# pragma: allowlist secret`` (detect-secrets' own marker, for a fake secret a
test needs; the reason goes next to it). Lock files are not scanned: their "secrets" are the
SHA-256 pins of public packages.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.conftest import ROOT

NOT_SCANNED_SUFFIXES = (".lock",)
#: (folder of generated results, detect-secrets type) -> why those findings are not secrets.
#: Only that type is let through there: a password or key in a result file still fails.
GENERATED_CHECKSUMS = {
    (
        "bench/results/",
        "Hex High Entropy String",
    ): "SHA-256 of published files and data, written by every bench run",
    (
        "tests/results/",
        "Hex High Entropy String",
    ): "checksums of raw and marts, written by the fault suite",
}
#: (path, detect-secrets type, hashed secret) -> why it is not a secret
ALLOWED = {
    (
        "deploy/entrypoint.py",
        "Secret Keyword",
        "faf62aa3591f793411551a3781b7a150e1942f3e",  # pragma: allowlist secret
    ): "the file NAME of the Google key under /run/secrets, not the key",
    (
        "docker-compose.yml",
        "Secret Keyword",
        "cbd29be56dcf1b80c5a7e5795ff3ddb7e0d26415",  # pragma: allowlist secret
    ): "AIRFLOW__API_AUTH__JWT_SECRET_CMD: the command that reads the secret file",
    (
        "docker-compose.yml",
        "Secret Keyword",
        "94eaf0f1bb55802f74a3070b568d08f16b6444d1",  # pragma: allowlist secret
    ): "AIRFLOW__API__SECRET_KEY_CMD: the command that reads the secret file",
    (
        "tooling/localdb.py",
        "Secret Keyword",
        "2f1aa1e2a58704b452a5dd60ab1bd2b761bf296a",  # pragma: allowlist secret
    ): "the PostgreSQL setting password_encryption (scram-sha-256), not a password",
}


def tracked_files(root: Path) -> list[str]:
    """What git tracks (a fresh CI clone has exactly these)."""
    git = shutil.which("git")
    assert git, "git is needed to list the tracked files"
    listed = (
        subprocess.run([git, "-C", str(root), "ls-files", "-z"], capture_output=True, check=True)
        .stdout.decode()
        .split("\0")
    )
    return [
        path
        for path in listed
        if path and not path.endswith(NOT_SCANNED_SUFFIXES) and (root / path).is_file()
    ]


def scan(root: Path, paths: list[str]) -> list[tuple[str, str, str, int]]:
    """(path, type, hashed secret, line) of every finding, detect-secrets' default plugins."""
    from detect_secrets import SecretsCollection
    from detect_secrets.settings import default_settings

    collection = SecretsCollection(root=str(root))
    with default_settings():
        collection.scan_files(*paths, num_processors=2)
    return sorted(
        (path, secret.type, secret.secret_hash, secret.line_number) for path, secret in collection
    )


def test_no_secret_is_tracked():
    findings = scan(ROOT, tracked_files(ROOT))
    unexpected = [
        f"{path}:{line}: {kind} ({digest})"
        for path, kind, digest, line in findings
        if (path, kind, digest) not in ALLOWED
        and not any(
            path.startswith(folder) and kind == allowed_kind
            for folder, allowed_kind in GENERATED_CHECKSUMS
        )
    ]
    assert not unexpected, (
        "secrets in the repository (remove them, or if one is not a "
        "secret add it to ALLOWED with the reason):\n" + "\n".join(unexpected)
    )


def test_every_allowance_is_still_needed():
    """An allowance whose finding is gone is removed, so the list stays what it claims."""
    findings = {
        (path, kind, digest)
        for path, kind, digest, _ in scan(ROOT, sorted({path for path, _, _ in ALLOWED}))
    }
    assert set(ALLOWED) <= findings, set(ALLOWED) - findings


def test_the_scan_finds_a_planted_key(tmp_path):
    """The same scan, on a repository where someone committed a key: it is found."""
    git = shutil.which("git")
    subprocess.run([git, "init", "-q", str(tmp_path)], check=True)
    planted = {
        "deploy/aws.env": "AWS_ACCESS_KEY_ID=AKIA" + "IOSFODNN7EXAMPLE\n",
        "secrets/google_service_account.json": '{"type": "service_account", "private_key": "-----BEGIN '
        + "PRIVATE KEY-----\\n"
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\\n-----END "
        + 'PRIVATE KEY-----\\n"}\n',
        "tonghop/local.py": 'WAREHOUSE_DSN = "postgresql://loader:' + "Wr0ngPlace-9f8a7c6b5d4e3f2a1"
        '@db:5432/tonghop"\npassword = "' + 'hunter2-but-longer-7f3a9c"\n',
        "README.md": "Nothing to see.\n",
    }
    for path, text in planted.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(text, encoding="utf-8")
    subprocess.run([git, "-C", str(tmp_path), "add", "."], check=True)
    found = {path for path, *_ in scan(tmp_path, tracked_files(tmp_path))}
    assert found == set(planted) - {"README.md"}, found
