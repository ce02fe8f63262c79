"""Workers that follow DRS jobs longer than one invocation may run.

A step is tried every wave poll interval until it says it is finished;
when the next wait would outlast the slice, the worker queues itself
again with the same event (asynchronous invoke of this function) and
answers the step's last answer. Used by the cancel settlement and the
drill cleanup, so both follow their jobs the same way.
"""

import time
from typing import Any, Callable, Dict, Optional, Tuple

from shared.config import get_settings
from shared.lambda_invoke import invoke_async

Step = Callable[[], Tuple[bool, Dict[str, Any]]]


def run_in_slices(
    event: Dict[str, Any],
    step: Step,
    slice_seconds: float,
    lambda_client: Optional[Any] = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], float] = time.monotonic,
) -> Dict[str, Any]:
    """Run ``step`` until finished or the slice ends (then re-queued)."""
    interval = get_settings().wave_poll_interval_seconds
    slice_end = now() + slice_seconds
    while True:
        finished, answer = step()
        if finished:
            return answer
        if now() + interval > slice_end:
            invoke_async(
                get_settings().require("function_name"), event, lambda_client
            )
            return answer
        sleep(interval)
