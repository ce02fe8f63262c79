#!/usr/bin/env bash
# Benchmarks of the orchestration on the local cloud with the DRS
# simulator (issue 11): overhead per wave, generic vs legacy, DRS calls per
# poll cycle, tag discovery, cold start, state size. Writes
# build/bench/<timestamp>.json and build/bench/latest.json and prints a
# table. Takes a few minutes. Usage: ./scripts/bench.sh [--only NAME]...
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
ensure_venv "$ROOT" >&2 || { echo "bench: could not prepare .venv" >&2; exit 2; }
"$ROOT/.venv/bin/python" package_lambda.py >/dev/null \
  || { echo "bench: packaging the Lambda zips failed" >&2; exit 2; }
export PYTHONPATH="$ROOT/scripts:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1
exec "$ROOT/.venv/bin/python" -m bench "$@"
