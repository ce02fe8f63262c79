# shellcheck shell=bash
# Gates shared by scripts/deploy.sh, scripts/test.sh and the pre-commit
# hooks, so each rule is written once. Source it, then call the functions
# from the project root; each prints what it found and returns non-zero on
# a finding. Everything runs offline with the tools of .venv, except
# frontend_audit (npm audit asks the npm registry).

# The project's .venv tool, else the one on PATH (with a warning).
gate_tool() {
  if [[ -x $PWD/.venv/bin/$1 ]]; then
    echo "$PWD/.venv/bin/$1"
  elif command -v "$1" >/dev/null 2>&1; then
    echo "warning: .venv/bin/$1 not found, using $(command -v "$1")" >&2
    command -v "$1"
  else
    echo "error: $1 is not installed (pip install -r requirements-dev.txt)" >&2
    return 1
  fi
}

# The project's files, NUL-separated: tracked and untracked-not-ignored in
# a git checkout; elsewhere (a copied tree) every file outside .git,
# .venv*, build, node_modules and caches.
project_files() {
  if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z -co --exclude-standard
  else
    find . \( -name .git -o -name '.venv*' -o -name build \
      -o -name node_modules -o -name __pycache__ -o -name '*_cache' \) \
      -prune -o -type f -printf '%P\0'
  fi
}

# Every shell script: *.sh, and any file whose shebang runs sh, bash, dash
# or ksh, directly or through env (e.g. .ci/run). One path a line.
SHEBANG='^#![[:space:]]*[^[:space:]]*/(env[[:space:]]+(-S[[:space:]]+)?)?'
SHEBANG+='(sh|bash|dash|ksh)([[:space:]]|$)'
shell_scripts() {
  local file first
  while IFS= read -r -d '' file; do
    [[ -f $file ]] || continue  # listed by git but deleted
    if [[ $file == *.sh ]]; then
      echo "$file"
      continue
    fi
    first=""
    IFS= read -r -n 120 first <"$file" 2>/dev/null || true
    if [[ $first =~ $SHEBANG ]]; then
      echo "$file"
    fi
  done < <(project_files)
}

# Runs shellcheck (every severity, sourced files followed) on every shell
# script.
shellcheck_gate() {
  local sc scripts=()
  sc=$(gate_tool shellcheck) || return 1
  mapfile -t scripts < <(shell_scripts)
  if [[ ${#scripts[@]} -eq 0 ]]; then
    echo "shellcheck: no shell scripts"
    return 0
  fi
  "$sc" -x "${scripts[@]}" || return 1
  echo "shellcheck: ${#scripts[@]} scripts, ok"
}

# detect-secrets: no potential secret outside .secrets.baseline (read-only;
# see scripts/lib/secrets_gate.py).
secrets_gate() {
  local python
  python=$(gate_tool python) || return 1
  "$python" scripts/lib/secrets_gate.py --baseline .secrets.baseline
}

# npm in frontend/ for a frontend gate; says SKIPPED (and succeeds) while
# the project has no frontend/package.json. "install" first installs the
# dependencies if node_modules is missing (from npm's cache if it can).
frontend_npm() {
  local label="$1" install="$2"
  shift 2
  if [[ ! -f frontend/package.json ]]; then
    echo "$label: SKIPPED (no frontend/package.json)"
    return 0
  fi
  if ! command -v npm >/dev/null 2>&1; then
    echo "$label: npm is not installed" >&2
    return 1
  fi
  if [[ $install == install && ! -d frontend/node_modules ]]; then
    (cd frontend && npm ci --prefer-offline --no-audit --no-fund) \
      || return 1
  fi
  (cd frontend && npm "$@") || return 1
  echo "$label: ok"
}

frontend_typecheck() {
  frontend_npm "frontend type check" install run type-check
}
frontend_tests() {
  frontend_npm "frontend tests" install run test:skip-integration
}
frontend_audit() {
  frontend_npm "npm audit" no-install audit --audit-level=critical
}
