#!/usr/bin/env bash
# The whole test suite: installs what is missing, then pytest in two workers (pytest-xdist,
# one module per worker at a time; TONGHOP_TEST_WORKERS changes the number, 0 runs in this
# process). The tests start their own PostgreSQL clusters (.local/test/gw<n>, port 55433 + 10·n)
# and Sheets emulators; nothing is faked.
# Running the tests never changes a file of the checkout: when this is a git checkout, the
# state of its files (tracked and new, not ignored) is compared before and after, and a
# change fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh

checkout_state() {
  git status --porcelain --untracked-files=all
  git diff HEAD 2>/dev/null | sha256sum
  git ls-files -z --others --exclude-standard | xargs -0 -r sha256sum
}
in_git=false
git rev-parse --is-inside-work-tree >/dev/null 2>&1 && in_git=true
$in_git && before=$(checkout_state)

status=0
workers=${TONGHOP_TEST_WORKERS:-2}
xdist=()
# --no-loadscope-reorder: the modules in conftest's order (the slowest first); pytest-xdist would
# hand out the modules with the most tests first, leaving the long seasons for the end
[ "$workers" = 0 ] || xdist=(-n "$workers" --dist loadfile --no-loadscope-reorder)
.venv/bin/pytest "${xdist[@]}" "$@" || status=$?

if $in_git; then
  after=$(checkout_state)
  if [ "$before" != "$after" ]; then
    echo "test.sh: the tests changed files of the checkout (they must write only to ignored" \
      "folders such as .local/ or a temporary folder):" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    [ "$status" -ne 0 ] || status=1
  fi
fi
exit "$status"
