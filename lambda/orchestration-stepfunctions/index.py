"""orchestration-stepfunctions: the legacy orchestration function (the
rollback target of ``OrchestrationImplementation=legacy``).

Same core as the generic function (``shared.orchestration_core``); the
DRS functions are called in-process instead of through Lambda invokes.
"""

from typing import Any, Dict

from in_process_port import InProcessOperationsPort
from shared import orchestration_core, progress_wake
from shared.observability import instrument_handler


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """State machine action -> the updated state; the progress wait's
    actions (``store_progress_token``, ``drs_event``: issue 18) go to
    ``shared.progress_wake``."""
    if event.get("action") in progress_wake.ACTIONS:
        return progress_wake.handle(event)
    return orchestration_core.handle(event, InProcessOperationsPort())
