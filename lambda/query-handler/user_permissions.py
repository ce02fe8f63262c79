"""``GET /user/permissions``: the caller's roles and permissions
(CONTRACTS §6, ``shared.rbac``)."""

from typing import Any, Dict

from query_routes import router
from shared import rbac
from shared.api import Caller, Request


def permissions_of(caller: Caller) -> Dict[str, Any]:
    """Known roles of the caller and the union of their permissions.

    A direct invocation carries no Cognito groups: it is authorized by IAM
    (``lambda:InvokeFunction``), so it reports no roles here.
    """
    roles = sorted(g for g in caller.groups if g in rbac.ROLE_PERMISSIONS)
    return {
        "user": caller.name,
        "email": caller.email,
        "roles": roles,
        "groups": sorted(caller.groups),
        "permissions": sorted(rbac.permissions_for(roles)),
        "via": caller.via,
    }


@router.operation("get_user_permissions")
def get_user_permissions(request: Request) -> Dict[str, Any]:
    """Roles and permissions of whoever is calling."""
    return permissions_of(request.caller)
