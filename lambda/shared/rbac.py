"""Role-based access control (CONTRACTS §6), deny by default.

``ENDPOINTS`` is the one table of the 56 authenticated endpoints: method,
path, the operation serving it, its handler folder and its permission.
``OUT_OF_SCOPE`` lists the calls of the reference console this API
answers 404 ``NOT_FOUND`` without an operation (API Gateway mock).
"""

import re
from typing import Dict, FrozenSet, Iterable, List, NamedTuple, Set, Tuple

VIEW_PERMISSIONS = frozenset(
    {
        "view_protection_groups",
        "view_recovery_plans",
        "view_executions",
        "view_infrastructure",
        "view_accounts",
        "view_configuration",
    }
)
PLAN_EDIT = frozenset(
    {
        "create_protection_groups",
        "modify_protection_groups",
        "delete_protection_groups",
        "create_recovery_plans",
        "modify_recovery_plans",
        "delete_recovery_plans",
    }
)
RUN = frozenset({"start_recovery", "stop_recovery"})
ALL_PERMISSIONS = (
    VIEW_PERMISSIONS
    | PLAN_EDIT
    | RUN
    | frozenset(
        {
            "terminate_instances",
            "manage_accounts",
            "manage_configuration",
        }
    )
)
# Granted to every caller whose identity the authorizer verified.
AUTHENTICATED = "authenticated"

ROLE_PERMISSIONS: Dict[str, FrozenSet[str]] = {
    "DRSOrchestrationAdmin": ALL_PERMISSIONS,
    "DRSRecoveryManager": ALL_PERMISSIONS - {"manage_accounts"},
    "DRSPlanManager": VIEW_PERMISSIONS | PLAN_EDIT | RUN,
    "DRSOperator": VIEW_PERMISSIONS
    | {"modify_protection_groups", "modify_recovery_plans"}
    | RUN,
    "DRSReadOnly": VIEW_PERMISSIONS,
}


class Endpoint(NamedTuple):
    method: str
    path: str
    operation: str
    handler: str
    permission: str


_DM = "data-management-handler"
_EX = "execution-handler"
_QH = "query-handler"
_PG = "/protection-groups"
_RP = "/recovery-plans"
_EXE = "/executions"
_TGT = "/accounts/targets"

