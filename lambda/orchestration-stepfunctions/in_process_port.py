"""The legacy orchestration's port: the DRS functions run in-process.

``package_lambda.py`` bundles the execution-handler's and query-handler's
non-index modules into this function's zip. The state is JSON
round-tripped like a Lambda invocation would, so both orchestration
functions produce identical states.
"""

from typing import Any, Dict

import execution_settlement
import server_discovery
import wave_recovery
import wave_status
from shared.config import get_settings
from shared.responses import to_jsonable


class InProcessOperationsPort:
    """``start_wave``/``poll``/``cleanup_drill`` call ``wave_recovery``/
    ``wave_status``/``execution_settlement``; tag resolution and the next
    wave's start are in-process too."""

    def start_wave(
        self, state: Dict[str, Any], wave_number: int
    ) -> Dict[str, Any]:
        """Start wave ``wave_number`` in-process."""
        return to_jsonable(
            wave_recovery.start_wave_recovery(
                to_jsonable(state),
                wave_number,
                server_resolver=server_discovery.query_drs_servers_by_tags,
            )
        )

    def poll(self, state: Dict[str, Any]) -> Dict[str, Any]:
        """Poll the current wave in-process."""
        return to_jsonable(
            wave_status.poll_wave_status(
                to_jsonable(state), start_wave=self.start_wave
            )
        )

    def cleanup_drill(self, execution_id: str) -> None:
        """Terminate a finished drill's recovery instances in-process (a
        job still launching hands the cleanup to the execution-handler's
        worker)."""
        execution_settlement.cleanup_drill(
            execution_id,
            worker_function=get_settings().execution_handler_arn,
        )
