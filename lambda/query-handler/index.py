"""query-handler: DRS/EC2 queries, wave status polling, tag discovery.

Adapter only: every operation and action registers itself on the router of
``query_routes``; importing the modules below is what registers them.
"""

from typing import Any, Dict

from query_routes import router
from shared.observability import instrument_handler

# Registration imports (one line per module that registers operations).
import account_info  # noqa: F401,E402
import config_export  # noqa: F401,E402
import drs_capacity  # noqa: F401,E402
import drs_queries  # noqa: F401,E402
import ec2_queries  # noqa: F401,E402
import plan_readiness  # noqa: F401,E402
import user_permissions  # noqa: F401,E402
import server_discovery  # noqa: F401,E402
import wave_status  # noqa: F401,E402
import account_capacity  # noqa: F401,E402
import plan_instances  # noqa: F401,E402

# The seeds' names (seeds/000_*), importable from this module.
from wave_status import poll_wave_status  # noqa: F401,E402
from server_discovery import query_drs_servers_by_tags  # noqa: F401,E402


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Any:
    """API Gateway, direct operation or orchestration action."""
    return router.handle(event, context)
