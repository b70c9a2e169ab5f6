"""Superset's metadata database made ready, before the server starts (the one-shot service
``superset-init``; tests/test_dashboard.py runs it too). Idempotent, in one process (each
``superset`` command would import Superset again, ~15 s each):

1. the schema migrated to this Superset's version (``superset db upgrade``);
2. the permissions and built-in roles synced (``superset init``), and the role Sở staff get,
   ``VIEWER_ROLE``: Gamma's permissions (dashboards and charts, no SQL Lab, no editing of
   databases) and read access to every dataset — the only database is the warehouse as
   ``bi_reader``, which can read the marts and nothing else;
3. the admin account (SUPERSET_ADMIN_USERNAME, default admin; SUPERSET_ADMIN_EMAIL), its password
   the secret file ``superset_admin_password`` — set again on every run, so changing the file and
   running the service again changes it.

Run with Superset's Python, with bi/superset_config.py as SUPERSET_CONFIG_PATH (and its
variables): ``python bi/setup_metadata.py``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

log = logging.getLogger("superset-setup")

VIEWER_ROLE = "Xem báo cáo"
#: what VIEWER_ROLE has besides Gamma's permissions
VIEWER_EXTRA = [("all_datasource_access", "all_datasource_access")]


def admin_password() -> str:
    folder = Path(os.environ.get("SECRETS_DIR", "/run/secrets"))
    return (folder / "superset_admin_password").read_text(encoding="utf-8").strip()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    from flask_migrate import upgrade
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        from superset.extensions import appbuilder, db, security_manager

        upgrade()
        log.info("metadata database at the current schema")

        appbuilder.add_permissions(update_perms=True)
        security_manager.sync_role_definitions()
        gamma = security_manager.find_role("Gamma")
        viewer = security_manager.find_role(VIEWER_ROLE) or security_manager.add_role(VIEWER_ROLE)
        wanted = list(gamma.permissions)
        for permission, view in VIEWER_EXTRA:
            wanted.append(security_manager.add_permission_view_menu(permission, view))
        viewer.permissions = wanted
        db.session.commit()
        log.info("roles synced; %s: %d permissions", VIEWER_ROLE, len(wanted))

        username = os.environ.get("SUPERSET_ADMIN_USERNAME", "admin")
        password = admin_password()
        user = security_manager.find_user(username=username)
        if user is None:
            created = security_manager.add_user(
                username,
                "Quản trị",
                "Tổng hợp",
                os.environ.get("SUPERSET_ADMIN_EMAIL", "admin@example.com"),
                security_manager.find_role("Admin"),
                password=password,
            )
            if not created:
                log.error("could not create the admin account %s", username)
                return 1
            log.info("admin account %s created", username)
        else:
            security_manager.reset_password(user.id, password)
            log.info("admin account %s: password set from the secret", username)
        db.session.commit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
