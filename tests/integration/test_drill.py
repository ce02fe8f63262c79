"""The drill end to end on the local cloud: the default drill through
``scripts/drill.sh`` as a user runs it (its JSON reports checked in full:
one run of the default drill for both), and ``run_drill`` in process for
a failing scenario (the fixture's cloud, speed 600)."""

import io
import json
import os
import subprocess  # nosec - runs the repository's own script

from localcloud.drill.invoker import Invoker
from localcloud.drill.plan_setup import load_plan, plans_of
from localcloud.drill.runner import DrillOptions, run_drill
from localcloud.scenario import load_scenario
from tests.helpers import ROOT, SCRIPTS_DIR

FAILING = SCRIPTS_DIR / "scenarios" / "three-tier-failing.yaml"


def _options(cloud, tmp_path, definition, scenario):
    return DrillOptions(
        plan=definition,
        scenario=scenario,
        speed=cloud.speed,
        resume_after=1,
        poll_interval=0.2,
        timeout=90,
        cleanup_timeout=30,
        out_dir=tmp_path,
        stream=io.StringIO(),
        tty=False,
    )


def _run(cloud, options):
    clock = cloud.simulator.clock
    return run_drill(
        Invoker(cloud.client("lambda"), caller="drill.sh"),
        options,
        sim_epoch=lambda: clock.now().timestamp(),
    )


def test_failing_server_ends_non_zero_naming_it(local_cloud, tmp_path):
    # Given the scenario where erp-app-02's launch fails, the ERP plan only
    scenario = load_scenario(FAILING)
    local_cloud.reset(scenario)
    definition = load_plan()
    definition["plans"] = plans_of(definition)[:1]
    options = _options(local_cloud, tmp_path, definition, scenario)
    # When the drill runs
    run = _run(local_cloud, options)
    # Then it fails in wave 2 naming the server, and cleans up the rest
    report = run.results[0].report
    assert run.exit_code == 1
    assert report["status"] == "FAILED"
    assert [(f["waveNumber"], f["hostname"]) for f in report["failures"]] == [
        (2, "erp-app-02")
    ]
    assert report["cleanup"]["confirmed"]
    assert "injected" in report["failures"][0]["reason"]
    assert "FAILED: wave 2" in options.stream.getvalue()


def test_drill_sh_runs_a_fast_drill_with_json_output(tmp_path):
    # Given a user's shell (no local cloud running), a fast speed and a
    # short automatic resume
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and k != "PYTHONPATH"
    }
    # When ./scripts/drill.sh runs the shipped definition (ERP plan in the
    # hub, portal in a spoke) at speed 1800, without interaction
    done = subprocess.run(  # nosec - fixed arguments
        [
            str(ROOT / "scripts" / "drill.sh"),
            "--speed",
            "1800",
            "--resume-after",
            "1",
            "--json",
            "--out-dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=170,
    )
    # Then it exits 0 and stdout is the reports' JSON
    assert done.returncode == 0, done.stderr[-3000:]
    erp, portal = json.loads(done.stdout)
    # And both executions completed, were paused/resumed as planned,
    # every server launched, and no recovery instance is left
    assert [erp["status"], portal["status"]] == ["COMPLETED", "COMPLETED"]
    assert len(erp["pauses"]) == 1
    assert erp["rto"]["serversLaunched"] == 8
    assert portal["rto"]["serversLaunched"] == 2
    assert erp["cleanup"]["confirmed"] and portal["cleanup"]["confirmed"]
    assert erp["cleanup"]["requested"] == 8
    launched = [s for w in erp["waves"] for s in w["servers"]]
    assert all(s["recoveryInstanceId"] and s["phases"] for s in launched)
    assert "PAUSED before wave 3: resuming automatically" in done.stderr
    # And the report and picture are written per execution
    for report in (erp, portal):
        folder = tmp_path / report["executionId"]
        saved = json.loads((folder / "report.json").read_text())
        assert saved["executionId"] == report["executionId"]
        assert (folder / "timeline.png").read_bytes()[:4] == b"\x89PNG"
