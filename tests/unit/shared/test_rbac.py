"""RBAC: the CONTRACTS §6 matrix, deny by default."""

import pytest

from shared import rbac


def test_there_are_56_unique_endpoints_each_with_a_known_permission():
    assert len(rbac.ENDPOINTS) == 56
    assert len({(e.method, e.path) for e in rbac.ENDPOINTS}) == 56
    assert len(rbac.ENDPOINTS_BY_OPERATION) == 56
    for endpoint in rbac.ENDPOINTS:
        assert endpoint.permission in rbac.ALL_PERMISSIONS | {
            rbac.AUTHENTICATED
        }, endpoint


def test_unknown_or_missing_groups_are_denied():
    assert not rbac.is_allowed([], "view_executions")
    assert not rbac.is_allowed(["Hackers"], "view_executions")
    # An unknown permission is denied even to admins
    assert not rbac.is_allowed(["DRSOrchestrationAdmin"], "launch_missiles")


@pytest.mark.parametrize(
    "group, allowed, denied",
    [
        ("DRSOrchestrationAdmin", ["manage_accounts"], []),
        (
            "DRSRecoveryManager",
            ["terminate_instances", "manage_configuration"],
            ["manage_accounts"],
        ),
        (
            "DRSPlanManager",
            ["create_recovery_plans", "delete_protection_groups"],
            ["terminate_instances", "manage_accounts"],
        ),
        (
            "DRSOperator",
            ["modify_recovery_plans", "start_recovery", "stop_recovery"],
            ["create_protection_groups", "delete_recovery_plans"],
        ),
        (
            "DRSReadOnly",
            sorted(rbac.VIEW_PERMISSIONS),
            ["start_recovery", "modify_protection_groups"],
        ),
    ],
)
def test_role_matrix(group, allowed, denied):
    for permission in allowed:
        assert rbac.is_allowed([group], permission), permission
    for permission in denied:
        assert not rbac.is_allowed([group], permission), permission


def test_groups_claim_formats():
    assert rbac.parse_groups("A,B") == ["A", "B"]
    assert rbac.parse_groups("[A B]") == ["A", "B"]
    assert rbac.parse_groups(["A"]) == ["A"]
    assert rbac.parse_groups(None) == []


def test_id_alias_for_direct_invocation():
    assert rbac.id_alias("/executions/{id}/cancel") == "executionId"
    assert rbac.id_alias("/protection-groups/{id}") == "groupId"
    assert rbac.id_alias("/recovery-plans/{id}") == "planId"
    assert rbac.id_alias("/accounts/targets/{id}") == "accountId"
