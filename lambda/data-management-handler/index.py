"""data-management-handler: groups, plans, accounts, tag sync, import.

Adapter only: every operation and action registers itself on the router of
``data_routes``; importing the modules below is what registers them.
"""

from typing import Any, Dict

from data_routes import router
from shared.observability import instrument_handler

# Registration imports (one line per module that registers operations).
import protection_groups  # noqa: F401,E402
import target_account_ops  # noqa: F401,E402
import group_launch_config  # noqa: F401,E402
import server_config_ops  # noqa: F401,E402
import recovery_plans  # noqa: F401,E402
import tag_sync  # noqa: F401,E402
import config_import  # noqa: F401,E402
import account_validation  # noqa: F401,E402
import static_ip_check  # noqa: F401,E402


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Any:
    """API Gateway, direct operation or orchestration action."""
    return router.handle(event, context)
