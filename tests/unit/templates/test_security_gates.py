"""The security gates of scripts/lib/security_gates.sh (deploy.sh stage 2,
scripts/test.sh) and the pre-commit hooks that apply the same rules.

Each gate runs for real (.venv's detect-secrets and shellcheck) on a small
project in tmp_path: a clean tree passes, a planted finding fails.
"""

import os
import shutil
import stat

# subprocess runs bash, git and the project's own scripts, fixed argv.
import subprocess  # nosec B404

import pytest
import yaml

from tests.unit.templates.cfn_helpers import ROOT

VENV_BIN = ROOT / ".venv" / "bin"
pytestmark = pytest.mark.skipif(
    not (
        (VENV_BIN / "shellcheck").exists() and (VENV_BIN / "python").exists()
    ),
    reason="needs .venv with detect-secrets and shellcheck",
)
LIB = ("security_gates.sh", "secrets_gate.py", "file_checks.py")
CLEAN_SCRIPT = '#!/usr/bin/env bash\nset -euo pipefail\necho "${1:-}"\n'


def _executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)


@pytest.fixture
def project(tmp_path):
    """Given a clean project: the gate scripts, the project's baseline,
    a bash script without .sh, a module with the moto "testing" creds."""
    (tmp_path / "scripts" / "lib").mkdir(parents=True)
    for name in LIB:
        shutil.copy(ROOT / "scripts" / "lib" / name, tmp_path / "scripts/lib")
    shutil.copy(ROOT / ".secrets.baseline", tmp_path)
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    _executable(tmp_path / "ci" / "run", CLEAN_SCRIPT)
    (tmp_path / "fixture.py").write_text(
        'CREDS = {"aws_secret_access_key": "testing"}\n'
    )
    return tmp_path


