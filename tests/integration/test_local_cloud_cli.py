"""The local cloud from the outside: AWS CLI, exported env, entry point."""

import json
import os
import subprocess  # nosec B404
import sys
import threading
from pathlib import Path

import boto3

AWS_CLI = str(Path(sys.executable).with_name("aws"))
HISTORY_TABLE = "hrp-drs-tech-adapter-execution-history-dev"


def aws(cloud, *args):
    """Run the AWS CLI against the local cloud; its JSON output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(cloud.env())
    out = subprocess.run(  # nosec B603
        [AWS_CLI, *args, "--output", "json"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return json.loads(out) if out.strip() else None


def test_aws_cli_drill_reaches_launched_with_job_log(local_cloud, wait_until):
    # Given the scenario's hub servers, listed with the AWS CLI
    servers = aws(local_cloud, "drs", "describe-source-servers")["items"]
    web = [s["sourceServerID"] for s in servers if s["tags"]["Tier"] == "Web"]
    assert len(web) == 3

    # When a drill is started for the web tier
    job = aws(
        local_cloud,
        "drs",
        "start-recovery",
        "--is-drill",
        "--source-servers",
        *[f"sourceServerID={sid}" for sid in web],
    )["job"]
    assert job["status"] == "PENDING" and job["type"] == "LAUNCH"

    # Then the job completes with every server LAUNCHED
    def completed():
        items = aws(
            local_cloud,
            "drs",
            "describe-jobs",
            "--filters",
            f"jobIDs={job['jobID']}",
        )["items"]
        return items[0] if items[0]["status"] == "COMPLETED" else None

    done = wait_until(completed, timeout=60, interval=0.5, message="job")
    statuses = {s["launchStatus"] for s in done["participatingServers"]}
    assert statuses == {"LAUNCHED"}
    # and the job log has the documented events
    log = aws(
        local_cloud, "drs", "describe-job-log-items", "--job-id", job["jobID"]
    )["items"]
    events = {item["event"] for item in log}
    assert {
        "JOB_START",
        "SNAPSHOT_START",
        "SNAPSHOT_END",
        "CONVERSION_START",
        "CONVERSION_END",
        "LAUNCH_START",
        "JOB_END",
    } <= events


def test_plain_boto3_reaches_the_cloud_through_exported_env(local_cloud_env):
    # Given the exported environment (local_cloud_env fixture)
    # When plain boto3 clients are created, as a user's script would
    servers = boto3.client("drs").describe_source_servers(filters={})
    tables = boto3.client("dynamodb").list_tables()["TableNames"]

    # Then they reach the simulator and moto
    assert len(servers["items"]) == 8
    assert HISTORY_TABLE in tables


def test_entry_point_prints_exports_then_ready(tmp_path):
    # Given the entry point of local-cloud.sh, started in the background
    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["PYTHONPATH"] = f"{root / 'scripts'}:{root}"
    proc = subprocess.Popen(  # nosec B603
        [sys.executable, "-m", "localcloud", "--speed", "600"],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    # Deadline: a start that hangs is killed, so the read below ends.
    watchdog = threading.Timer(90, proc.kill)
    watchdog.start()
    try:
        # When it is ready
        exports = {}
        for line in proc.stdout:  # ends at READY or when the process dies
            if line.strip() == "READY":
                break
            name, _, value = (
                line.strip().removeprefix("export ").partition("=")
            )
            exports[name] = value

        # Then it printed what a client needs
        assert {
            "AWS_ENDPOINT_URL",
            "AWS_ENDPOINT_URL_DRS",
            "AWS_DEFAULT_REGION",
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
        } <= set(exports)
        # and the AWS CLI works with exactly those variables
        out = subprocess.run(  # nosec B603
            [AWS_CLI, "drs", "describe-source-servers", "--output", "json"],
            env={**env, **exports},
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        assert len(json.loads(out)["items"]) == 8
    finally:
        # and it stops cleanly when interrupted
        watchdog.cancel()
        proc.terminate()
        assert proc.wait(timeout=30) == 0
