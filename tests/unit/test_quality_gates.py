"""scripts/test.sh itself: each gate fails the run when it should.

The script is run for real on a tiny copy of the project layout (the
project's own gate configuration, the real .venv), so the check is that a
finding by black, flake8, bandit or cfn-lint, or a failing test, makes
``./scripts/test.sh`` exit non-zero and name the gate.
"""

import os
import shutil
import subprocess  # nosec B404 - runs the project's own script
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILES = (
    "requirements-dev.txt",
    ".flake8",
    ".cfnlintrc.yaml",
    "pyproject.toml",
    ".secrets.baseline",
)
CLEAN_MODULE = '"""A clean module."""\n\n\ndef double(value: int) -> int:\n'
CLEAN_MODULE += '    """Twice the value."""\n    return value * 2\n'
TEMPLATE = (
    'AWSTemplateFormatVersion: "2010-09-09"\n'
    "Resources:\n"
    "  Topic:\n"
    "    Type: AWS::SNS::Topic\n"
)
PASSING_TEST = "def test_ok():\n    assert 1 + 1 == 2\n"

pytestmark = pytest.mark.skipif(
    not (ROOT / ".venv" / ".requirements.sha256").exists(),
    reason="needs the .venv that scripts/test.sh creates",
)


@pytest.fixture
def mini_project(tmp_path: Path) -> Path:
    """Given a minimal project that passes every gate."""
    (tmp_path / "scripts" / "lib").mkdir(parents=True)
    for name in (
        "test.sh",
        "lib/venv.sh",
        "lib/security_gates.sh",
        "lib/secrets_gate.py",
    ):
        shutil.copy2(ROOT / "scripts" / name, tmp_path / "scripts" / name)
    for name in CONFIG_FILES:
        shutil.copy2(ROOT / name, tmp_path / name)
    # The real .venv: same requirements file, so its stamp matches and
    # nothing is installed.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    (tmp_path / "lambda").mkdir()
    (tmp_path / "lambda" / "module.py").write_text(CLEAN_MODULE)
    (tmp_path / "cfn").mkdir()
    (tmp_path / "cfn" / "stack.yaml").write_text(TEMPLATE)
    for folder in ("tests/unit", "tests/integration"):
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "tests" / "unit" / "test_ok.py").write_text(PASSING_TEST)
    return tmp_path


def run_gates(
    project: Path, workers: str = "auto"
) -> subprocess.CompletedProcess:
    """When scripts/test.sh runs in the project (``workers`` pytest-xdist
    workers; "0" runs in-process, cheaper where the run is not about
    parallelism)."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COV_"))
    }
    env["PYTEST_WORKERS"] = workers
    return subprocess.run(  # nosec B603 - fixed argv, our own script
        ["bash", str(project / "scripts" / "test.sh")],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_clean_project_passes(mini_project):
    result = run_gates(mini_project)

    assert result.returncode == 0, result.stdout + result.stderr
    for gate in (
        "black",
        "flake8",
        "bandit",
        "detect-secrets",
        "shellcheck",
        "cfn-lint",
        "pytest",
    ):
        assert f"PASS  {gate}" in result.stdout
    assert "pytest: 1 passed" in result.stdout
    # in parallel: the run used pytest-xdist workers
    assert "(-n auto)" in result.stdout


# One finding per gate, each in its own file.
FINDINGS = {
    "black": ("lambda/ugly.py", "x = {  'a':1 }\n"),
    "flake8": ("lambda/unused.py", "import os\n"),
    "bandit": (
        "lambda/risky.py",
        '"""Risky."""\n\n\ndef run(text: str):\n'
        '    """Evaluate."""\n    return eval(text)\n',
    ),
    "cfn-lint": (
        "cfn/broken.yaml",
        TEMPLATE.replace("AWS::SNS::Topic", "AWS::SNS::Topicc"),
    ),
    "pytest": (
        "tests/unit/test_bad.py",
        "def test_bad():\n    assert 1 + 1 == 3\n",
    ),
    "shellcheck": ("scripts/unquoted.sh", "#!/usr/bin/env bash\nrm -f $1\n"),
    "detect-secrets": (
        "notes.txt",
        # an AWS key id, assembled so this file holds none
        "aws_access_key_id = " + "AKIA" + "Q3EGRWJ7XZ5BN2LT\n",
    ),
}


def test_one_gate_alone_fails_the_run(mini_project):
    # Given a project whose only finding is flake8's
    path, content = FINDINGS["flake8"]
    (mini_project / path).write_text(content)

    # When the gates run
    result = run_gates(mini_project, workers="0")

    # Then that one gate fails the run, and only it is named
    assert result.returncode != 0
    assert "FAIL  flake8" in result.stdout, result.stdout
    assert result.stdout.count("FAIL  ") == 1, result.stdout


def test_each_gate_names_its_own_finding(mini_project):
    # Given a project with one finding for each gate (one run for all
    # seven: each gate runs whatever the others found)
    for path, content in FINDINGS.values():
        (mini_project / path).write_text(content)

    # When the gates run
    result = run_gates(mini_project, workers="0")

    # Then the run fails and names every gate
    assert result.returncode != 0
    for gate in FINDINGS:
        assert f"FAIL  {gate}" in result.stdout, (gate, result.stdout)
