"""Part of benchmark 4: first vs second invocation of each function
through the local cloud's Lambda runtime (local-runtime figures, not AWS).

Local-runtime figures, not AWS: a fresh ``LocalCloud`` (moto server,
the packaged zips, workers started on demand) is started after the
import probes and answers one ``list_functions`` first; each function is
then invoked twice, one after the other, through ``lambda.invoke`` with
a harmless request: an unknown ``operation`` (API handlers, notification
formatter) or an unknown ``action`` (orchestration functions), which
answers an error without touching any data. The first invoke extracts
the zip and starts the function's worker process (interpreter, runtime
layer, ``import index``); the second reuses that worker. Both include
moto's request handling on this machine; their difference is the local
worker's cold start. Wall ms of one pair per function (no repeats).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

from botocore.config import Config

PROBE = "bench_cold_start_probe"
ORCHESTRATION = (
    "dr-orchestration-stepfunction",
    "orchestration-stepfunctions",
)
INVOKE_CONFIG = Config(read_timeout=330, retries={"max_attempts": 1})
Invoke = Callable[[str, Dict[str, Any]], Dict[str, Any]]


def probe_event(folder: str) -> Dict[str, Any]:
    """The harmless request a function gets."""
    key = "action" if folder in ORCHESTRATION else "operation"
    return {key: PROBE}


def outcome(answer: Dict[str, Any]) -> str:
    """What an invocation answered: ``FunctionError: <type>``,
    ``statusCode <n>`` or ``ok``."""
    body = answer.get("body")
    if answer.get("FunctionError"):
        kind = body.get("errorType") if isinstance(body, dict) else None
        return f"FunctionError: {kind or answer['FunctionError']}"
    if isinstance(body, dict) and body.get("statusCode") is not None:
        return f"statusCode {body['statusCode']}"
    return "ok"


def timed_pair(invoke: Invoke, name: str, event: Dict[str, Any]) -> Dict:
    """First and second invocation of ``name``: wall ms and outcomes."""
    figures: Dict[str, Any] = {}
    for label in ("first", "second"):
        start = time.perf_counter()
        answer = invoke(name, event)
        figures[f"{label}Ms"] = round((time.perf_counter() - start) * 1000, 1)
        figures[f"{label}Outcome"] = outcome(answer)
    figures["firstMinusSecondMs"] = round(
        figures["firstMs"] - figures["secondMs"], 1
    )
    return figures


def _lambda_invoke(client: Any) -> Invoke:
    def invoke(name: str, event: Dict[str, Any]) -> Dict[str, Any]:
        answer = client.invoke(FunctionName=name, Payload=json.dumps(event))
        text = answer["Payload"].read()
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = None
        return {"FunctionError": answer.get("FunctionError"), "body": body}

    return invoke


def measure(folders: List[str]) -> Dict[str, Any]:
    """Per function folder: first/second invoke through a fresh local
    cloud's Lambda runtime."""
    from localcloud.drill.invoker import function_name
    from localcloud.stack import LocalCloud

    cloud = LocalCloud(build_dir=Path("build/bench/local-cloud").resolve())
    cloud.start()
    try:
        client = cloud.client("lambda", INVOKE_CONFIG)
        client.list_functions()  # moto's Lambda path warm before timing
        invoke = _lambda_invoke(client)
        functions = {
            folder: timed_pair(
                invoke, function_name(folder), probe_event(folder)
            )
            for folder in folders
        }
    finally:
        cloud.stop()
    return {
        "functions": functions,
        "method": __doc__.strip().split("\n\n")[1].replace("\n", " "),
    }
