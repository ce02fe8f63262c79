"""REST-JSON protocol: routing, validation, shaping, errors."""

import json

import boto3
import pytest
from botocore.config import Config
from localcloud.drs.errors import DrsError
from localcloud.drs.operations import OPERATIONS
from localcloud.drs.protocol import (
    dispatch,
    encode_error,
    route,
    service_model,
    shape_output,
    validate,
)

from .conftest import HUB, REGION

UNVALIDATED = Config(parameter_validation=False)


def test_routes_come_from_the_service_model():
    # Given / When / Then tag operations share a URI, split by method
    arn = "arn:aws:drs:us-east-1:123456789012:job/drsjob-1"
    quoted = arn.replace(":", "%3A").replace("/", "%2F")
    assert route("GET", f"/tags/{quoted}") == (
        "ListTagsForResource",
        {"resourceArn": arn},
    )
    assert route("POST", f"/tags/{quoted}")[0] == "TagResource"
    assert route("DELETE", f"/tags/{quoted}")[0] == "UntagResource"
    assert route("POST", "/StartRecovery") == ("StartRecovery", {})
    with pytest.raises(DrsError) as err:
        route("POST", "/NoSuchThing")
    assert err.value.code == "ValidationException"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"maxResults": "ten"}, "maxResults"),
        ({"maxResults": 0}, "maxResults"),
        ({"filters": {"sourceServerIDs": [5]}}, "filters.sourceServerIDs.0"),
    ],
)
def test_bad_input_is_a_validation_exception_naming_the_field(
    drs_sim, params, field
):
    # Given a client that skips botocore's own parameter validation
    drs = boto3.client("drs", region_name=REGION, config=UNVALIDATED)
    # When the request is malformed
    with pytest.raises(drs.exceptions.ValidationException) as err:
        drs.describe_source_servers(**params)
    # Then DRS's error names the field
    response = err.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert field in response["Error"]["Message"]
    assert response["fieldList"][0]["name"] == field


@pytest.mark.parametrize(
    "params, field",
    [({"bogus": 1}, "bogus"), ({"filters": {"colour": 1}}, "filters.colour")],
)
def test_unknown_members_are_refused_by_the_core(drs_sim, params, field):
    # Given / When a request with a member the model does not know
    with pytest.raises(DrsError) as err:
        drs_sim.handle("DescribeSourceServers", params, HUB, REGION)
    # Then it is a ValidationException naming it
    assert err.value.code == "ValidationException"
    assert err.value.members["fieldList"][0]["name"] == field


def test_missing_required_member_and_wrong_enum(drs_sim):
    # Given a client without client-side validation
    drs = boto3.client("drs", region_name=REGION, config=UNVALIDATED)
    # When required members are missing / enums are wrong
    with pytest.raises(drs.exceptions.ValidationException) as missing:
        drs.start_recovery(isDrill=True)
    with pytest.raises(drs.exceptions.ValidationException) as enum:
        drs.update_launch_configuration(
            sourceServerID=drs_sim.servers(HUB, REGION)[0].server_id,
            launchDisposition="MAYBE",
        )
    # Then the messages name the fields
    assert "sourceServers" in missing.value.response["Error"]["Message"]
    assert "launchDisposition" in enum.value.response["Error"]["Message"]


def test_unsupported_operation_answers_a_clear_error(drs_sim):
    # Given a client on the simulator
    drs = boto3.client("drs", region_name=REGION)
    # When an operation the simulator does not implement is called
    with pytest.raises(drs.exceptions.ValidationException) as err:
        drs.list_staging_accounts()
    # Then the error says so
    message = err.value.response["Error"]["Message"]
    assert "ListStagingAccounts is not supported" in message


