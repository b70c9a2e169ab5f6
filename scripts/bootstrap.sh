#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine with Python 3.11:
# Debian's PostgreSQL server (only if missing; needs root), uv, and the virtual environment
# .venv with exactly the packages pinned in requirements.lock (hashes checked).
# Safe to run again: it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || missing+=(postgresql)
python3.11 -c "import venv, ensurepip" 2>/dev/null || missing+=(python3-venv)
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "bootstrap: please install as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]} (apt-get)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

export UV_PYTHON_DOWNLOADS=never
uv_bin=$(command -v uv || true)
if [ -z "$uv_bin" ]; then
  if [ ! -x .local/tools/bin/uv ]; then
    echo "bootstrap: installing uv into .local/tools"
    python3.11 -m venv .local/tools
    .local/tools/bin/pip install -q uv
  fi
  uv_bin=.local/tools/bin/uv
fi

if [ ! -x .venv/bin/python ]; then
  "$uv_bin" venv -q --python python3.11 .venv
fi
"$uv_bin" pip sync -q --python .venv/bin/python --require-hashes requirements.lock
"$uv_bin" pip install -q --python .venv/bin/python --no-deps -e .
