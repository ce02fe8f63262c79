"""Typed settings, account context and launch-config merge."""

import pytest

from shared.account_context import (
    account_context_from_target,
    get_account_context,
)
from shared.config import load_settings
from shared.config_merge import get_effective_launch_config
from shared.errors import ConfigurationError


def test_missing_setting_names_the_variable():
    # Given an environment without the state machine ARN
    settings = load_settings({"AWS_REGION": "us-east-1"})
    # When it is required
    with pytest.raises(ConfigurationError, match="STATE_MACHINE_ARN"):
        settings.require("state_machine_arn")


def test_settings_defaults_and_integers():
    settings = load_settings({"WAVE_POLL_INTERVAL_SECONDS": "1"})
    assert settings.wave_poll_interval_seconds == 1
    assert settings.wave_max_wait_seconds == 14400
    assert settings.project_name == "hrp-drs-tech-adapter"


def test_bad_integer_setting_fails_fast():
    with pytest.raises(ConfigurationError, match="WAVE_MAX_WAIT_SECONDS"):
        load_settings({"WAVE_MAX_WAIT_SECONDS": "soon"})


def test_account_context_camel_case_first():
    camel = {"accountId": "111111111111"}
    snake = {"accountId": "222222222222"}
    state = {"accountContext": camel, "account_context": snake}
    assert get_account_context(state) is camel


def test_account_context_snake_case_after_resume():
    snake = {"accountId": "222222222222"}
    assert get_account_context({"account_context": snake}) is snake
    assert get_account_context({}) is None


def test_account_context_from_target_record():
    record = {
        "accountId": "210987654321",
        "roleArn": "arn:aws:iam::210987654321:role/R",
        "externalId": "ext",
        "isCurrentAccount": False,
    }
    context = account_context_from_target(record, session_name="exec-1")
    assert context == {
        "accountId": "210987654321",
        "roleArn": "arn:aws:iam::210987654321:role/R",
        "externalId": "ext",
        "isCurrentAccount": False,
        "sessionName": "exec-1",
    }
    assert account_context_from_target(None) is None


GROUP = {
    "launchConfig": {
        "subnetId": "subnet-1",
        "securityGroupIds": ["sg-1"],
        "instanceType": "t3.medium",
        "copyTags": True,
    },
    "servers": [
        {
            "sourceServerId": "s-00000000000000001",
            "launchTemplate": {"instanceType": "m5.large"},
            "staticPrivateIp": "10.0.0.10",
        },
        {
            "sourceServerId": "s-00000000000000002",
            "useGroupDefaults": False,
            "launchTemplate": {"subnetId": "subnet-2"},
        },
    ],
}


def test_merge_without_override_returns_group_defaults():
    config = get_effective_launch_config(GROUP, "s-00000000000000009")
    assert config == GROUP["launchConfig"]
    # And it is a copy: callers cannot corrupt the group
    config["securityGroupIds"].append("sg-x")
    assert GROUP["launchConfig"]["securityGroupIds"] == ["sg-1"]


def test_merge_overrides_on_top_of_defaults():
    config = get_effective_launch_config(GROUP, "s-00000000000000001")
    assert config["instanceType"] == "m5.large"
    assert config["staticPrivateIp"] == "10.0.0.10"
    assert config["subnetId"] == "subnet-1"


def test_merge_use_group_defaults_false_replaces_them():
    config = get_effective_launch_config(GROUP, "s-00000000000000002")
    assert config == {"subnetId": "subnet-2"}
