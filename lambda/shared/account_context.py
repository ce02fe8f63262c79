"""Cross-account context carried in the orchestration state."""

from typing import Any, Dict, Optional


def get_account_context(state: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The account context of a state object.

    The state machine's first input spells it ``accountContext``; after a
    resume the state may carry ``account_context``. camelCase wins.
    """
    context = state.get("accountContext")
    if context is None:
        context = state.get("account_context")
    return context or None


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
