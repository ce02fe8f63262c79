#!/usr/bin/env bash
# Deploy pipeline (seeds/001 section 6): five stages.
#   1 validation (blocking): cfn-lint, flake8, black --check, the frontend
#     type check
#   2 security (non-blocking): bandit -ll, checkov on cfn/ (standing in for
#     cfn_nag, a Ruby gem: RubyGems is not reachable from these machines),
#     detect-secrets against .secrets.baseline, shellcheck on every shell
#     script, npm audit --audit-level=critical
#   3 tests (blocking): pytest tests/unit tests/integration, the frontend
#     tests
#   The frontend gates run once frontend/package.json exists and say
#   SKIPPED until then; the rules live in scripts/lib/security_gates.sh.
#   4 git: warn on uncommitted changes (push only on a full deploy)
#   5 package + deploy: package_lambda.py builds build/lambda/<folder>.zip,
#     the local Code paths of the functions; aws cloudformation package
#     uploads them, the nested templates and the ASL to the artifact bucket
#     under content-hashed keys (so every deployment and rollback names its
#     own code), then aws cloudformation deploy.
# Usage: ./scripts/deploy.sh <env> [--validate-only] [--lambda-only]
#   --lambda-only: stages 1 and 3, then only the function code is updated
#     (update-function-code with build/lambda/*.zip, outside CloudFormation;
#     a full deploy sets the code again when the zip differs from the one the
#     stack last recorded).
# Env: PROJECT_NAME, AWS_REGION, DEPLOY_BUCKET (artifact bucket; default
# <project>-artifacts-<account>-<region>), ORCHESTRATION_IMPLEMENTATION,
# ADMIN_EMAIL, NOTIFICATION_PLAN_ID_FILTER (the admin e-mail subscription then
# only receives that plan's execution notifications), GIT_PUSH=1 to push in
# stage 4. DEPLOY_SKIP_TESTS=1 (with --validate-only only) skips pytest,
# saying so, to check the other stages quickly.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT" || exit 1
# shellcheck source=scripts/lib/security_gates.sh
source scripts/lib/security_gates.sh
# A clean clone has no .venv: create it as scripts/test.sh does (an
# existing one is used as it is; test.sh refreshes it when the
# requirements change).
if [[ ! -d $ROOT/.venv ]]; then
  # shellcheck source=scripts/lib/venv.sh
  source scripts/lib/venv.sh
  ensure_venv "$ROOT" || { echo "FAILED: could not prepare .venv" >&2; exit 2; }
fi

usage() {
  echo "usage: $0 <env> [--validate-only] [--lambda-only]" >&2
  exit 2
}
[[ $# -ge 1 ]] || usage
ENVIRONMENT="$1"; shift
[[ $ENVIRONMENT =~ ^[a-z0-9][a-z0-9-]{0,15}$ ]] || {
  echo "error: environment must match ^[a-z0-9][a-z0-9-]{0,15}\$" >&2; exit 2; }
VALIDATE_ONLY=0
LAMBDA_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --validate-only) VALIDATE_ONLY=1 ;;
    --lambda-only) LAMBDA_ONLY=1 ;;
    *) usage ;;
  esac
done
PROJECT_NAME="${PROJECT_NAME:-hrp-drs-tech-adapter}"
STACK_NAME="${PROJECT_NAME}-${ENVIRONMENT}"
BUILD_DIR="$ROOT/build"
CHECKOV_VERSION="3.3.30"
PY_PATHS=(lambda tests scripts package_lambda.py cfn/api_stack_generator.py)

