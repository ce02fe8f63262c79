"""The drill's "resume it yourself" hint works as printed: the command is
run by a shell with the AWS CLI the project installs (v1, in .venv)
against the local cloud, and the paused execution goes on."""

import io
import os
import re
import subprocess  # nosec B404 - runs the hint the drill printed
import time

from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import load_plan, plans_of
from localcloud.drill.runner import DrillOptions, run_drill
from tests.helpers import ROOT

HINT = "resume it yourself with:\n"
WAIT = 60.0  # wall seconds for each step


def _hint(stream):
    """The command printed after the hint's heading (until the blank or
    next unindented line)."""
    text = stream.getvalue().split(HINT, 1)[1]
    lines = []
    for line in text.splitlines():
        if not line.startswith("    "):
            break
        lines.append(line[4:])
    return "\n".join(lines)


def _shell_env(cloud, home):
    """A user's shell pointed at the local cloud, .venv's aws first on
    PATH, no other AWS configuration."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k != "PYTHONPATH"
    }
    env.update(cloud.env())
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}{os.pathsep}{env['PATH']}"
    env["HOME"] = str(home)
    env["AWS_CONFIG_FILE"] = str(home / "no-config")
    env["AWS_SHARED_CREDENTIALS_FILE"] = str(home / "no-credentials")
    return env


def _until(predicate, what):
    deadline = time.monotonic() + WAIT
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {WAIT}s: {what}")
        time.sleep(0.2)
    return value


class ResumeByHint:
    """Stands in for the user at the pause: instead of pressing Enter it
    runs the printed hint, then waits for the next wave's DRS job.
    Never raises (the drill's Enter thread would die silently); what
    happened is kept in ``seen``."""

    def __init__(self, cloud, stream, home):
        self.cloud = cloud
        self.stream = stream
        self.home = home
        self.api = Invoker(cloud.client("lambda"))
        self.seen = {}

    def details(self):
        return self.api.execution(
            "get_execution_details", {"executionId": self.seen["id"]}
        )

    def __call__(self):
        try:
            self._resume()
        except Exception as error:  # reported by the test's assertions
            self.seen["error"] = repr(error)

    def _resume(self):
        self.seen["hint"] = command = _hint(self.stream)
        self.seen["id"] = re.search(r'"executionId":"([^"]+)"', command).group(
            1
        )
        self.seen["before"] = self.details()
        self.seen["run"] = subprocess.run(  # nosec B603 B607
            ["bash", "-c", command],
            cwd=self.home,
            env=_shell_env(self.cloud, self.home),
            capture_output=True,
            text=True,
            timeout=WAIT,
        )
        if self.seen["run"].returncode != 0:
            return  # the drill resumes itself; the test names the error
        self.seen["after"] = _until(
            lambda: (d := self.details())["status"] != "PAUSED" and d,
            "the execution leaves PAUSED",
        )
        job_id = _until(
            lambda: self.details()["waves"][1].get("jobId"),
            "a DRS job for wave 2",
        )
        drs = self.cloud.client("drs")
        self.seen["jobs"] = drs.describe_jobs(filters={"jobIDs": [job_id]})[
            "items"
        ]


def _two_wave_plan():
    """The default definition cut to database -> web, pausing before the
    web wave (fewer servers and waves: a faster test)."""
    definition = load_plan()
    keep = ("database", "web")
    definition["protectionGroups"] = [
        g for g in definition["protectionGroups"] if g["key"] in keep
    ]
    plan = plans_of(definition)[0]
    waves = [w for w in plan["waves"] if w["protectionGroup"] in keep]
    waves[1]["dependsOnWaves"] = [1]
    assert waves[1]["pauseBeforeWave"] is True
    definition["plans"] = [{**plan, "waves": waves}]
    return definition


def test_printed_resume_hint_resumes_with_aws_cli_v1(local_cloud, tmp_path):
    # Given a two-wave drill paused before wave 2, waiting for Enter
    definition = _two_wave_plan()
    stream = io.StringIO()
    user = ResumeByHint(local_cloud, stream, tmp_path)
    options = DrillOptions(
        plan=definition,
        scenario=local_cloud.scenario,
        speed=local_cloud.speed,
        interactive=True,
        pause_limit=WAIT,
        poll_interval=0.2,
        timeout=90,
        cleanup_timeout=30,
        out_dir=tmp_path / "out",
        stream=stream,
        tty=False,
        wait_for_enter=user,
    )
    clock = local_cloud.simulator.clock
    # When the user runs the printed hint in a shell instead of Enter
    run = run_drill(
        Invoker(local_cloud.client("lambda")),
        options,
        sim_epoch=lambda: clock.now().timestamp(),
    )
    seen = user.seen
    # Then the hint is a fileb:// payload command the CLI v1 accepts
    assert "error" not in seen, seen
    assert "fileb://" in seen["hint"], seen["hint"]
    assert "--cli-binary-format" not in seen["hint"]
    done = seen["run"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert '"StatusCode": 200' in done.stdout, done.stdout
    assert '"FunctionError"' not in done.stdout, done.stdout
    # And the command itself approved wave 2, which waited for approval
    # when it ran (the execution PAUSED, or still pausing: issue 17)
    before = seen["before"]
    assert before["waves"][1]["status"] == "WAITING_APPROVAL", before
    assert before["status"] in ("PAUSED", "RUNNING")
    assert seen["after"]["status"] in ("RUNNING", "COMPLETED")
    # And the DRS simulator ran wave 2's job
    assert [j["status"] for j in seen["jobs"]] in (
        ["PENDING"],
        ["STARTED"],
        ["COMPLETED"],
    ), seen["jobs"]
    report = run.results[0].report
    assert run.exit_code == 0, report.get("failures")
    assert report["status"] == "COMPLETED"
    assert len(report["pauses"]) == 1
    assert [w["status"] for w in report["waves"]] == ["COMPLETED"] * 2
