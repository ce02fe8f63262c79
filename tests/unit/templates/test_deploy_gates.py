"""deploy.sh --lambda-only runs the blocking gates before touching AWS.

The script runs from a copy of ``scripts/deploy.sh`` whose ``.venv/bin``
holds stub tools that log each call; one stub is made to fail.
"""

import shutil
import stat

# subprocess runs bash on the copied script with fixed arguments.
import subprocess  # nosec B404

import pytest

from tests.unit.templates.cfn_helpers import ROOT

TOOLS = ("cfn-lint", "python", "flake8", "black", "pytest", "bandit", "aws")


def _project(tmp_path, failing):
    """A copy of deploy.sh with logging stub tools; ``failing`` exits 1."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "deploy.sh", tmp_path / "scripts")
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