# Prefer the project's venv tools; fall back to PATH with a warning.
tool() { gate_tool "$1"; }
stage() { echo; echo "==> Stage $1"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

require_aws() {
  local aws
  aws=$(tool aws) || fail "the AWS CLI is missing"
  if ! ACCOUNT_ID=$("$aws" sts get-caller-identity --query Account \
      --output text 2>/dev/null); then
    fail "AWS credentials are missing or invalid (aws sts" \
      "get-caller-identity failed). Configure a profile or AWS_* variables."
  fi
  REGION="${AWS_REGION:-$("$aws" configure get region || true)}"
  [[ -n $REGION ]] || fail "no AWS region: set AWS_REGION"
  AWS=("$aws" --region "$REGION")
  echo "account $ACCOUNT_ID, region $REGION"
}

stage_validation() {
  stage "1: validation (blocking)"
  local existing=() p
  for p in "${PY_PATHS[@]}"; do [[ -e $p ]] && existing+=("$p"); done
  "$(tool cfn-lint)" --config-file .cfnlintrc.yaml -f quiet \
    || fail "cfn-lint"
  echo "cfn-lint: ok"
  "$(tool python)" cfn/api_stack_generator.py --check \
    || fail "api-gateway-stack.yaml is stale"
  "$(tool flake8)" "${existing[@]}" --count -q || fail "flake8"
  echo "flake8: ok"
  "$(tool black)" --check --quiet --line-length 79 "${existing[@]}" \
    || fail "black (run: black -l 79 ${existing[*]})"
  echo "black: ok"
  frontend_typecheck || fail "frontend type check"
}

run_checkov() {
  local venv="$ROOT/.venv-checkov"
  if [[ ! -x $venv/bin/checkov ]]; then
    echo "installing checkov==$CHECKOV_VERSION into .venv-checkov (first use)"
    if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q \
        --disable-pip-version-check "checkov==$CHECKOV_VERSION" \
        2> >(grep -v "^WARNING: Location" >&2); }; then
      echo "WARNING: checkov could not be installed; security scan of cfn/" \
        "SKIPPED (stage 2 is non-blocking)"
      return 0
    fi
  fi
  # BC_SKIP_MAPPING: offline; do not fetch guideline mappings from the web.
  if BC_SKIP_MAPPING=TRUE "$venv/bin/checkov" --config-file .checkov.yaml \
      --quiet --compact; then
    echo "checkov: ok"
  else
    echo "WARNING: checkov reported findings (non-blocking)"
  fi
}

stage_security() {
  stage "2: security (non-blocking)"
  if "$(tool bandit)" -r lambda scripts package_lambda.py -ll -q \
      -c pyproject.toml; then
    echo "bandit: ok"
  else
    echo "WARNING: bandit reported findings (non-blocking)"
  fi
  run_checkov
  echo "cfn_nag: SKIPPED (a Ruby gem; RubyGems is not reachable from these" \
    "machines: checkov above covers cfn/)"
  secrets_gate \
    || echo "WARNING: detect-secrets found secrets not in .secrets.baseline" \
      "(non-blocking)"
  shellcheck_gate \
    || echo "WARNING: shellcheck reported findings (non-blocking)"
  frontend_audit \
    || echo "WARNING: npm audit reported critical findings or could not" \
      "reach the registry (non-blocking)"
}

stage_tests() {
  stage "3: tests (blocking)"
  local dirs=()
  [[ -d tests/unit ]] && dirs+=(tests/unit)
  [[ -d tests/integration ]] && dirs+=(tests/integration)
  if [[ ${DEPLOY_SKIP_TESTS:-0} == 1 ]]; then
    # Only to check the other stages quickly: nothing is deployed then.
    [[ $VALIDATE_ONLY -eq 1 && $LAMBDA_ONLY -eq 0 ]] \
      || fail "DEPLOY_SKIP_TESTS=1 is allowed with --validate-only only"
    echo "!!! pytest: SKIPPED (DEPLOY_SKIP_TESTS=1): this run does not" \
      "validate the code !!!"
  else
    "$(tool pytest)" "${dirs[@]}" -q --tb=short -p no:cacheprovider \
      -n "${PYTEST_WORKERS:-auto}" --dist worksteal || fail "pytest"
  fi
  frontend_tests || fail "frontend tests"
}

stage_git() {
  stage "4: git"
  if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
    echo "WARNING: uncommitted changes in the working tree:"
    git status --short | head -20
  else
    echo "working tree clean"
  fi
  if [[ $VALIDATE_ONLY -eq 0 && ${GIT_PUSH:-0} == 1 ]]; then
    git push || echo "WARNING: git push failed"
  fi
}

