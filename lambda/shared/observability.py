"""Logs, traces and metrics around every function's handler.

``index.py`` decorates its handler with :func:`instrument_handler`:

* powertools ``Logger.inject_lambda_context``: every line carries the
  request id, the function and ``cold_start`` (the router then adds the
  correlation id);
* powertools ``Tracer``: a subsegment per invocation under the X-Ray
  segment Lambda opens (``Tracing: Active``), boto3 calls traced;
* powertools ``Metrics``: the business metrics of :mod:`shared.metrics`
  flushed as one EMF line at the end of the invocation.

Tracing is off outside Lambda and where ``POWERTOOLS_TRACE_DISABLED`` is
true (tests, the local cloud): then the tracer gets a no-op provider, so
the X-Ray SDK's recorder is never imported. Importing it costs about
100 ms outside Lambda (it builds X-Ray clients for sampling) and would be
paid for nothing.
"""

import functools
import warnings
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Callable, Iterator, Optional

from aws_lambda_powertools import Tracer
from aws_lambda_powertools.tracing.base import BaseProvider, BaseSegment

from shared.logging_setup import get_logger
from shared.metrics import metrics

Handler = Callable[[Any, Any], Any]

# Most invocations record no business metric; powertools warns about each
# empty flush, which says nothing here.
warnings.filterwarnings(
    "ignore", message="No application metrics to publish", category=Warning
)


class _NoSegment(BaseSegment):
    """A subsegment that records nothing (tracing off)."""

    def close(self, end_time: Optional[int] = None) -> None:
        """Nothing to close."""

    def add_subsegment(self, subsegment: Any) -> None:
        """Nothing recorded."""

    def remove_subsegment(self, subsegment: Any) -> None:
        """Nothing recorded."""

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing recorded."""

    def put_metadata(
        self, key: str, value: Any, namespace: str = "default"
    ) -> None:
        """Nothing recorded."""

    def add_exception(self, exception, stack, remote: bool = False) -> None:
        """Nothing recorded."""


class _NoTraceProvider(BaseProvider):
    """The tracer's provider when tracing is off: no X-Ray SDK at all."""

    @contextmanager
    def in_subsegment(self, name=None, **kwargs) -> Iterator[BaseSegment]:
        """A subsegment that records nothing."""
        yield _NoSegment()

    @asynccontextmanager
    async def in_subsegment_async(self, name=None, **kwargs):
        """A subsegment that records nothing."""
        yield _NoSegment()

    def put_annotation(self, key: str, value: Any) -> None:
        """Nothing recorded."""

    def put_metadata(
        self, key: str, value: Any, namespace: str = "default"
    ) -> None:
        """Nothing recorded."""

    def patch(self, modules) -> None:
        """Nothing to patch."""

    def patch_all(self) -> None:
        """Nothing to patch."""


def _provider() -> Optional[BaseProvider]:
    """None (powertools' X-Ray recorder) when tracing is on, decided by
    powertools' own rule (in Lambda, not POWERTOOLS_TRACE_DISABLED)."""
    # pylint: disable=protected-access
    return None if not Tracer._is_tracer_disabled() else _NoTraceProvider()


# boto3 only: the functions make no other outgoing calls, and patching
# every library X-Ray knows would import them all at cold start.
tracer = Tracer(provider=_provider(), patch_modules=("boto3",))


@contextmanager
def traced(name: str, **annotations: Any) -> Iterator[BaseSegment]:
    """A subsegment named ``## <name>`` with searchable annotations."""
    with tracer.provider.in_subsegment(name=f"## {name}") as subsegment:
        for key, value in annotations.items():
            if value is not None:
                subsegment.put_annotation(key=key, value=value)
        yield subsegment


def instrument_handler(handler: Handler) -> Handler:
    """The handler with Lambda-context logs, a trace and metrics flush."""
    # Responses can be large (lists, exports) and hold plan data: the
    # trace keeps timings and errors, not payloads.
    traced_handler = tracer.capture_lambda_handler(
        handler, capture_response=False
    )
    measured = metrics.log_metrics(
        traced_handler, raise_on_empty_metrics=False
    )
    logged = get_logger().inject_lambda_context(measured)

    @functools.wraps(handler)
    def entry(event: Any, context: Any) -> Any:
        # A call without a Lambda context (``handler(event, None)`` from a
        # script or a test) has no request id to inject; it is still
        # traced and its metrics flushed.
        if context is None:
            return measured(event, context)
        return logged(event, context)

    return entry
