"""Validators and DRS limits."""

import pytest

from shared import drs_limits, validation
from shared.wave_schedule import Quotas
from shared.errors import ValidationError, WaveSizeLimitError


@pytest.mark.parametrize(
    "fn, good, bad",
    [
        (
            validation.validate_source_server_id,
            "s-1234567890abcdef0",
            ["s-123", "S-1234567890ABCDEF0", "i-1234567890abcdef0", 5],
        ),
        (
            validation.validate_account_id,
            "123456789012",
            ["12345678901", "abcdefghijkl", None],
        ),
        (
            validation.validate_region,
            "us-east-1",
            ["useast1", "US-EAST-1", ""],
        ),
    ],
)
def test_identifier_validators(fn, good, bad):
    assert fn(good) == good
    for value in bad:
        with pytest.raises(ValidationError):
            fn(value)


def test_validation_error_names_the_field():
    with pytest.raises(ValidationError) as caught:
        validation.validate_uuid("nope", "planId")
    assert caught.value.to_body() == {
        "error": "VALIDATION_ERROR",
        "message": "planId must be a UUID",
        "field": "planId",
    }


def test_names_tags_and_unknown_fields():
    assert validation.validate_name("  Web Tier ", "groupName") == "Web Tier"
    with pytest.raises(ValidationError):
        validation.validate_name("x" * 129, "groupName")
    with pytest.raises(ValidationError):
        validation.validate_tags({"Tier": 1})
    with pytest.raises(ValidationError, match="grupName"):
        validation.reject_unknown({"grupName": "x"}, ["groupName"])


def test_body_size_and_json():
    with pytest.raises(ValidationError):
        validation.parse_json_body("x" * (validation.MAX_BODY_BYTES + 1))
    with pytest.raises(ValidationError):
        validation.parse_json_body("[1, 2]")
    assert validation.parse_json_body('{"a": 1}') == {"a": 1}
    assert validation.parse_json_body(None) == {}


def test_int_and_bool():
    with pytest.raises(ValidationError):
        validation.validate_int(True, "waveNumber")
    with pytest.raises(ValidationError):
        validation.validate_int(-1, "waveNumber")
    assert validation.validate_bool(False, "isDrill") is False


def test_wave_sizes_are_planned_as_jobs():
    # Given the seeds' quotas (100 per job): any wave size is planned
    assert drs_limits.validate_wave_sizes({1: 100, 2: 150, 3: 0}) == {
        1: 1,
        2: 2,
        3: 0,
    }


def test_a_plan_that_can_never_run_is_refused():
    # Given quotas where a job may hold 300 servers but all jobs 250
    quotas = Quotas(max_servers_per_job=300, max_servers_in_all_jobs=250)
    # When a wave of 260 servers (one job) is planned
    with pytest.raises(WaveSizeLimitError) as caught:
        drs_limits.validate_wave_sizes({1: 10, 2: 260}, quotas)
    # Then WAVE_SIZE_LIMIT_EXCEEDED names the wave and why
    body = caught.value.to_body()
    assert body["error"] == "WAVE_SIZE_LIMIT_EXCEEDED"
    assert body["limit"] == 250
    assert [(e["waveNumber"], e["serverCount"]) for e in body["errors"]] == [
        (2, 260)
    ]
    assert "a job of 260 servers exceeds 250" in body["message"]


def test_count_servers():
    jobs = [{"participatingServers": [1, 2]}, {"participatingServers": []}]
    assert drs_limits.count_servers(jobs) == 2
