"""execution-handler: wave recovery and the execution lifecycle.

Adapter only: every operation and action registers itself on the router of
``execution_routes``; importing the modules below is what registers them.
"""

from typing import Any, Dict

from execution_routes import router
from shared.observability import instrument_handler

# Registration imports (one line per module that registers operations).
import execution_start  # noqa: F401,E402
import execution_control  # noqa: F401,E402
import execution_pause_resume  # noqa: F401,E402
import execution_queries  # noqa: F401,E402
import execution_settlement  # noqa: F401,E402
import recovery_instances  # noqa: F401,E402
import wave_recovery  # noqa: F401,E402
import execution_history_delete  # noqa: F401,E402

# The seeds' names (seeds/000_*), importable from this module.
from wave_recovery import start_wave_recovery  # noqa: F401,E402
from shared.launch_config_seed import (  # noqa: F401,E402
    apply_launch_config_before_recovery,
)


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Any:
    """API Gateway, direct operation or orchestration action."""
    return router.handle(event, context)
