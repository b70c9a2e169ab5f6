#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine with Python 3.11:
# Debian's PostgreSQL server and, for the draft report's PDF, LibreOffice Writer (Calc for the
# printed check tab), poppler and Liberation fonts 2 (Times New Roman's metric twin, with every
# Vietnamese letter), Chromium and its driver (the documentation sites opened offline, the
# dashboard's test) - each only if missing; needs root -, uv,
# the virtual environment .venv with exactly the packages pinned in requirements.lock plus
# deploy/requirements-celery.lock (the image's: Airflow's CeleryExecutor; hashes checked), Debian's
# redis-server (the broker; tooling/local_celery.py runs compose's topology as processes), and
# Superset's own one, .local/superset/venv, from bi/requirements-superset.lock
# (its pins conflict with Airflow's), made again only when that lock changed.
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()     # the project cannot run without these
optional=()    # the draft report's PDF, its render test and the compose check need these
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
python3.11 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
command -v soffice >/dev/null || optional+=(libreoffice-writer-nogui)
# Calc: the check tab printed from its .xlsx (tests/test_unit_feedback.py)
[ -e /usr/lib/libreoffice/program/libsclo.so ] || optional+=(libreoffice-calc-nogui)
command -v pdftoppm >/dev/null || optional+=(poppler-utils)
# the report's one font: Liberation Serif 2 (fonts-liberation 1.07 lacks Ơ, Ư and most of
# Vietnamese; LibreOffice then mixes in DejaVu Serif). publish/report/fonts.py says why
[ -e /usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf ] || optional+=(fonts-liberation2)
command -v docker-compose >/dev/null || optional+=(docker-compose)   # tests/test_compose.py: `docker-compose config`
# headless Chromium: the documentation sites opened offline (tests/test_data_docs.py) and the
# dashboard, driven through chromedriver (tests/test_dashboard.py)
[ -x /usr/bin/chromium ] || optional+=(chromium)
[ -x /usr/bin/chromedriver ] || optional+=(chromium-driver)
# the Celery broker of docker-compose.yml's topology, run as processes (tests/test_celery_topology.py)
command -v redis-server >/dev/null || optional+=(redis-server)
if ((${#missing[@]} + ${#optional[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    if ((${#missing[@]})); then
      echo "bootstrap: please install as root: apt-get install -y ${missing[*]}" >&2
      exit 1
    fi
    echo "bootstrap: no PDF of the draft report, no check of docker-compose.yml, of its Celery workers or of the dashboard until, as root: apt-get install -y" \
      "--no-install-recommends ${optional[*]}" >&2
  else
    # in the background while uv makes the virtual environments below (a fresh machine: about
    # a minute each, mostly downloads; waited for at the end, or before uv's own install when
    # that needs python3-venv)
    echo "bootstrap: installing ${missing[*]} ${optional[*]} (apt-get)"
    (
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" "${optional[@]}" >/dev/null
    ) &
    apt_pid=$!
  fi
fi
wait_for_apt() {
  if [ -n "${apt_pid:-}" ]; then
    wait "$apt_pid" || { echo "bootstrap: apt-get install failed" >&2; exit 1; }
    apt_pid=
  fi
}

export UV_PYTHON_DOWNLOADS=never
uv_bin=$(command -v uv || true)
if [ -z "$uv_bin" ]; then
  if [ ! -x .local/tools/bin/uv ]; then
    echo "bootstrap: installing uv into .local/tools"
    [[ " ${missing[*]} " == *" python3-venv "* ]] && wait_for_apt
    python3.11 -m venv .local/tools
    .local/tools/bin/pip install -q uv
  fi
  uv_bin=.local/tools/bin/uv
fi

if [ ! -x .venv/bin/python ]; then
  "$uv_bin" venv -q --python python3.11 .venv
fi
# the Celery provider's lock adds only what requirements.lock lacks (deploy/compile-celery-lock.sh),
# so the two are synced together: the image's packages exactly
"$uv_bin" pip sync -q --python .venv/bin/python --require-hashes requirements.lock \
  deploy/requirements-celery.lock
"$uv_bin" pip install -q --python .venv/bin/python --no-deps -e .

# Apache Superset (the dashboard; bi/) in a virtual environment of its own, rebuilt only when its
# lock changed (the lock's SHA-256 is kept beside it)
superset_venv=.local/superset/venv
superset_lock_sha=$(sha256sum bi/requirements-superset.lock | cut -d' ' -f1)
if [ "$(cat "$superset_venv/.lock-sha256" 2>/dev/null)" != "$superset_lock_sha" ]; then
  echo "bootstrap: installing Apache Superset into $superset_venv (bi/requirements-superset.lock)"
  [ -x "$superset_venv/bin/python" ] || "$uv_bin" venv -q --python python3.11 "$superset_venv"
  "$uv_bin" pip sync -q --python "$superset_venv/bin/python" --require-hashes bi/requirements-superset.lock
  echo "$superset_lock_sha" > "$superset_venv/.lock-sha256"
fi
wait_for_apt
