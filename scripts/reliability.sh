#!/usr/bin/env bash
# The reliability run of issue 15 (not part of scripts/test.sh): the fault
# matrix on the local cloud, schemathesis against the local REST API with
# the generated docs/openapi.json, and the RBAC matrix (every endpoint x 7
# identities). Writes build/reliability/summary.json, report.md and each
# part's cases; exits 1 when a figure misses its goal.
# Usage: ./scripts/reliability.sh [--only faults|fuzz|rbac]...
#        [--case NAME]... [--fuzz-examples N] [--seed N]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
ensure_venv "$ROOT" >&2 || { echo "reliability: could not prepare .venv" >&2; exit 2; }
# schemathesis lives in its own requirements file: the main CI needs none
# of it. Installed once per change of that file (a stamp as venv.sh's).
REQ="$ROOT/requirements-reliability.txt"
STAMP="$ROOT/.venv/.requirements-reliability.sha256"
WANT=$(sha256sum "$REQ" | cut -d' ' -f1)
if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT" ]]; then
  echo "==> installing requirements-reliability.txt into .venv" >&2
  "$ROOT/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$REQ" 2> >(grep -v "^WARNING: Location" >&2) \
    || { echo "reliability: installing $REQ failed" >&2; exit 2; }
  echo "$WANT" > "$STAMP"
fi
"$ROOT/.venv/bin/python" package_lambda.py >/dev/null \
  || { echo "reliability: packaging the Lambda zips failed" >&2; exit 2; }
export PYTHONPATH="$ROOT/scripts:$ROOT/lambda:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
exec "$ROOT/.venv/bin/python" -m reliability "$@"
