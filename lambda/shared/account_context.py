"""Cross-account context carried in the orchestration state."""

import re
from typing import Any, Dict, Optional, Union

from shared.engine_state import EngineState

# STS RoleSessionName: 2-64 characters of [\w+=,.@-] (ASCII).
SESSION_NAME_MAX = 64
_SESSION_NAME_REFUSED = re.compile(r"[^\w+=,.@-]", re.ASCII)


def execution_session_name(execution_id: str) -> str:
    """The STS session name of an execution's cross-account calls, so
    CloudTrail in the target account names the execution."""
    name = _SESSION_NAME_REFUSED.sub("-", f"drs-{execution_id}")
    return name[:SESSION_NAME_MAX]


def get_account_context(
    state: Union[EngineState, Dict[str, Any]],
) -> Optional[Dict[str, Any]]:
    """The account context of a state object (or of an execution record,
    whose keys are ``accountContext`` and ``executionId``).

    Which spelling wins: ``EngineState.given_account_context``. A
    context without ``sessionName`` gets the execution's (a copy: the
    state is left as it is).
    """
    typed = state
    if not isinstance(typed, EngineState):
        typed = EngineState.from_json(state)  # a JSON state or a record
    context = typed.given_account_context
    if not context:
        return None
    execution_id = typed.execution_id or typed.extra.get("executionId")
    if execution_id and not context.get("sessionName"):
        context = dict(
            context, sessionName=execution_session_name(str(execution_id))
        )
    return context


def account_context_from_target(
    record: Optional[Dict[str, Any]], session_name: Optional[str] = None
) -> Optional[Dict[str, Any]]:
    """Build an account context from a target-accounts table record."""
    if not record:
        return None
    context: Dict[str, Any] = {
        "accountId": record["accountId"],
        "isCurrentAccount": bool(record.get("isCurrentAccount", False)),
    }
    for key in ("roleArn", "externalId", "assumeRoleName", "accountName"):
        if record.get(key):
            context[key] = record[key]
    if session_name:
        context["sessionName"] = session_name
    return context