def _gate(project, function):
    """When the gate function runs in the project."""
    return subprocess.run(  # nosec B603 B607
        ["bash", "-c", f"source scripts/lib/security_gates.sh && {function}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _fake_aws_key():
    """An access key id of the AWS pattern, built here so that this test
    file holds none."""
    return "AKIA" + "J3KQ7XW2M9PL4TZB"


def test_shell_scripts_are_found_by_name_and_by_shebang(project):
    # Given .sh files, a bash script without extension and other files
    (project / "tool.sh").write_text("echo hi\n")
    (project / "notes.txt").write_text("run it with /bin/bash\n")
    _executable(project / "py-tool", "#!/usr/bin/env python3 # no bash\n")
    _executable(project / "sh-tool", "#! /bin/sh -e\necho hi\n")
    # When the shell scripts are listed
    listed = _gate(project, "shell_scripts").stdout.split()
    # Then every shell script and nothing else
    assert sorted(listed) == [
        "ci/run",
        "scripts/lib/security_gates.sh",
        "sh-tool",
        "tool.sh",
    ]


def test_clean_tree_passes_both_gates(project):
    # When the gates run on the clean project
    secrets = _gate(project, "secrets_gate")
    shellcheck = _gate(project, "shellcheck_gate")
    # Then both pass (the "testing" fixture creds are allowed)
    assert secrets.returncode == 0, secrets.stdout + secrets.stderr
    assert "no new secret" in secrets.stdout
    assert shellcheck.returncode == 0, shellcheck.stdout + shellcheck.stderr
    assert "shellcheck: 2 scripts, ok" in shellcheck.stdout


def test_planted_secret_fails_the_secrets_gate(project):
    # Given a new file with an AWS access key and a high-entropy secret
    high_entropy = "/".join(["wJalrXUtnFEMI", "K7MDENG", "bPxRfiCYzq9X"])
    (project / "lambda").mkdir()
    (project / "lambda" / "settings.py").write_text(
        f'KEY_ID = "{_fake_aws_key()}"\nSECRET_KEY = "{high_entropy}"\n'
    )
    # When the secrets gate runs
    result = _gate(project, "secrets_gate")
    # Then it fails naming the file, line and kind, the secret not shown
    assert result.returncode == 1, result.stdout + result.stderr
    assert "lambda/settings.py:1: AWS Access Key" in result.stdout
    assert "lambda/settings.py:2:" in result.stdout
    assert _fake_aws_key() not in result.stdout + result.stderr


def test_secrets_gate_covers_untracked_files_not_ignored_ones(project):
    # Given a git checkout with a new, untracked file holding a key, and
    # the same key in an ignored build/ file
    subprocess.run(["git", "init", "-q"], cwd=project, check=True)  # nosec
    (project / ".gitignore").write_text("build/\n.venv\n")
    (project / "build").mkdir()
    (project / "build" / "out.py").write_text(f'K = "{_fake_aws_key()}"\n')
    (project / "new_module.py").write_text(f'K = "{_fake_aws_key()}"\n')
    # When the secrets gate runs
    result = _gate(project, "secrets_gate")
    # Then the new file fails it and the ignored one is not scanned
    assert result.returncode == 1, result.stdout + result.stderr
    assert "new_module.py:1: AWS Access Key" in result.stdout
    assert "build/" not in result.stdout


def test_shellcheck_error_fails_the_shellcheck_gate(project):
    # Given a bash script (no .sh) that word-splits its argument
    _executable(project / "ci" / "purge", "#!/bin/bash\nrm -rf $1/cache\n")
    # When the shellcheck gate runs
    result = _gate(project, "shellcheck_gate")
    # Then it fails naming the script and the check
    assert result.returncode == 1, result.stdout + result.stderr
    assert "In ci/purge line 2" in result.stdout
    assert "SC2086" in result.stdout


def test_every_project_shell_script_is_checked():
    # Given the project's own shell scripts
    listed = subprocess.run(  # nosec B603 B607
        ["bash", "-c", "source scripts/lib/security_gates.sh; shell_scripts"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Then the gate sees the entry points, the libraries and CI's script
    for script in (
        ".ci/run",
        "scripts/deploy.sh",
        "scripts/test.sh",
        "scripts/lib/venv.sh",
        "scripts/lib/security_gates.sh",
    ):
        assert script in listed, listed


def _hooks():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    return config["repos"], [h for r in config["repos"] for h in r["hooks"]]


def test_pre_commit_hooks_are_all_local_and_offline():
    # Given the pre-commit configuration
    repos, hooks = _hooks()
    # Then no hook repository is fetched: every hook is local and runs a
    # tool of .venv (system) or nothing pre-commit must install
    assert [r["repo"] for r in repos] == ["local"] * len(repos)
    assert hooks
    for hook in hooks:
        assert hook["language"] in ("system", "python"), hook
        assert not hook.get("additional_dependencies"), hook
        tool, *args = hook["entry"].split()
        assert tool.startswith(".venv/bin/"), hook
        scripts = [a for a in args if a.startswith("scripts/")]
        assert all((ROOT / s).is_file() for s in scripts), hook
    # And the seeds' offline hooks are there, with the gates' rules
    ids = {h["id"]: h for h in hooks}
    for hook_id in ("black", "flake8", "bandit", "cfn-lint", "check-yaml"):
        assert hook_id in ids, sorted(ids)
    assert "scripts/lib/secrets_gate.py" in ids["detect-secrets"]["entry"]
    assert ids["shellcheck"]["entry"].split()[0] == ".venv/bin/shellcheck"
    assert ids["black"]["entry"].endswith("--line-length 79")


def test_pre_commit_file_checks_find_problems(tmp_path):
    # Given a CloudFormation template (short tags), broken YAML and JSON,
    # and text with trailing blanks and no final newline
    good = tmp_path / "stack.yaml"
    good.write_text("Resources:\n  T:\n    Value: !Ref Param\n")
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("a: [1, 2\n")
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"a": 1,}\n')
    sloppy = tmp_path / "notes.md"
    sloppy.write_text("fine\ntrailing  \nno newline")

    def check(kind, *files):
        return subprocess.run(  # nosec B603 B607
            [
                str(VENV_BIN / "python"),
                str(ROOT / "scripts" / "lib" / "file_checks.py"),
                kind,
                *map(str, files),
            ],
            capture_output=True,
            text=True,
        )

    # When each check runs / Then only the problems fail, each named
    assert check("yaml", good).returncode == 0
    assert check("text", good).returncode == 0
    broken = check("yaml", good, bad_yaml)
    assert broken.returncode == 1 and "bad.yaml: invalid YAML" in broken.stdout
    assert "stack.yaml" not in broken.stdout
    assert "bad.json: invalid JSON" in check("json", bad_json).stdout
    text = check("text", sloppy)
    assert text.returncode == 1
    assert f"{sloppy}:2: trailing whitespace" in text.stdout
    assert "no newline at the end" in text.stdout
    assert os.path.getsize(sloppy) == len("fine\ntrailing  \nno newline")
