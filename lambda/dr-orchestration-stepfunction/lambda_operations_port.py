"""The generic orchestration's port: DRS work is reached by invoking the
execution-handler and the query-handler (``seeds/000_*``). No DRS code."""

from typing import Any, Dict, Optional

from shared.config import get_settings
from shared.lambda_invoke import invoke_function


class LambdaOperationsPort:
    """``start_wave`` -> execution-handler ``start_wave_recovery``;
    ``poll`` -> query-handler ``poll_wave_status``; ``cleanup_drill`` ->
    execution-handler ``cleanup_drill``. Invocation errors
    raise (``InvocationError``); the core turns them into ``failed``."""

    def __init__(
        self,
        execution_handler_arn: Optional[str] = None,
        query_handler_arn: Optional[str] = None,
        lambda_client: Optional[Any] = None,
    ) -> None:
        self._execution_handler_arn = execution_handler_arn
        self._query_handler_arn = query_handler_arn
        self._client = lambda_client

    @property
    def execution_handler_arn(self) -> str:
        return self._execution_handler_arn or get_settings().require(
            "execution_handler_arn"
        )

    @property
    def query_handler_arn(self) -> str:
        return self._query_handler_arn or get_settings().require(
            "query_handler_arn"
        )

    def start_wave(
        self, state: Dict[str, Any], wave_number: int
    ) -> Dict[str, Any]:
        """Start wave ``wave_number`` through the execution-handler."""
        return invoke_function(
            self.execution_handler_arn,
            {
                "action": "start_wave_recovery",
                "state": state,
                "wave_number": wave_number,
            },
            client=self._client,
        )

    def poll(self, state: Dict[str, Any]) -> Dict[str, Any]:
        """Poll the current wave through the query-handler."""
        return invoke_function(
            self.query_handler_arn,
            {"action": "poll_wave_status", "state": state},
            client=self._client,
        )

    def cleanup_drill(self, execution_id: str) -> Dict[str, Any]:
        """Terminate a finished drill's recovery instances through the
        execution-handler (``cleanup_drill``)."""
        return invoke_function(
            self.execution_handler_arn,
            {"action": "cleanup_drill", "execution_id": execution_id},
            client=self._client,
        )