ENDPOINTS: List[Endpoint] = [
    Endpoint(
        "GET", _PG, "list_protection_groups", _DM, "view_protection_groups"
    ),
    Endpoint(
        "POST", _PG, "create_protection_group", _DM, "create_protection_groups"
    ),
    Endpoint(
        "POST",
        _PG + "/resolve",
        "resolve_protection_group_tags",
        _DM,
        "view_protection_groups",
    ),
    Endpoint(
        "GET",
        _PG + "/{id}",
        "get_protection_group",
        _DM,
        "view_protection_groups",
    ),
    Endpoint(
        "PUT",
        _PG + "/{id}",
        "update_protection_group",
        _DM,
        "modify_protection_groups",
    ),
    Endpoint(
        "DELETE",
        _PG + "/{id}",
        "delete_protection_group",
        _DM,
        "delete_protection_groups",
    ),
    Endpoint(
        "POST",
        _PG + "/{id}/apply-launch-configs",
        "apply_launch_configs",
        _DM,
        "modify_protection_groups",
    ),
    Endpoint(
        "GET",
        _PG + "/{id}/launch-config-status",
        "get_launch_config_status",
        _DM,
        "view_protection_groups",
    ),
    Endpoint(
        "POST",
        _PG + "/{id}/servers/{serverId}/validate-ip",
        "validate_server_static_ip",
        _DM,
        "view_protection_groups",
    ),
    Endpoint(
        "GET",
        _PG + "/{id}/servers/{serverId}/launch-config",
        "get_server_launch_config",
        _DM,
        "view_protection_groups",
    ),
    Endpoint(
        "PUT",
        _PG + "/{id}/servers/{serverId}/launch-config",
        "update_server_launch_config",
        _DM,
        "modify_protection_groups",
    ),
    Endpoint(
        "DELETE",
        _PG + "/{id}/servers/{serverId}/launch-config",
        "delete_server_launch_config",
        _DM,
        "modify_protection_groups",
    ),
    Endpoint(
        "POST",
        _PG + "/{id}/servers/bulk-launch-config",
        "bulk_update_server_launch_config",
        _DM,
        "modify_protection_groups",
    ),
    Endpoint(
        "GET",
        _PG + "/{id}/servers/{serverId}/audit-log",
        "get_server_audit_log",
        _DM,
        "view_protection_groups",
    ),
    Endpoint("GET", _RP, "list_recovery_plans", _DM, "view_recovery_plans"),
    Endpoint(
        "POST", _RP, "create_recovery_plan", _DM, "create_recovery_plans"
    ),
    Endpoint(
        "GET", _RP + "/{id}", "get_recovery_plan", _DM, "view_recovery_plans"
    ),
    Endpoint(
        "PUT",
        _RP + "/{id}",
        "update_recovery_plan",
        _DM,
        "modify_recovery_plans",
    ),
    Endpoint(
        "DELETE",
        _RP + "/{id}",
        "delete_recovery_plan",
        _DM,
        "delete_recovery_plans",
    ),
    Endpoint(
        "GET",
        _RP + "/{id}/readiness",
        "get_plan_readiness",
        _QH,
        "view_recovery_plans",
    ),
    Endpoint(
        "GET",
        _RP + "/{id}/check-existing-instances",
        "check_existing_instances",
        _QH,
        "view_recovery_plans",
    ),
    Endpoint(
        "POST",
        "/drs/tag-sync",
        "handle_drs_tag_sync",
        _DM,
        "manage_configuration",
    ),
    Endpoint(
        "GET",
        "/config/tag-sync",
        "get_tag_sync_settings",
        _DM,
        "view_configuration",
    ),
    Endpoint(
        "PUT",
        "/config/tag-sync",
        "update_tag_sync_settings",
        _DM,
        "manage_configuration",
    ),
    Endpoint(
        "POST",
        "/config/import",
        "import_configuration",
        _DM,
        "manage_configuration",
    ),
    Endpoint("GET", _TGT, "list_target_accounts", _DM, "view_accounts"),
    Endpoint("POST", _TGT, "create_target_account", _DM, "manage_accounts"),
    Endpoint(
        "GET", _TGT + "/{id}", "get_target_account", _DM, "view_accounts"
    ),
    Endpoint(
        "PUT", _TGT + "/{id}", "update_target_account", _DM, "manage_accounts"
    ),
    Endpoint(
        "DELETE",
        _TGT + "/{id}",
        "delete_target_account",
        _DM,
        "manage_accounts",
    ),
    Endpoint(
        "POST",
        _TGT + "/{id}/validate",
        "validate_target_account",
        _DM,
        "view_accounts",
    ),
    Endpoint(
        "GET",
        _TGT + "/{id}/capacity",
        "get_target_account_capacity",
        _QH,
        "view_infrastructure",
    ),
    Endpoint("POST", _EXE, "execute_recovery_plan", _EX, "start_recovery"),
    # Erasing history removes the audit trail: an administrator's act
    # (DRSOrchestrationAdmin, DRSRecoveryManager), not an operator's.
    Endpoint("DELETE", _EXE, "delete_executions", _EX, "manage_configuration"),
    Endpoint("GET", _EXE, "list_executions", _EX, "view_executions"),
    Endpoint(
        "GET", _EXE + "/{id}", "get_execution_details", _EX, "view_executions"
    ),
    Endpoint(
        "GET",
        _EXE + "/{id}/status",
        "get_execution_status",
        _EX,
        "view_executions",
    ),
    Endpoint(
        "GET",
        _EXE + "/{id}/waves",
        "get_execution_waves",
        _EX,
        "view_executions",
    ),
    Endpoint(
        "GET",
        _EXE + "/{id}/jobs",
        "get_execution_jobs",
        _EX,
        "view_executions",
    ),
    Endpoint(
        "GET",
        _EXE + "/{id}/job-logs",
        "get_execution_job_logs",
        _EX,
        "view_executions",
    ),
    Endpoint(
        "GET",
        _EXE + "/{id}/recovery-instances",
        "get_recovery_instances",
        _EX,
        "view_executions",
    ),
    Endpoint(
        "POST", _EXE + "/{id}/cancel", "cancel_execution", _EX, "stop_recovery"
    ),
    Endpoint(
        "POST", _EXE + "/{id}/pause", "pause_execution", _EX, "stop_recovery"
    ),
    Endpoint(
        "POST",
        _EXE + "/{id}/resume",
        "resume_execution",
        _EX,
        "start_recovery",
    ),
    Endpoint(
        "POST",
        _EXE + "/{id}/terminate-instances",
        "terminate_recovery_instances",
        _EX,
        "terminate_instances",
    ),
    Endpoint(
        "GET",
        "/drs/source-servers",
        "get_drs_source_servers",
        _QH,
        "view_infrastructure",
    ),
    Endpoint(
        "GET", "/drs/quotas", "get_drs_quotas", _QH, "view_infrastructure"
    ),
    Endpoint(
        "GET",
        "/drs/service-limits",
        "get_drs_service_limits",
        _QH,
        "view_infrastructure",
    ),
    Endpoint(
        "GET", "/drs/accounts", "get_drs_accounts", _QH, "view_infrastructure"
    ),
    Endpoint(
        "GET", "/ec2/subnets", "get_ec2_subnets", _QH, "view_infrastructure"
    ),
    Endpoint(
        "GET",
        "/ec2/security-groups",
        "get_ec2_security_groups",
        _QH,
        "view_infrastructure",
    ),
    Endpoint(
        "GET",
        "/ec2/instance-types",
        "get_ec2_instance_types",
        _QH,
        "view_infrastructure",
    ),
    Endpoint(
        "GET",
        "/ec2/instance-profiles",
        "get_ec2_instance_profiles",
        _QH,
        "view_infrastructure",
    ),
    Endpoint(
        "GET",
        "/accounts/current",
        "get_current_account_info",
        _QH,
        "view_infrastructure",
    ),
    Endpoint(
        "GET",
        "/config/export",
        "export_configuration",
        _QH,
        "view_configuration",
    ),
    Endpoint(
        "GET", "/user/permissions", "get_user_permissions", _QH, AUTHENTICATED
    ),
]

