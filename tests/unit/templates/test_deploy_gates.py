"""deploy.sh: --lambda-only runs the blocking gates before touching AWS;
--validate-only runs every seed gate that can run offline.

The script runs from a copy of ``scripts/deploy.sh`` (and the gate
scripts of ``scripts/lib``) whose ``.venv/bin`` holds stub tools that log
each call; one stub is made to fail. The security gates of stage 2 run
the real detect-secrets and shellcheck.
"""

import os
import shutil
import stat

# subprocess runs bash on the copied script with fixed arguments.
import subprocess  # nosec B404

import pytest

from tests.unit.templates.cfn_helpers import ROOT

TOOLS = ("cfn-lint", "python", "flake8", "black", "pytest", "bandit", "aws")
GATE_SCRIPTS = (
    "deploy.sh",
    "lib/security_gates.sh",
    "lib/secrets_gate.py",
    "lib/venv.sh",
)


def _project(tmp_path, failing):
    """A copy of deploy.sh with logging stub tools; ``failing`` exits 1."""
    (tmp_path / "scripts" / "lib").mkdir(parents=True)
    for name in GATE_SCRIPTS:
        shutil.copy(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    log = tmp_path / "calls.log"
    for tool in TOOLS:
        stub = bin_dir / tool
        code = 1 if tool == failing else 0
        stub.write_text(
            f'#!/bin/sh\necho "{tool} $*" >> "{log}"\nexit {code}\n'
        )
        stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    for folder in ("lambda", "tests/unit"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    return tmp_path / "scripts" / "deploy.sh", log


def _deploy_lambda_only(script):
    """``deploy.sh dev --lambda-only`` on the copied project."""
    return subprocess.run(  # nosec B603 B607
        ["bash", str(script), "dev", "--lambda-only"],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("failing", ["cfn-lint", "flake8", "pytest"])
def test_lambda_only_stops_at_a_failing_gate(tmp_path, failing):
    # Given a project whose validation or tests fail
    script, log = _project(tmp_path, failing)
    # When the function code is deployed alone
    result = _deploy_lambda_only(script)
    calls = log.read_text().splitlines()
    # Then the run fails at that gate and AWS is never called
    assert result.returncode == 1, result.stdout + result.stderr
    assert any(c.startswith(failing) for c in calls), calls
    assert not [c for c in calls if c.startswith("aws ")], calls


def test_lambda_only_runs_validation_and_tests_before_aws(tmp_path):
    # Given a project whose gates pass (AWS calls are stubbed)
    script, log = _project(tmp_path, failing=None)
    # When the function code is deployed alone
    _deploy_lambda_only(script)
    tools = [c.split()[0] for c in log.read_text().splitlines()]
    # Then cfn-lint and pytest ran, both before the first AWS call
    assert "aws" in tools, tools
    first_aws = tools.index("aws")
    assert "cfn-lint" in tools[:first_aws], tools
    assert "pytest" in tools[:first_aws], tools


def test_lambda_only_updates_code_from_the_built_zips(tmp_path):
    # Given gates that pass and a package_lambda.py that builds two zips
    script, log = _project(tmp_path, failing=None)
    python = tmp_path / ".venv" / "bin" / "python"
    python.write_text(
        "#!/bin/sh\n"
        f'echo "python $*" >> "{log}"\n'
        'if [ "$1" = package_lambda.py ]; then\n'
        '  mkdir -p "$3" && touch "$3/query-handler.zip" '
        '"$3/dr-orchestration-stepfunction.zip"\n'
        "fi\n"
    )
    # When the function code is deployed alone
    result = _deploy_lambda_only(script)
    calls = log.read_text().splitlines()
    # Then each function gets its zip directly, nothing goes through S3
    assert result.returncode == 0, result.stdout + result.stderr
    updates = [c for c in calls if "update-function-code" in c]
    zips = tmp_path / "build" / "lambda"
    assert len(updates) == 2, calls
    assert any(
        "hrp-drs-tech-adapter-dr-orch-sf-dev" in c
        and f"fileb://{zips}/dr-orchestration-stepfunction.zip" in c
        for c in updates
    ), updates
    assert not [c for c in calls if " s3 " in c or " s3api " in c], calls


# --validate-only: the seeds' stages 1-3 with the real detect-secrets and
# shellcheck (stage 2); the other tools stay logging stubs.
REAL_PYTHON = ROOT / ".venv" / "bin" / "python"
REAL_SHELLCHECK = ROOT / ".venv" / "bin" / "shellcheck"
needs_security_tools = pytest.mark.skipif(
    not (REAL_PYTHON.exists() and REAL_SHELLCHECK.exists()),
    reason="needs .venv with detect-secrets and shellcheck",
)


def _executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


def _validating_project(tmp_path, failing=None):
    """The stub project with the real security tools and the project's
    .secrets.baseline; checkov is a stub (never installed here)."""
    script, log = _project(tmp_path, failing)
    bin_dir = tmp_path / ".venv" / "bin"
    _executable(
        bin_dir / "python",
        f'#!/bin/sh\necho "python $*" >> "{log}"\n'
        f'case "$1" in scripts/lib/*) exec "{REAL_PYTHON}" "$@" ;; esac\n',
    )
    (bin_dir / "shellcheck").symlink_to(REAL_SHELLCHECK)
    _executable(
        tmp_path / ".venv-checkov" / "bin" / "checkov",
        f'#!/bin/sh\necho "checkov $*" >> "{log}"\n',
    )
    shutil.copy(ROOT / ".secrets.baseline", tmp_path)
    return script, log


def _validate(script, extra_env=None, path_prefix=None, *args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.pop("DEPLOY_SKIP_TESTS", None)
    env.update(extra_env or {})
    if path_prefix:
        env["PATH"] = f"{path_prefix}{os.pathsep}{env['PATH']}"
    return subprocess.run(  # nosec B603 B607
        ["bash", str(script), "dev", *(args or ("--validate-only",))],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _fake_aws_key():
    """An access key id of the AWS pattern, built here so that this test
    file holds none."""
    return "AKIA" + "J3KQ7XW2M9PL4TZB"


@needs_security_tools
def test_validate_only_runs_every_offline_seed_gate(tmp_path):
    # Given a clean project: no secret, clean shell scripts, no frontend
    script, log = _validating_project(tmp_path)
    # When the pipeline validates without deploying
    result = _validate(script)
    out = result.stdout
    tools = [c.split()[0] for c in log.read_text().splitlines()]
    # Then it passes and every stage-2 gate ran or says why it could not
    assert result.returncode == 0, out + result.stderr
    assert "detect-secrets:" in out and "no new secret" in out, out
    assert "shellcheck: 3 scripts, ok" in out, out
    assert "cfn_nag: SKIPPED" in out and "RubyGems" in out, out
    assert "WARNING" not in out, out
    for gate in ("frontend type check", "npm audit", "frontend tests"):
        assert f"{gate}: SKIPPED (no frontend/package.json)" in out, out
    # And the blocking gates ran too, nothing touched AWS
    for tool in ("cfn-lint", "flake8", "black", "bandit", "checkov"):
        assert tool in tools, tools
    assert "pytest" in tools and "aws" not in tools, tools


@needs_security_tools
def test_validate_only_warns_on_a_secret_and_a_shellcheck_finding(
    tmp_path,
):
    # Given a new module holding an AWS key and a bash script (no .sh)
    # with an unquoted argument
    script, _ = _validating_project(tmp_path)
    (tmp_path / "lambda" / "settings.py").write_text(
        f'KEY_ID = "{_fake_aws_key()}"\n'
    )
    _executable(
        tmp_path / "scripts" / "purge", "#!/bin/bash\nrm -rf $1/cache\n"
    )
    # When the pipeline validates
    result = _validate(script)
    out = result.stdout
    # Then stage 2 names both findings; being non-blocking (seeds), the
    # run still passes
    assert "lambda/settings.py:1: AWS Access Key" in out, out
    assert "WARNING: detect-secrets found secrets" in out, out
    assert "In scripts/purge line 2" in out and "SC2086" in out, out
    assert "WARNING: shellcheck reported findings" in out, out
    assert result.returncode == 0, out + result.stderr


@needs_security_tools
def test_frontend_gates_run_once_frontend_exists(tmp_path):
    # Given a frontend/ whose type check fails, npm a logging stub
    script, _ = _validating_project(tmp_path)
    (tmp_path / "frontend").mkdir()
    (tmp_path / "frontend" / "package.json").write_text("{}\n")
    npm_log = tmp_path / "npm.log"
    fake_bin = tmp_path / "fake-bin"
    _executable(
        fake_bin / "npm",
        f'#!/bin/sh\necho "$PWD $*" >> "{npm_log}"\n'
        '[ "$*" = "run type-check" ] && exit "${TYPE_CHECK_RC:-0}"\n'
        "exit 0\n",
    )
    # When the pipeline validates with a passing type check
    passing = _validate(script, {"TYPE_CHECK_RC": "0"}, fake_bin)
    calls = npm_log.read_text().splitlines()
    # Then npm ran in frontend/: install, type check (stage 1), audit
    # (stage 2), tests (stage 3)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    frontend = str(tmp_path / "frontend")
    assert calls == [
        f"{frontend} ci --prefer-offline --no-audit --no-fund",
        f"{frontend} run type-check",
        f"{frontend} audit --audit-level=critical",
        f"{frontend} ci --prefer-offline --no-audit --no-fund",
        f"{frontend} run test:skip-integration",
    ], calls
    # And a type error stops the pipeline in stage 1 (blocking)
    failing = _validate(script, {"TYPE_CHECK_RC": "2"}, fake_bin)
    assert failing.returncode == 1, failing.stdout
    assert "FAILED: frontend type check" in failing.stderr
    assert "Stage 2" not in failing.stdout


@needs_security_tools
def test_skipping_tests_is_loud_and_validate_only(tmp_path):
    # Given a project whose gates pass
    script, log = _validating_project(tmp_path)
    skip = {"DEPLOY_SKIP_TESTS": "1"}
    # When tests are skipped on a validation run
    validated = _validate(script, skip)
    # Then pytest did not run and the run says so
    assert validated.returncode == 0, validated.stdout + validated.stderr
    assert "pytest: SKIPPED (DEPLOY_SKIP_TESTS=1)" in validated.stdout
    assert "pytest" not in log.read_text()
    # And a run that deploys code refuses to skip them, before AWS
    log.write_text("")
    refused = _validate(script, skip, None, "--lambda-only")
    assert refused.returncode == 1, refused.stdout
    assert "allowed with --validate-only only" in refused.stderr
    assert "aws" not in log.read_text()
