"""LocalCloud checks that need no running cloud; CLI output format."""

import textwrap

import pytest

from localcloud.cli import export_lines, parse_args
from localcloud.stack import LocalCloud


def test_hub_must_be_the_account_moto_step_functions_uses(tmp_path):
    # Given a scenario whose hub is not moto's default account
    scenario = tmp_path / "other-hub.yaml"
    scenario.write_text(textwrap.dedent("""
            accounts:
              - id: "111111111111"
                name: hub
                role: hub
                regions:
                  us-east-1:
                    source_servers: []
            """))

    # When the cloud starts, Then it refuses, naming the account
    with pytest.raises(ValueError, match="hub account 111111111111 must be"):
        LocalCloud(scenario_path=scenario).start()


def test_unknown_orchestration_is_refused():
    with pytest.raises(ValueError, match="orchestration must be one of"):
        LocalCloud(orchestration="other")


def test_export_lines_are_shell_quoted():
    # When values need quoting
    lines = export_lines({"A": "plain", "B": "two words"})

    # Then each line is a valid shell export
    assert lines == ["export A=plain", "export B='two words'"]


def test_cli_defaults_match_local_cloud_sh():
    args = parse_args([])
    assert args.speed == 60.0
    assert args.orchestration == "generic"
    assert args.poll_interval == 1