def test_uninitialized_region_answers_uninitialized_account(drs_sim):
    # Given a region the scenario does not initialize
    drs = boto3.client("drs", region_name="eu-west-1")
    # When / Then every call is refused
    with pytest.raises(drs.exceptions.UninitializedAccountException):
        drs.describe_source_servers()
    with pytest.raises(drs.exceptions.UninitializedAccountException):
        drs.describe_jobs()


def test_errors_are_rest_json_with_modelled_members():
    # Given a throttling and a quota error
    throttle = DrsError("ThrottlingException", "slow", retryAfterSeconds="3")
    quota = DrsError(
        "ServiceQuotaExceededException",
        "too many",
        quotaCode="Q",
        serviceCode="drs",
        notModelled="x",
    )
    # When encoded
    t_status, t_headers, t_body = encode_error(throttle)
    q_status, q_headers, q_body = encode_error(quota)
    # Then status, header and body follow the error shapes
    assert (t_status, t_headers["x-amzn-ErrorType"]) == (
        429,
        "ThrottlingException",
    )
    assert json.loads(t_body) == {
        "message": "slow",
        "code": "ThrottlingException",
        "retryAfterSeconds": "3",
    }
    assert q_status == 402
    assert json.loads(q_body)["quotaCode"] == "Q"
    assert "notModelled" not in json.loads(q_body)


def test_missing_signature_is_access_denied():
    # Given a request without SigV4 Authorization
    status, headers, _ = dispatch(
        lambda *a: {}, "POST", "/DescribeJobs", {}, b"{}"
    )
    # Then it is refused
    assert (status, headers["x-amzn-ErrorType"]) == (
        403,
        "AccessDeniedException",
    )


def test_shaping_drops_unmodelled_members():
    # Given a job output with an extra member
    shape = service_model().operation_model("DescribeJobs").output_shape
    raw = {"items": [{"jobID": "drsjob-1", "secret": 1}], "extra": True}
    # When shaped / Then only modelled members remain
    assert shape_output(shape, raw) == {"items": [{"jobID": "drsjob-1"}]}


def test_sample_outputs_validate_against_output_shapes(drs_sim):
    # Given the sample scenario with a launched and a failing job
    sim = drs_sim
    state = sim.regions[(HUB, REGION)]
    ids = [s.server_id for s in sim.servers(HUB, REGION)]
    state.servers[ids[1]].spec.replication_state = "STALLED"
    started = sim.handle(
        "StartRecovery",
        {"sourceServers": [{"sourceServerID": i} for i in ids[:3]]},
        HUB,
        REGION,
    )
    sim.clock.advance(3600)
    sim.tick()
    job_id = started["job"]["jobID"]
    rid = state.servers[ids[0]].recovery_instance_id
    calls = {
        "DescribeSourceServers": {},
        "DescribeJobs": {},
        "DescribeJobLogItems": {"jobID": job_id},
        "DescribeRecoveryInstances": {},
        "GetLaunchConfiguration": {"sourceServerID": ids[0]},
        "UpdateLaunchConfiguration": {
            "sourceServerID": ids[0],
            "copyPrivateIp": True,
        },
        "ListTagsForResource": {"resourceArn": state.servers[ids[0]].arn},
        "DescribeRecoverySnapshots": {"sourceServerID": ids[0]},
        "GetReplicationConfiguration": {"sourceServerID": ids[0]},
        "TerminateRecoveryInstances": {"recoveryInstanceIDs": [rid]},
        "StartRecovery": {"sourceServers": [{"sourceServerID": ids[4]}]},
        "TagResource": {
            "resourceArn": state.servers[ids[0]].arn,
            "tags": {"a": "b"},
        },
    }
    model = service_model()
    checked = 0
    for name, params in calls.items():
        # When each operation answers (unshaped, straight from the core)
        with sim._lock:
            raw = OPERATIONS[name](sim, state, params)
        # Then the raw output already conforms to the output shape
        validate(model.operation_model(name).output_shape, raw)
        checked += 1
    assert checked == len(calls)
    assert sim.call_count() == 1  # the StartRecovery through handle()
