"""State machine tests: the ASL file, its substitutions and its routes.

The definition is read from cfn/statemachine (cfn-lint's decoder for the
stack); CONTRACTS §3 statuses decide where an execution ends.
"""

import json
import re

from tests.unit.templates.cfn_helpers import CFN, asl, resources

LAMBDA_RETRY_ERRORS = {
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
}


def _asl_placeholders():
    return set(re.findall(r"\$\{(\w+)\}", json.dumps(asl())))


def test_state_machine_substitutions_cover_the_definition():
    # Given the state machine resource and its ASL file
    machine = resources(
        "step-functions-stack.yaml", "AWS::StepFunctions::StateMachine"
    )["DROrchestrationStateMachine"]["Properties"]
    substitutions = machine["DefinitionSubstitutions"]
    # Then the definition file is the one packaged, every placeholder is
    # substituted, and the rollback switch chooses the function
    assert (CFN / machine["DefinitionS3Location"]).is_file()
    assert _asl_placeholders() and _asl_placeholders() <= set(substitutions)
    choice = substitutions["OrchestrationLambdaArn"]["Fn::If"]
    assert choice[1] == {"Ref": "DrOrchestrationStepFunctionFunctionArn"}
    assert choice[2] == {"Ref": "OrchestrationStepFunctionsFunctionArn"}
    assert machine["StateMachineName"] == {
        "Fn::Sub": "${ProjectName}-orchestration-${Environment}"
    }


def _targets(state):
    found = [state.get("Next"), state.get("Default")]
    found += [c.get("Next") for c in state.get("Choices", [])]
    found += [c["Next"] for c in state.get("Catch", [])]
    return [t for t in found if t]


def test_asl_transitions_point_at_existing_states():
    # Given the ASL definition
    definition = asl()
    states = definition["States"]
    # Then StartAt and every Next/Default/Catch target exist, and every
    # state is reachable
    assert definition["StartAt"] in states
    reachable, todo = set(), [definition["StartAt"]]
    while todo:
        name = todo.pop()
        if name in reachable:
            continue
        assert name in states, f"unknown state {name}"
        reachable.add(name)
        todo.extend(_targets(states[name]))
    assert reachable == set(states)


def test_asl_tasks_retry_lambda_errors_and_catch_everything():
    # Given every Lambda task of the state machine
    tasks = {n: s for n, s in asl()["States"].items() if s["Type"] == "Task"}
    assert tasks
    for name, state in tasks.items():
        retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
        caught = {e for c in state["Catch"] for e in c["ErrorEquals"]}
        # Then Lambda service errors are retried and all errors caught
        assert LAMBDA_RETRY_ERRORS <= retried, name
        assert "States.ALL" in caught, name


def test_asl_poll_retries_a_function_error_a_bounded_number_of_times():
    # Given the poll task (idempotent: a wave's start is claimed once)
    poll = asl()["States"]["PollWaveStatus"]
    # Then one unhandled function error is retried, with backoff and a
    # bound, before the catch records the failure
    retriers = [
        r for r in poll["Retry"] if "States.TaskFailed" in r["ErrorEquals"]
    ]
    assert len(retriers) == 1
    assert 2 <= retriers[0]["MaxAttempts"] <= 3
    assert retriers[0]["BackoffRate"] > 1
    # And the other tasks (not idempotent) do not retry function errors
    for name, state in asl()["States"].items():
        if state["Type"] == "Task" and name != "PollWaveStatus":
            retried = {e for r in state["Retry"] for e in r["ErrorEquals"]}
            assert "States.TaskFailed" not in retried, name


def test_asl_statuses_route_to_the_right_end():
    # Given the status choice of the state machine
    states = asl()["States"]
    choice = states["CheckStatus"]
    routes = {
        c["StringEquals"]: c["Next"]
        for c in choice["Choices"]
        if c.get("Variable") == "$.application.status"
    }
    # Then failed/timeout/cancelled end in Fail states with error and cause
    for status in ("failed", "timeout", "cancelled"):
        end = states[routes[status]]
        assert end["Type"] == "Fail" and end["Error"] and end["Cause"]
    # And a pause waits for a task token, then resumes
    pause = states[routes["paused"]]
    assert pause["Resource"].endswith("lambda:invoke.waitForTaskToken")
    assert pause["Parameters"]["Payload"]["taskToken.$"] == "$$.Task.Token"
    assert states[pause["Next"]]["Parameters"]["Payload"]["action"] == (
        "resume_wave"
    )
    # And the only Succeed needs status completed and all waves completed
    success = [c for c in choice["Choices"] if "And" in c]
    assert states[success[0]["Next"]]["Type"] == "Succeed"
    assert routes.get("completed") is None