# The reference console's DRS staging-account extension: out of scope.
# API Gateway answers these 404 NOT_FOUND (cfn/api_stack_generator.py).
STAGING_OUT_OF_SCOPE_MESSAGE = (
    "The DRS staging-account extension (/staging-accounts, "
    "/accounts/targets/{id}/staging-accounts) is out of scope of this API: "
    "register each account that holds source servers as a target account"
)
OUT_OF_SCOPE: List[Tuple[str, str]] = [
    ("POST", "/staging-accounts/validate"),
    ("POST", _TGT + "/{id}/staging-accounts"),
    ("GET", _TGT + "/{id}/staging-accounts/discover"),
    ("DELETE", _TGT + "/{id}/staging-accounts/{stagingAccountId}"),
]

# Which body/query field names the ``{id}`` of a path for direct invocation.
ID_ALIASES = {
    _PG: "groupId",
    _RP: "planId",
    _EXE: "executionId",
    _TGT: "accountId",
}

ENDPOINTS_BY_OPERATION: Dict[str, Endpoint] = {
    e.operation: e for e in ENDPOINTS
}


def id_alias(path: str) -> str:
    """The field that carries ``{id}`` for a path (direct invocation)."""
    for prefix, alias in ID_ALIASES.items():
        if path.startswith(prefix + "/"):
            return alias
    return "id"


def parse_groups(raw) -> List[str]:
    """Cognito groups from a claim: a list, or "a,b" / "[a b]" text."""
    if raw is None:
        return []
    if isinstance(raw, (list, tuple, set)):
        return [str(g) for g in raw if str(g)]
    text = str(raw).strip().strip("[]")
    return [g for g in re.split(r"[,\s]+", text) if g]


def permissions_for(groups: Iterable[str]) -> Set[str]:
    """The union of the groups' permissions; unknown groups grant nothing."""
    granted: Set[str] = set()
    for group in groups:
        granted |= ROLE_PERMISSIONS.get(group, frozenset())
    return granted


def is_allowed(groups: Iterable[str], permission: str) -> bool:
    """Deny by default: only a known permission held by a group passes."""
    groups = list(groups)
    if permission == AUTHENTICATED:
        return True
    if permission not in ALL_PERMISSIONS:
        return False
    return permission in permissions_for(groups)
