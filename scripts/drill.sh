#!/usr/bin/env bash
# A full DR drill on the local cloud, in one command.
# Usage: ./scripts/drill.sh [--scenario FILE] [--plan FILE] [--speed X]
#                           [--recovery] [--json] [--interactive]
# Bootstraps .venv, builds the Lambda zips, starts the local cloud with the
# scenario (default scripts/scenarios/three-tier.yaml), runs the plan
# (default scripts/plans/three-tier-plan.yaml) through the deployed
# functions, and writes build/drill/<executionId>/report.json and
# timeline.png. Exit code 0 only when the drill completed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
ensure_venv "$ROOT" >&2 || { echo "drill: could not prepare .venv" >&2; exit 2; }
"$ROOT/.venv/bin/python" package_lambda.py >/dev/null \
  || { echo "drill: packaging the Lambda zips failed" >&2; exit 2; }
export PYTHONPATH="$ROOT/scripts:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
exec "$ROOT/.venv/bin/python" -m localcloud.drill "$@"
