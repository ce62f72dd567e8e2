#!/usr/bin/env bash
# imhub's two commands for a new user (see README.md):
#   ./run.sh demo   run the whole system: hub + simulator + worker, data flowing (Ctrl-C stops it)
#   ./run.sh test   run the test suite (ruff, mypy, then pytest; PostgreSQL/Redis tests skip when absent)
# Both create or reuse .venv, install what is missing, and are safe to run again.
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"

log() { printf '[run.sh] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else return 1; fi
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ -z "${_APT_UPDATED:-}" ]; then as_root apt-get update -qq || return 1; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@"
}

find_python() {
  for candidate in python3.11 python3.12 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 13) else 1)'; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

bootstrap() {
  if [ ! -x "$PY" ]; then
    local base
    base=$(find_python) || { log "need Python 3.11 or 3.12 (apt-get install python3)"; exit 1; }
    if ! "$base" -m venv "$VENV" 2>/dev/null; then
      log "installing python3-venv"
      rm -rf "$VENV"
      apt_install python3-venv || { log "cannot create a virtualenv; install python3-venv"; exit 1; }
      "$base" -m venv "$VENV"
    fi
  fi
  local stamp="$VENV/.imhub-deps" want
  want=$(sha256sum pyproject.toml | cut -d' ' -f1)
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    log "installing Python packages into $VENV"
    "$PY" -m pip install -q --upgrade pip
    "$PY" -m pip install -q -e '.[dev]'
    echo "$want" > "$stamp"
  fi
  if ! "$PY" -m crawler.browser_path >/dev/null 2>&1; then
    log "no Chromium found; installing Debian's chromium"
    apt_install chromium || log "could not install chromium (not root?): browser tests and the demo worker need it"
  fi
}

cmd=${1:-}
shift || true
case "$cmd" in
  demo)
    bootstrap
    exec "$PY" -m imhub.demo "$@"
    ;;
  test)
    bootstrap
    log "ruff check"
    "$PY" -m ruff check .
    "$PY" -m ruff format --check .
    log "mypy"
    "$PY" -m mypy .
    log "pytest"
    set +e
    "$PY" -m pytest "$@"
    rc=$?
    set -e
    if [ "$rc" = 5 ]; then log "pytest collected no tests"; fi
    exit "$rc"
    ;;
  hub)
    bootstrap
    "$PY" manage.py migrate --noinput
    # --server granian|uvicorn|daphne (default granian), --processes N (N > 1 needs REDIS_URL), --host, --port
    exec "$PY" -m imhub.serve "$@"
    ;;
  bootstrap)
    bootstrap
    ;;
  *)
    echo "usage: ./run.sh demo [--help] | ./run.sh test [pytest args] | ./run.sh hub [--server S] [--processes N] | ./run.sh bootstrap" >&2
    exit 2
    ;;
esac
