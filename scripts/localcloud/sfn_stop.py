"""StopExecution ends a task-token wait (as in AWS).

moto's interpreter marks a stopped execution's frames stopped, but a
``.waitForTaskToken`` task keeps waiting on its callback endpoint until
its timeout: a cancel during the progress wait (issue 18) would take the
whole poll interval. ``install`` wraps ``Environment.set_stop`` so a stop
also ends every callback wait of the execution.
"""

from typing import Any

from moto.stepfunctions.parser.asl.eval.callback.callback import (
    CallbackOutcomeSuccess,
)
from moto.stepfunctions.parser.asl.eval.environment import Environment

_ORIGINAL = Environment.set_stop


def _set_stop(self: Any, *args: Any, **kwargs: Any) -> None:
    _ORIGINAL(self, *args, **kwargs)
    pool = getattr(self.callback_pool_manager, "_pool", {})
    for endpoint in list(pool.values()):
        if endpoint.get_outcome() is None:
            # An empty success: the stopped program then ends ABORTED at
            # the state's end (an interrupt would read as a task timeout
            # and end it FAILED).
            endpoint.notify(CallbackOutcomeSuccess(endpoint.callback_id, "{}"))


def install() -> None:
    """Interrupt callback waits on stop (idempotent)."""
    Environment.set_stop = _set_stop


def uninstall() -> None:
    """Restore moto's behaviour."""
    Environment.set_stop = _ORIGINAL
