"""orchestration-stepfunctions: the legacy orchestration function (the
rollback target of ``OrchestrationImplementation=legacy``).

Same core as the generic function (``shared.orchestration_core``); the
DRS functions are called in-process instead of through Lambda invokes.
"""

from typing import Any, Dict

from in_process_port import InProcessOperationsPort
from shared import orchestration_core
from shared.observability import instrument_handler


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """State machine action -> the updated state."""
    return orchestration_core.handle(event, InProcessOperationsPort())
