"""STS ``AssumeRole`` that checks the role's trust policy, as AWS does.

moto assumes any role ARN, existing or not, with any ExternalId: a spoke
registered with a wrong ExternalId (or a missing role) would run a drill
in the local cloud and fail only in AWS. Installed by
:func:`localcloud.moto_patches.install`, ``AssumeRole`` answers
``AccessDenied`` (HTTP 403) unless

- the role exists in the target account's IAM (exact ARN, path included),
- no ``Deny`` statement of its trust policy applies, and
- an ``Allow`` statement applies: its ``Action`` covers ``sts:AssumeRole``,
  its ``Principal`` names the caller (``*``, the caller's account id or
  ``arn:...:iam::<account>:root``, or the caller's user/role ARN) and its
  ``sts:ExternalId`` conditions hold for the request's ExternalId
  (``StringEquals``, ``StringEqualsIgnoreCase``, ``StringLike``; any other
  operator on that key is treated as not satisfied).

Other condition keys (source IP, organization...) are not modelled and
do not restrict.
"""

import fnmatch
import json
from typing import Any, Dict, Iterable, List, Optional

from moto.core.exceptions import AccessDeniedError
from moto.sts.responses import TokenResponse

ACTION = "sts:AssumeRole"
EXTERNAL_ID_KEY = "sts:externalid"
_ORIGINAL = TokenResponse.assume_role


def _as_list(value: Any) -> List[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _covers_action(statement: Dict[str, Any]) -> bool:
    actions = [str(a).lower() for a in _as_list(statement.get("Action"))]
    return any(fnmatch.fnmatchcase(ACTION.lower(), a) for a in actions)


def _role_arn_of(caller_arn: str) -> str:
    """``arn:aws:sts::A:assumed-role/R/S`` -> ``arn:aws:iam::A:role/R``."""
    parts = caller_arn.split(":", 5)
    if len(parts) == 6 and parts[5].startswith("assumed-role/"):
        role = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{role}"
    return caller_arn


def _names_caller(
    statement: Dict[str, Any], account: str, caller_arn: str
) -> bool:
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    accepted = {"*", account, _role_arn_of(caller_arn), caller_arn}
    for value in _as_list(principal.get("AWS")):
        text = str(value)
        if text in accepted or text.endswith(f":iam::{account}:root"):
            return True
    return False


def _external_id_holds(
    condition: Dict[str, Any], external_id: Optional[str]
) -> bool:
    for operator, keys in (condition or {}).items():
        for key, expected in (keys or {}).items():
            if key.lower() != EXTERNAL_ID_KEY:
                continue  # not modelled: does not restrict
            if not _operator_holds(operator, expected, external_id):
                return False
    return True


def _operator_holds(
    operator: str, expected: Any, external_id: Optional[str]
) -> bool:
    if external_id is None:
        return False  # a missing key never satisfies a String* condition
    values = [str(v) for v in _as_list(expected)]
    if operator == "StringEquals":
        return external_id in values
    if operator == "StringEqualsIgnoreCase":
        return external_id.lower() in {v.lower() for v in values}
    if operator == "StringLike":
        return any(fnmatch.fnmatchcase(external_id, v) for v in values)
    return False


def _applies(statement, account, caller_arn, external_id) -> bool:
    return (
        _covers_action(statement)
        and _names_caller(statement, account, caller_arn)
        and _external_id_holds(statement.get("Condition"), external_id)
    )


def trust_allows(
    trust_policy: Dict[str, Any],
    caller_account: str,
    caller_arn: str,
    external_id: Optional[str],
) -> bool:
    """True when the trust policy lets the caller assume the role."""
    statements: Iterable[Dict[str, Any]] = _as_list(
        trust_policy.get("Statement")
    )
    applying = [
        s
        for s in statements
        if isinstance(s, dict)
        and _applies(s, caller_account, caller_arn, external_id)
    ]
    if any(s.get("Effect") == "Deny" for s in applying):
        return False
    return any(s.get("Effect") == "Allow" for s in applying)


def find_role(role_arn: str) -> Any:
    """The IAM role with exactly this ARN, or None."""
    from moto.iam.models import iam_backends

    parts = str(role_arn or "").split(":", 5)
    if len(parts) != 6 or not parts[4].isdigit():
        return None
    try:
        backend = iam_backends[parts[4]][parts[1]]
    except KeyError:  # not a partition moto knows
        return None
    return next((r for r in backend.get_roles() if r.arn == role_arn), None)


def _assume_role(self: Any) -> Any:
    role_arn = self._get_param("RoleArn")
    external_id = self._get_param("ExternalId")
    _, caller_arn, _ = self.backend.get_caller_identity(
        self.get_access_key(), self.region
    )
    role = find_role(role_arn)
    try:
        trust = json.loads(role.assume_role_policy_document) if role else {}
    except (TypeError, ValueError):
        trust = {}
    if role is None or not trust_allows(
        trust, self.current_account, caller_arn, external_id
    ):
        raise AccessDeniedError(
            caller_arn, f"sts:AssumeRole on resource: {role_arn}"
        )
    return _ORIGINAL(self)


def install() -> None:
    """Check trust policies on ``AssumeRole`` (idempotent)."""
    TokenResponse.assume_role = _assume_role


def uninstall() -> None:
    """Restore moto's ``AssumeRole``."""
    TokenResponse.assume_role = _ORIGINAL
