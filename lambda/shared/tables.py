"""DynamoDB tables, created lazily from environment variables."""

import threading
from typing import Any, Dict

from shared.aws_clients import get_resource
from shared.config import get_settings

_lock = threading.Lock()
_tables: Dict[str, Any] = {}


def get_table(attribute: str) -> Any:
    """The table named by a settings attribute (``recovery_plans_table``).

    Fails with a message naming the missing environment variable.
    """
    name = get_settings().require(attribute)
    with _lock:
        table = _tables.get(name)
        if table is None:
            table = get_resource("dynamodb").Table(name)
            _tables[name] = table
        return table


def protection_groups_table() -> Any:
    return get_table("protection_groups_table")


def recovery_plans_table() -> Any:
    return get_table("recovery_plans_table")


def execution_history_table() -> Any:
    return get_table("execution_history_table")


def execution_servers_table() -> Any:
    return get_table("execution_servers_table")


def target_accounts_table() -> Any:
    return get_table("target_accounts_table")


def tag_sync_config_table() -> Any:
    return get_table("tag_sync_config_table")


def reset_tables() -> None:
    """Forget cached table objects (tests)."""
    with _lock:
        _tables.clear()


def scan_all(table: Any, **kwargs: Any) -> list:
    """Every item of a scan, following ``LastEvaluatedKey``."""
    items: list = []
    while True:
        page = table.scan(**kwargs)
        items.extend(page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return items
        kwargs["ExclusiveStartKey"] = last


def query_all(table: Any, **kwargs: Any) -> list:
    """Every item of a query, following ``LastEvaluatedKey``."""
    items: list = []
    while True:
        page = table.query(**kwargs)
        items.extend(page.get("Items", []))
        last = page.get("LastEvaluatedKey")
        if not last:
            return items
        kwargs["ExclusiveStartKey"] = last