build_zips() {
  rm -rf "$BUILD_DIR/lambda"
  "$(tool python)" package_lambda.py --output-dir "$BUILD_DIR/lambda" \
    || fail "package_lambda.py"
}

ensure_bucket() {
  BUCKET="${DEPLOY_BUCKET:-${PROJECT_NAME}-artifacts-${ACCOUNT_ID}-${REGION}}"
  if ! "${AWS[@]}" s3api head-bucket --bucket "$BUCKET" 2>/dev/null; then
    echo "creating artifact bucket $BUCKET"
    if [[ $REGION == us-east-1 ]]; then
      "${AWS[@]}" s3api create-bucket --bucket "$BUCKET" >/dev/null
    else
      "${AWS[@]}" s3api create-bucket --bucket "$BUCKET" \
        --create-bucket-configuration "LocationConstraint=$REGION" >/dev/null
    fi || fail "cannot create bucket $BUCKET"
    "${AWS[@]}" s3api put-public-access-block --bucket "$BUCKET" \
      --public-access-block-configuration "BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true"
  fi
}

function_name() {
  case "$1" in
    dr-orchestration-stepfunction) echo "${PROJECT_NAME}-dr-orch-sf-${ENVIRONMENT}" ;;
    orchestration-stepfunctions) echo "${PROJECT_NAME}-orch-sf-${ENVIRONMENT}" ;;
    *) echo "${PROJECT_NAME}-$1-${ENVIRONMENT}" ;;
  esac
}

update_function_code() {
  local zip folder
  for zip in "$BUILD_DIR"/lambda/*.zip; do
    [[ -f $zip ]] || fail "no zip in $BUILD_DIR/lambda"
    folder=$(basename "$zip" .zip)
    echo "updating $(function_name "$folder")"
    "${AWS[@]}" lambda update-function-code \
      --function-name "$(function_name "$folder")" \
      --zip-file "fileb://$zip" >/dev/null \
      || fail "update-function-code $folder"
  done
}

deploy_stack() {
  local packaged="$BUILD_DIR/packaged-master.yaml"
  # The functions' Code paths name build/lambda/<folder>.zip: build first.
  build_zips
  "${AWS[@]}" cloudformation package \
    --template-file cfn/master-template.yaml \
    --s3-bucket "$BUCKET" --s3-prefix "cfn/$ENVIRONMENT" \
    --output-template-file "$packaged" || fail "cloudformation package"
  local params=(
    "ProjectName=$PROJECT_NAME" "Environment=$ENVIRONMENT"
    "OrchestrationImplementation=${ORCHESTRATION_IMPLEMENTATION:-generic}"
  )
  [[ -n ${ADMIN_EMAIL:-} ]] && params+=("AdminEmail=$ADMIN_EMAIL")
  [[ -n ${NOTIFICATION_PLAN_ID_FILTER:-} ]] \
    && params+=("NotificationPlanIdFilter=$NOTIFICATION_PLAN_ID_FILTER")
  "${AWS[@]}" cloudformation deploy --template-file "$packaged" \
    --stack-name "$STACK_NAME" \
    --capabilities CAPABILITY_IAM CAPABILITY_NAMED_IAM CAPABILITY_AUTO_EXPAND \
    --parameter-overrides "${params[@]}" --no-fail-on-empty-changeset \
    || fail "cloudformation deploy"
}

if [[ $LAMBDA_ONLY -eq 1 ]]; then
  # New code still passes the blocking gates first: validation and tests.
  stage_validation
  stage_tests
  stage "5: package and update function code (--lambda-only)"
  require_aws
  build_zips
  update_function_code
  echo "done: function code updated in $STACK_NAME"
  exit 0
fi

stage_validation
stage_security
stage_tests
stage_git
if [[ $VALIDATE_ONLY -eq 1 ]]; then
  echo
  echo "validation passed (--validate-only: nothing deployed)"
  exit 0
fi
stage "5: package and deploy"
require_aws
ensure_bucket
deploy_stack
echo "done: stack $STACK_NAME deployed"
