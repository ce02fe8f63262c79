"""Every function's handler: Lambda context in the logs, a trace
subsegment, metrics flushed; tracing off (no X-Ray SDK) outside Lambda."""

import io
import json
import os
import subprocess  # nosec B404 - runs this venv's python, fixed argv
import sys
from contextlib import contextmanager
from types import SimpleNamespace

import pytest

from shared import metrics, observability
from shared.lambda_invoke import invoke_function
from shared.logging_setup import get_logger
from tests.helpers import LAMBDA_DIR, load_handler

FOLDERS = (
    "data-management-handler",
    "execution-handler",
    "query-handler",
    "dr-orchestration-stepfunction",
    "orchestration-stepfunctions",
    "notification-formatter",
)
CONTEXT_KEYS = (
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
)


def _context(request_id):
    return SimpleNamespace(
        function_name="fn",
        memory_limit_in_mb=256,
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:fn",
        aws_request_id=request_id,
    )


@pytest.fixture(autouse=True)
def clean_state():
    """The logger and the metrics are per process: leave them clean."""
    metrics.metrics.clear_metrics()
    yield
    get_logger().remove_keys(CONTEXT_KEYS)
    metrics.metrics.clear_metrics()


@pytest.mark.parametrize("folder", FOLDERS)
def test_every_handler_logs_with_the_lambda_context(folder):
    # Given a function's handler and an event it refuses
    handler = load_handler(folder).lambda_handler
    # When Lambda invokes it
    try:
        handler({"action": "no-such-action"}, _context(f"req-{folder}"))
    except ValueError:
        pass  # orchestration functions raise for an unknown action
    # Then the logger carries the request id and the cold start flag
    keys = get_logger().get_current_keys()
    assert keys["function_request_id"] == f"req-{folder}"
    assert isinstance(keys["cold_start"], bool)


def test_a_handler_flushes_its_metrics_as_one_emf_line(capsys):
    # Given a handler that records an execution start
    @observability.instrument_handler
    def handler(event, context):
        metrics.execution_started()
        return {"ok": True}

    # When it is invoked (with and without a Lambda context)
    assert handler({}, _context("req-1")) == {"ok": True}
    assert handler({}, None) == {"ok": True}
    # Then each invocation printed its EMF line and kept nothing pending
    lines = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith('{"_aws"')
    ]
    assert [line["ExecutionsStarted"] for line in lines] == [[1.0], [1.0]]
    assert not metrics.metrics.metric_set


class _Recorder:
    """A trace provider recording subsegment names and annotations."""

    def __init__(self):
        self.segments = []

    @contextmanager
    def in_subsegment(self, name=None, **_kwargs):
        annotations = {}

        def put_annotation(key, value):
            annotations[key] = value

        segment = SimpleNamespace(
            name=name, annotations=annotations, put_annotation=put_annotation
        )
        self.segments.append(segment)
        yield segment


class _Lambda:
    def invoke(self, **_kwargs):
        return {"Payload": io.BytesIO(b'{"status": "running"}')}


def test_a_lambda_invoke_is_traced_in_its_own_subsegment(monkeypatch):
    # Given a recording trace provider
    recorder = _Recorder()
    monkeypatch.setattr(observability.tracer, "provider", recorder)
    # When the query-handler is invoked by ARN
    arn = "arn:aws:lambda:us-east-1:123456789012:function:qh-dev"
    result = invoke_function(
        arn, {"action": "poll_wave_status"}, client=_Lambda()
    )
    # Then the invoke ran inside a subsegment naming callee and action
    assert result == {"status": "running"}
    (segment,) = recorder.segments
    assert segment.name == "## invoke qh-dev"
    assert segment.annotations == {
        "function": "qh-dev",
        "action": "poll_wave_status",
    }


PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
from shared.observability import tracer
print(type(tracer.provider).__name__, tracer.disabled,
      "aws_xray_sdk.core" in sys.modules)
"""


def _probe(**env):
    base = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_DEFAULT_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "probe",
    }
    out = subprocess.run(  # nosec B603 - fixed argv, this venv's python
        [sys.executable, "-I", "-c", PROBE, str(LAMBDA_DIR)],
        capture_output=True,
        text=True,
        env={**base, **env},
        timeout=60,
        check=True,
    )
    return out.stdout.split()


def test_tracing_is_off_without_the_xray_sdk_outside_lambda():
    # When the tracer is set up outside Lambda and, in Lambda, with
    # tracing disabled (the local cloud)
    outside = _probe()
    disabled = _probe(
        LAMBDA_TASK_ROOT="/var/task", POWERTOOLS_TRACE_DISABLED="1"
    )
    # Then it records nothing and never imports the X-Ray recorder
    assert outside == disabled == ["_NoTraceProvider", "True", "False"]


def test_tracing_is_on_with_the_xray_recorder_in_lambda():
    # When the tracer is set up in Lambda
    found = _probe(LAMBDA_TASK_ROOT="/var/task")
    # Then it traces through the X-Ray SDK's recorder
    assert found == ["AsyncAWSXRayRecorder", "False", "True"]
