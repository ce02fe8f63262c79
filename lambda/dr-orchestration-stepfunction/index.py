"""dr-orchestration-stepfunction: the generic orchestration function.

Thin adapter over ``shared.orchestration_core``; DRS work is reached by
invoking the execution-handler and query-handler (no DRS code here).
"""

from typing import Any, Dict

from lambda_operations_port import LambdaOperationsPort
from shared import orchestration_core
from shared.observability import instrument_handler


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Dict[str, Any]:
    """State machine action -> the updated state."""
    return orchestration_core.handle(event, LambdaOperationsPort())
