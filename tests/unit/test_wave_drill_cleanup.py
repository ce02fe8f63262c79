"""A drill never leaves a recovery instance behind: every ending the
orchestration core writes for a drill (failed, timed out, cancelled by
the backup path) terminates what its jobs launched, once, recorded on the
execution; a RECOVERY keeps its instances. Both orchestration functions.
"""

import pytest

from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, drive, plan_event, wave_engine

FOLDERS = ("dr-orchestration-stepfunction", "orchestration-stepfunctions")
DB_WAVE = [
    {"waveNumber": 1, "waveName": "Databases", "protectionGroupId": "pg-db"}
]
# erp-db-01 fails to launch; erp-db-02 launches.
DB_01_FAILS = [{"type": "launch_failure", "server": "erp-db-01"}]
TERMINATE_SECONDS = 600
MAX_POLLS = 20


def _launch_jobs(engine):
    return [j for j in engine.sim.jobs(HUB, REGION) if j.type == "LAUNCH"]


def _terminate_jobs(engine):
    return [j for j in engine.sim.jobs(HUB, REGION) if j.type == "TERMINATE"]


def _launched_ids(engine):
    return sorted(
        s.recovery_instance_id
        for job in _launch_jobs(engine)
        for s in job.servers.values()
        if s.recovery_instance_id
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_a_failed_drill_ends_with_no_instance_running(monkeypatch, folder):
    # Given a drill wave where one of two servers fails to launch
    with wave_engine(monkeypatch, faults=DB_01_FAILS) as engine:
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        # When it runs to its end
        states = drive(engine, folder, plan_event(DB_WAVE))
        # Then it failed on the failed server
        assert states[-1]["status"] == "failed"
        assert states[-1]["error_code"] == "SERVER_LAUNCH_FAILED"
        record = engine.record("exec-1")
        assert record["status"] == "FAILED"
        # And the instance the other server launched was terminated by
        # one TERMINATE job, recorded on the execution
        launched = _launched_ids(engine)
        assert len(launched) == 1
        (termination,) = record["terminations"]
        assert termination["terminatedBy"] == "drill cleanup after failure"
        assert termination["recoveryInstanceIds"] == launched
        (terminate,) = _terminate_jobs(engine)
        assert terminate.job_id == termination["jobId"]
        engine.advance(TERMINATE_SECONDS)
        assert engine.running_recovery_instances() == []
        assert "drillCleanupError" not in record


@pytest.mark.parametrize("folder", FOLDERS)
def test_a_failed_recovery_keeps_its_instances(monkeypatch, folder):
    # Given the same failing wave run as a RECOVERY
    with wave_engine(monkeypatch, faults=DB_01_FAILS) as engine:
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        event = dict(plan_event(DB_WAVE), isDrill=False)
        # When it runs to its end
        states = drive(engine, folder, event)
        # Then it failed and nothing was terminated
        assert states[-1]["status"] == "failed"
        assert "terminations" not in engine.record("exec-1")
        assert _terminate_jobs(engine) == []
        engine.advance(TERMINATE_SECONDS)
        assert len(engine.running_recovery_instances()) == 1


def _cancel_behind_the_state_machine(engine) -> None:
    """CANCELLING as ``cancel_execution`` leaves it when the state machine
    could not be stopped: the orchestration's poll ends it."""
    engine.history.update_item(
        Key={"executionId": "exec-1"},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": "CANCELLING"},
    )


@pytest.mark.parametrize("folder", FOLDERS)
def test_the_backup_cancel_path_cleans_up_a_drill(monkeypatch, folder):
    # Given a running drill wave whose job launched its servers
    with wave_engine(monkeypatch) as engine:
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        handler = load_handler(folder).lambda_handler
        state = handler(plan_event(DB_WAVE), None)
        engine.advance()
        # When the execution is cancelled behind the state machine and
        # the state machine keeps polling
        _cancel_behind_the_state_machine(engine)
        for _ in range(MAX_POLLS):
            event = {"action": "poll_wave_status", "application": state}
            state = handler(event, None)
            if state["status"] != "running":
                break
            engine.advance()
        # Then the poll ended it CANCELLED with DRS's per-server truth
        assert state["status"] == "cancelled"
        record = engine.record("exec-1")
        assert record["status"] == "CANCELLED"
        servers = record["waves"][0]["servers"]
        assert {s["status"] for s in servers} == {"LAUNCHED"}
        # And the drill's instances were terminated once
        (termination,) = record["terminations"]
        assert termination["terminatedBy"] == "drill cleanup after cancel"
        assert termination["recoveryInstanceIds"] == _launched_ids(engine)
        # When Step Functions retries the ending (record_failure)
        handler({"action": "record_failure", "application": state}, None)
        # Then no second cleanup started
        assert len(engine.record("exec-1")["terminations"]) == 1
        assert len(_terminate_jobs(engine)) == 1
        engine.advance(TERMINATE_SECONDS)
        assert engine.running_recovery_instances() == []


def test_an_unreachable_cleanup_is_recorded(monkeypatch):
    # Given a generic-function drill whose wave will fail
    folder = "dr-orchestration-stepfunction"
    with wave_engine(monkeypatch, faults=DB_01_FAILS) as engine:
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        handler = load_handler(folder).lambda_handler
        state = handler(plan_event(DB_WAVE), None)
        # When the execution-handler cannot be invoked any more
        engine.fail_functions["execution-handler"] = "Task timed out"
        for _ in range(MAX_POLLS):
            engine.advance()
            event = {"action": "poll_wave_status", "application": state}
            state = handler(event, None)
            if state["status"] != "running":
                break
        # Then the drill still ended FAILED, and the record says the
        # cleanup did not happen and how to finish it
        assert state["status"] == "failed"
        record = engine.record("exec-1")
        assert record["status"] == "FAILED"
        assert "terminate-instances" in record["drillCleanupError"]
        assert _terminate_jobs(engine) == []


@pytest.mark.parametrize("folder", FOLDERS)
def test_a_timed_out_drill_is_cleaned_up_once_its_job_ended(
    monkeypatch, folder
):
    # Given a drill wave whose wait limit is one poll
    with wave_engine(monkeypatch) as engine:
        engine.add_group("pg-db", sourceServerIds=engine.ids("erp-db"))
        handler = load_handler(folder).lambda_handler
        state = handler(plan_event(DB_WAVE), None)
        state["current_wave_max_wait_time"] = state["current_wave_update_time"]
        # When it is polled while its DRS job still launches
        event = {"action": "poll_wave_status", "application": state}
        state = handler(event, None)
        # Then the drill timed out, and its cleanup waits for the job
        assert state["status"] == "timeout"
        assert engine.record("exec-1")["status"] == "TIMEOUT"
        (job,) = _launch_jobs(engine)
        assert job.status in ("PENDING", "STARTED")
        assert "terminations" not in engine.record("exec-1")
        (queued,) = engine.async_calls
        assert queued["fn"] == "execution-handler"
        # When the job ends and the queued cleanup worker runs
        engine.advance()
        assert _launch_jobs(engine)[0].status == "COMPLETED"
        engine.deliver_async()
        # Then what the job launched after the timeout was terminated
        (termination,) = engine.record("exec-1")["terminations"]
        assert termination["terminatedBy"] == "drill cleanup after timeout"
        assert termination["recoveryInstanceIds"] == _launched_ids(engine)
        engine.advance(TERMINATE_SECONDS)
        assert engine.running_recovery_instances() == []
