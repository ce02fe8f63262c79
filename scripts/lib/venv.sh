#!/usr/bin/env bash
# Sourced by scripts/*.sh: make sure .venv exists and matches
# requirements-dev.txt. The install is skipped when the file's hash matches
# the one recorded after the last successful install.
ensure_venv() {
  local root="$1"
  local venv="$root/.venv"
  local req="$root/requirements-dev.txt"
  local stamp="$venv/.requirements.sha256"
  local python="${PYTHON:-python3}"
  if [[ ! -x "$venv/bin/python" ]]; then
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "error: Python 3.11+ is required (found: $("$python" --version 2>&1))" >&2
      return 1
    fi
    echo "==> creating $venv"
    "$python" -m venv "$venv" || return 1
  fi
  local want
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$want" ]]; then
    echo "==> installing requirements-dev.txt into .venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$req" 2> >(grep -v "^WARNING: Location" >&2) || return 1
    echo "$want" > "$stamp"
  fi
}
