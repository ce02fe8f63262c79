#!/usr/bin/env bash
# Every quality gate and the whole test suite. Exits non-zero if anything
# fails; each gate's result is printed, then pytest's summary line.
# Usage: ./scripts/test.sh [extra pytest args]
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 2
# shellcheck source=scripts/lib/venv.sh
source scripts/lib/venv.sh
ensure_venv "$ROOT" || { echo "FAIL: could not prepare .venv"; exit 2; }
BIN="$ROOT/.venv/bin"
PY_PATHS=(lambda tests scripts cfn package_lambda.py)
existing=()
for p in "${PY_PATHS[@]}"; do [[ -e $p ]] && existing+=("$p"); done

# The gates run one after another in the background while pytest runs:
# pytest's workers leave part of the cores idle (waits on the local
# cloud), and the gates fill it. Each gate's result is a line in
# $gate_dir/results; a failing gate's log tail goes to $gate_dir/failures.
gate_dir=$(mktemp -d)
trap 'rm -rf "$gate_dir"' EXIT
gate() {
  local name="$1"; shift
  local log="$gate_dir/log"
  if "$@" >"$log" 2>&1; then
    echo "PASS  $name" >>"$gate_dir/results"
  else
    echo "FAIL  $name" >>"$gate_dir/results"
    { echo "---- $name failed:"; tail -n 60 "$log"; } >>"$gate_dir/failures"
  fi
}

run_gates() {
  gate "black (79 columns, check only)" \
    "$BIN/black" --check --quiet --line-length 79 "${existing[@]}"
  gate "flake8" "$BIN/flake8" "${existing[@]}"
  # bandit: the same paths but the tests (pyproject.toml excludes them).
  local bandit_paths=() p
  for p in "${existing[@]}"; do [[ $p == tests ]] || bandit_paths+=("$p"); done
  gate "bandit -ll" "$BIN/bandit" -r "${bandit_paths[@]}" -ll -q \
    -c pyproject.toml
  gate "detect-secrets (against .secrets.baseline)" secrets_gate
  gate "shellcheck (every shell script)" shellcheck_gate
  if compgen -G "cfn/*.yaml" >/dev/null; then
    gate "cfn-lint" "$BIN/cfn-lint" --config-file .cfnlintrc.yaml
  else
    echo "FAIL  cfn-lint (no templates in cfn/)" >>"$gate_dir/results"
  fi
}
# shellcheck source=scripts/lib/security_gates.sh
source scripts/lib/security_gates.sh
run_gates &
gates_pid=$!

# In parallel: one pytest-xdist worker per core (PYTEST_WORKERS overrides),
# each with its own local cloud; worksteal evens out the slow tail.
WORKERS="${PYTEST_WORKERS:-auto}"
echo "==> pytest tests/unit tests/integration (-n $WORKERS)"
pytest_log=$(mktemp)
"$BIN/pytest" tests/unit tests/integration -q -p no:cacheprovider \
  -n "$WORKERS" --dist worksteal "$@" \
  2>&1 | tee "$pytest_log" | grep -vE '^(\.|s|F|E|x)+ *(\[ *[0-9]+%\])?$'
rc=${PIPESTATUS[0]}
summary=$(grep -E '(passed|failed|error|no tests ran)' "$pytest_log" | tail -1)
rm -f "$pytest_log"
wait "$gates_pid"
failed=0
[[ -f $gate_dir/failures ]] && cat "$gate_dir/failures"
declare -a RESULTS=()
mapfile -t RESULTS <"$gate_dir/results"
grep -q '^FAIL' "$gate_dir/results" && failed=1
if [[ $rc -eq 0 ]]; then
  RESULTS+=("PASS  pytest")
else
  RESULTS+=("FAIL  pytest (exit $rc)")
  failed=1
fi

echo
echo "==> gates"
printf '%s\n' "${RESULTS[@]}"
echo "pytest: ${summary:-no summary}"
exit $failed
