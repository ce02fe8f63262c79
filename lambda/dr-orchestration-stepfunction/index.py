"""dr-orchestration-stepfunction: the generic orchestration function.

Thin adapter over ``shared.orchestration_core``; DRS work is reached by
invoking the execution-handler and query-handler (no DRS code here).
"""

from typing import Any, Dict

from lambda_operations_port import LambdaOperationsPort
from shared import orchestration_core, progress_wake
from shared.observability import instrument_handler


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """State machine action -> the updated state; the progress wait's
    actions (``store_progress_token``, ``drs_event``: issue 18) go to
    ``shared.progress_wake``."""
    if event.get("action") in progress_wake.ACTIONS:
        return progress_wake.handle(event)
    return orchestration_core.handle(event, LambdaOperationsPort())
