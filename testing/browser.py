"""Pages as a reader's browser shows them, with no network: headless Chromium (Debian's
``chromium``, which scripts/bootstrap.sh installs), in a network namespace of its own when one
can be made (as root) and resolving no host name in any case, so a page that needs the internet
shows it.

The documentation sites' tests read the DOM after the page's scripts ran (:func:`offline_dom`);
the screenshots in docs/images are made with the same browser::

    .venv/bin/python -m testing.browser 'file:///…/index.html' docs/images/x.png [1400x1000]
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

#: headless Chromium that reaches nothing beyond this machine on its own (no updates, sync,
#: background requests); the dashboard's browser (testing/superset.py) starts from these too
HEADLESS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
FLAGS = (
    *HEADLESS,
    "--host-resolver-rules=MAP * ~NOTFOUND",
    # time for the page's scripts (the sites draw their tables with JavaScript)
    "--virtual-time-budget=8000",
)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def require_chromium() -> str:
    """Chromium, or a failure on CI (CI=true) and a skip elsewhere."""
    import pytest

    found = chromium()
    if found:
        return found
    message = (
        "Chromium is not installed: `apt-get install -y chromium` (scripts/bootstrap.sh "
        "installs it)"
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def _offline() -> list[str]:
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        return [unshare, "-n"]
    return []


def _run(url: str, *args: str) -> subprocess.CompletedProcess:
    exe = chromium()
    if exe is None:
        raise RuntimeError("Chromium is not installed: apt-get install -y chromium")
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [*_offline(), exe, *FLAGS, f"--user-data-dir={profile}", *args, url],
            capture_output=True,
            text=True,
            timeout=180,
        )
    if done.returncode != 0:
        raise RuntimeError(f"chromium failed on {url}: {done.stderr[-2000:]}")
    return done


def offline_dom(url: str) -> str:
    """The page's DOM after its scripts ran, with no network."""
    return _run(url, "--dump-dom").stdout


def screenshot(url: str, path: str, size: str = "1400x1000") -> None:
    """A PNG of the page's first ``size`` pixels (width x height), with no network."""
    width, height = size.split("x")
    _run(url, f"--window-size={width},{height}", f"--screenshot={os.path.abspath(path)}")


if __name__ == "__main__":
    screenshot(*sys.argv[1:4])
