"""The RBAC matrix: every endpoint × 7 identities through the local REST API.

The identities are the five roles of CONTRACTS §6, no identity (API
Gateway's Cognito authorizer answers 401) and a group that is no role
(403). The expected answer comes from ``ROLE_GRANTS``, a transcription
of the CONTRACTS §6 table kept apart from ``shared.rbac`` so that the
matrix checks the code against the contract, not against itself.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from typing import Dict, FrozenSet, List, Optional, Tuple

from shared import rbac

VIEW = frozenset(
    {
        "view_protection_groups",
        "view_recovery_plans",
        "view_executions",
        "view_infrastructure",
        "view_accounts",
        "view_configuration",
    }
)
_EDIT = ("create", "modify", "delete")
_OBJECTS = ("protection_groups", "recovery_plans")
PLAN_EDIT = frozenset(f"{v}_{o}" for v in _EDIT for o in _OBJECTS)
RUN = frozenset({"start_recovery", "stop_recovery"})
ALL = VIEW | PLAN_EDIT | RUN
ALL |= {"terminate_instances", "manage_accounts", "manage_configuration"}
# CONTRACTS §6, row by row.
ROLE_GRANTS: Dict[str, FrozenSet[str]] = {
    "DRSOrchestrationAdmin": frozenset(ALL),
    "DRSRecoveryManager": frozenset(ALL - {"manage_accounts"}),
    "DRSPlanManager": VIEW | PLAN_EDIT | RUN,
    "DRSOperator": VIEW
    | {"modify_protection_groups", "modify_recovery_plans"}
    | RUN,
    "DRSReadOnly": VIEW,
}
NO_IDENTITY = "(no identity)"
UNKNOWN_GROUP = "NotARole"
IDENTITIES: Tuple[str, ...] = tuple(ROLE_GRANTS) + (
    NO_IDENTITY,
    UNKNOWN_GROUP,
)
# A path id no record has: an allowed call ends 404/400, never a change.
PROBE_ID = "rbac-matrix-probe"


@dataclass
class RbacCase:
    """One identity × endpoint answer."""

    identity: str
    method: str
    path: str
    operation: str
    permission: str
    expected: str  # "401", "403" or "allowed"
    status: int
    passed: bool
    error: Optional[str] = None

    def to_dict(self) -> dict:
        return asdict(self)


def expected_answer(identity: str, permission: str) -> str:
    """What CONTRACTS §6 says ``identity`` gets for ``permission``."""
    if identity == NO_IDENTITY:
        return "401"
    if permission == rbac.AUTHENTICATED:
        return "allowed"
    granted = ROLE_GRANTS.get(identity, frozenset())
    return "allowed" if permission in granted else "403"


def _request(
    base_url: str, endpoint: rbac.Endpoint, identity: str
) -> Tuple[int, dict]:
    path = re.sub(r"\{\w+\}", PROBE_ID, endpoint.path)
    headers = {"Content-Type": "application/json"}
    if identity != NO_IDENTITY:
        headers["X-Local-User"] = f"rbac-{identity.lower()}@example.com"
        headers["X-Local-Groups"] = identity
    data = b"{}" if endpoint.method in ("POST", "PUT") else None
    request = urllib.request.Request(
        base_url + path, data, headers=headers, method=endpoint.method
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:  # nosec
            return answer.status, _json(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, _json(error.read())


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw or b"null")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def check(
    expected: str, status: int, body: dict
) -> Tuple[bool, Optional[str]]:
    """Whether an answer is what CONTRACTS §6 says (and why not)."""
    if expected == "401":
        return status == 401, None if status == 401 else f"got {status}"
    if expected == "403":
        if status != 403:
            return False, f"got {status}"
        if body.get("error") != "FORBIDDEN":
            return False, f"403 without error FORBIDDEN: {body}"
        return True, None
    if status in (401, 403) or status >= 500:
        return False, f"allowed but got {status}: {body.get('error')}"
    return True, None


def run_matrix(
    base_url: str, endpoints: Optional[List[rbac.Endpoint]] = None
) -> List[RbacCase]:
    """Ask every endpoint as every identity; one case per answer."""
    cases = []
    for endpoint in endpoints or rbac.ENDPOINTS:
        for identity in IDENTITIES:
            expected = expected_answer(identity, endpoint.permission)
            status, body = _request(base_url, endpoint, identity)
            passed, error = check(expected, status, body)
            cases.append(
                RbacCase(
                    identity,
                    endpoint.method,
                    endpoint.path,
                    endpoint.operation,
                    endpoint.permission,
                    expected,
                    status,
                    passed,
                    error,
                )
            )
    return cases
