"""Approving waves that wait (issue 17): ``resume_execution`` approves
every waiting wave or only the one named by ``waveNumber``; a wave that
waits while other branches run is approved without a pause."""

import pytest

from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, drive, plan_event
from tests.unit.wave_engine_support import wave_engine

GENERIC = "dr-orchestration-stepfunction"
BRANCHES = [
    {
        "waveNumber": 1,
        "waveName": "DB",
        "protectionGroupId": "pg-db",
        "dependsOnWaves": [],
        "pauseBeforeWave": True,
    },
    {
        "waveNumber": 2,
        "waveName": "Web",
        "protectionGroupId": "pg-web",
        "dependsOnWaves": [],
        "pauseBeforeWave": True,
    },
    # App after DB: the plan is a graph (DB and Web independent).
    {
        "waveNumber": 3,
        "waveName": "App",
        "protectionGroupId": "pg-app",
        "dependsOnWaves": [1],
    },
]


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        eng.add_group("pg-db", sourceServerIds=eng.ids("erp-db"))
        eng.add_group("pg-web", sourceServerIds=eng.ids("erp-web"))
        eng.add_group("pg-app", sourceServerIds=eng.ids("erp-app"))
        yield eng


def _execution(direct, operation, **body):
    handler = load_handler("execution-handler").lambda_handler
    return handler({"operation": operation, "body": body}, None)


def _set_waves(engine, statuses):
    for index, status in enumerate(statuses):
        engine.history.update_item(
            Key={"executionId": "exec-1"},
            UpdateExpression=f"SET waves[{index}].#s = :s",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":s": status},
        )


def test_a_resume_naming_one_wave_starts_only_that_one(engine):
    # Given both independent waves wait for approval: the execution paused
    handler = load_handler(GENERIC).lambda_handler
    state = handler(plan_event(BRANCHES), None)
    assert state["status"] == "paused"
    assert state["waiting_waves"] == [0, 1]
    handler(
        {
            "action": "store_task_token",
            "application": state,
            "taskToken": "token-1",
        },
        None,
    )
    record = engine.record("exec-1")
    assert [w["status"] for w in record["waves"]] == [
        "WAITING_APPROVAL",
        "WAITING_APPROVAL",
        "PENDING",
    ]
    # When the user resumes naming wave 2 only (the resume's own write;
    # Step Functions then calls resume_wave)
    from execution_pause_resume import resume_execution

    class Sfn:
        def send_task_success(self, **_):
            return {}

    answer = resume_execution(
        "exec-1", "ops@example.com", sfn_client=Sfn(), wave_number=2
    )
    assert answer["status"] == "RUNNING"
    state = handler({"action": "resume_wave", "application": state}, None)
    # Then only Web started; DB still waits, so the execution runs on
    jobs = engine.sim.jobs(HUB, REGION)
    assert [j.tags["DRSOrchWave"] for j in jobs] == ["1"]
    assert state["status"] == "running"
    record = engine.record("exec-1")
    assert [w["status"] for w in record["waves"]] == [
        "WAITING_APPROVAL",
        "STARTED",
        "PENDING",
    ]


def test_a_wave_waiting_while_others_run_is_approved_without_a_pause(
    engine,
):
    # Given a running execution whose wave 1 waits for approval
    engine.add_record("exec-1", total_waves=2)
    _set_waves(engine, ["WAITING_APPROVAL", "STARTED"])
    # When the user approves it through the resume operation
    answer = _execution(
        None, "resume_execution", executionId="exec-1", waveNumber=0
    )
    # Then it is approved on the record and the execution keeps running
    assert answer["status"] == "RUNNING"
    assert answer["approvedWaves"] == [0]
    assert engine.record("exec-1")["approvedWaves"] == [0]
    assert engine.record("exec-1")["status"] == "RUNNING"


def test_naming_a_wave_that_does_not_wait_is_refused(engine):
    # Given a running execution with nothing waiting
    engine.add_record("exec-1", total_waves=2)
    _set_waves(engine, ["STARTED", "PENDING"])
    # When a resume names wave 1
    answer = _execution(
        None, "resume_execution", executionId="exec-1", waveNumber=1
    )
    # Then it is refused, saying what waits, and nothing was written
    assert answer["error"] == "INVALID_STATE"
    assert "approvedWaves" not in engine.record("exec-1")


def test_a_paused_graph_resumed_without_a_wave_runs_every_wave(engine):
    # Given the plan's independent waves wait for approval (paused)
    # When resumed as the state machine does, approving every waiting wave
    states = drive(engine, GENERIC, plan_event(BRANCHES))
    # Then (drive resumes every pause) every wave ran and completed
    assert states[-1]["status"] == "completed"
    jobs = engine.sim.jobs(HUB, REGION)
    assert sorted(j.tags["DRSOrchWave"] for j in jobs) == ["0", "1", "2"]


class _Sfn:
    def __init__(self):
        self.released = []

    def send_task_success(self, taskToken, output):
        self.released.append(taskToken)
        return {}


@pytest.mark.parametrize("when", ["before", "during"])
def test_an_approval_racing_the_pause_releases_it(engine, monkeypatch, when):
    # Given both independent waves wait and the poll decided to pause
    from shared import orchestration_core

    sfn = _Sfn()
    monkeypatch.setattr(orchestration_core, "get_client", lambda _: sfn)
    handler = load_handler(GENERIC).lambda_handler
    state = handler(plan_event(BRANCHES), None)
    assert state["status"] == "paused"
    # When the user approves both while the record is still RUNNING,
    # before the pause is stored, or while it is being stored
    from shared.wave_state import approve_waves

    if when == "before":
        approve_waves("exec-1", [0, 1])
    else:
        real = orchestration_core.transition_status

        def approve_first(execution_id, status, *args, **kwargs):
            if status == "PAUSED" and not sfn.released:
                approve_waves(execution_id, [0, 1])
            return real(execution_id, status, *args, **kwargs)

        monkeypatch.setattr(
            orchestration_core, "transition_status", approve_first
        )
    handler(
        {
            "action": "store_task_token",
            "application": state,
            "taskToken": "token-1",
        },
        None,
    )
    # Then the pause task is released at once; the execution runs
    assert sfn.released == ["token-1"]
    assert engine.record("exec-1")["status"] == "RUNNING"
    # And resume_wave (what Step Functions runs next) starts both waves
    resumed = handler({"action": "resume_wave", "application": state}, None)
    assert resumed["status"] == "running"
    assert len(engine.sim.jobs(HUB, REGION)) == 2


def test_the_pause_notification_names_every_waiting_wave(engine, monkeypatch):
    # Given the plan's two independent waves wait for approval at start
    from shared import notifications, orchestration_core

    sent = []
    monkeypatch.setattr(
        orchestration_core,
        "publish_execution_event",
        lambda event, details: sent.append((event, details)),
    )
    # When the execution runs (pausing, then resumed by the driver)
    drive(engine, GENERIC, plan_event(BRANCHES))
    # Then the pause notification named both waves, by number and name
    (details,) = [d for e, d in sent if e == "EXECUTION_PAUSED"]
    assert details["waitingWaves"] == "wave 1 (DB), wave 2 (Web)"
    text = notifications.build_message("EXECUTION_PAUSED", details)["text"]
    assert "Waiting for approval: wave 1 (DB), wave 2 (Web)" in text
