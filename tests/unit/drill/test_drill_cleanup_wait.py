"""The drill waits for the engine's own drill cleanup instead of asking
for a second termination of the same instances (no cloud needed)."""

from typing import Any, Dict, List

from localcloud.drill.runner import DrillOptions, terminate_and_confirm

RUNNING = {"recoveryInstanceId": "i-1", "ec2InstanceState": "running"}
GONE = {"recoveryInstanceId": "i-1", "ec2InstanceState": "terminated"}


class _Api:
    """get_execution_details / get_recovery_instances answers in order."""

    def __init__(
        self, terminations, instance_answers, terminate_answers=()
    ) -> None:
        self.terminations = terminations
        self.instance_answers = list(instance_answers)
        self.terminate_answers = list(terminate_answers)
        self.calls: List[str] = []

    def execution(self, operation: str, body=None) -> Dict[str, Any]:
        self.calls.append(operation)
        if operation == "get_execution_details":
            return {"terminations": self.terminations}
        if operation == "get_recovery_instances":
            return {"instances": self.instance_answers.pop(0)}
        if self.terminate_answers:
            return self.terminate_answers.pop(0)
        return {"terminateJobs": [{"jobId": "drsjob-2"}]}


def _options() -> DrillOptions:
    return DrillOptions(plan={}, poll_interval=0.0, cleanup_timeout=5.0)


def test_instances_the_engine_terminates_are_only_waited_for():
    # Given a failed drill whose engine cleanup already started
    engine = [
        {"jobId": "drsjob-1", "region": "r", "recoveryInstanceIds": ["i-1"]}
    ]
    api = _Api(engine, [[RUNNING], [RUNNING], [GONE]])
    # When the drill cleans up
    result = terminate_and_confirm(api, "ex-1", lambda _: None, _options())
    # Then it asked for no second termination and confirmed none left
    assert "terminate_recovery_instances" not in api.calls
    assert result["confirmed"] and result["jobs"][0]["jobId"] == "drsjob-1"


def test_instances_nobody_terminates_are_terminated():
    # Given a completed drill (no engine cleanup)
    api = _Api([], [[RUNNING], [GONE]])
    # When the drill cleans up
    result = terminate_and_confirm(api, "ex-1", lambda _: None, _options())
    # Then it terminated them itself
    assert api.calls.count("terminate_recovery_instances") == 1
    assert result["confirmed"] and result["requested"] == 1


def _instance(rid: str, state: str = "running") -> Dict[str, Any]:
    return {"recoveryInstanceId": rid, "ec2InstanceState": state}


def test_instances_waiting_for_drs_capacity_are_asked_for_again():
    # Given a completed drill of 3 instances whose first terminate fits
    # only 2 in DRS's quotas (the third waits for capacity)
    first = {
        "terminateJobs": [{"jobId": "drsjob-a"}],
        "instances": [
            {"recoveryInstanceId": "i-1"},
            {"recoveryInstanceId": "i-2"},
        ],
        "pendingInstances": 1,
    }
    second = {
        "terminateJobs": [{"jobId": "drsjob-b"}],
        "instances": [{"recoveryInstanceId": "i-3"}],
        "pendingInstances": 0,
    }
    three = [_instance("i-1"), _instance("i-2"), _instance("i-3")]
    api = _Api(
        [],
        [three, [_instance("i-3")], [_instance("i-3", "terminated")]],
        [first, second],
    )
    said: List[str] = []
    # When the drill cleans up
    result = terminate_and_confirm(api, "ex-1", said.append, _options())
    # Then it asked again for the one left waiting, and none is left
    assert api.calls.count("terminate_recovery_instances") == 2
    assert result["confirmed"] and result["requested"] == 3
    assert [j["jobId"] for j in result["jobs"]] == ["drsjob-a", "drsjob-b"]
    assert any("1 wait for DRS capacity" in line for line in said)
