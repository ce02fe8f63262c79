#!/usr/bin/env bash
# Run the local cloud (moto server, DRS simulator, Lambda workers, the
# resources of cfn/) in the foreground until interrupted.
#
#   ./scripts/local-cloud.sh [--scenario FILE] [--speed X]
#       [--orchestration generic|legacy] [--port P] [--poll-interval S]
#       [--api-port P] [--local-groups G1,G2] [--local-user EMAIL]
#
# Once ready it prints "export NAME=value" lines (AWS_ENDPOINT_URL,
# AWS_ENDPOINT_URL_DRS, AWS_DEFAULT_REGION, hub credentials,
# DRS_ORCH_API_URL: the REST API, identity by X-Local-User/X-Local-Groups
# headers or the --local-* defaults, see localcloud/rest_api.py) and "READY";
# logs go to stderr, worker logs to build/local-cloud/logs/.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib/venv.sh
source "$ROOT/scripts/lib/venv.sh"
ensure_venv "$ROOT" >&2
cd "$ROOT"
export PYTHONPATH="$ROOT/scripts:$ROOT${PYTHONPATH:+:$PYTHONPATH}"
exec "$ROOT/.venv/bin/python" -m localcloud "$@"
