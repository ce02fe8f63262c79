"""Local Lambda runtime: each function from its packaged zip, in workers.

- :class:`LambdaRuntime` (``pool.py``): ``invoke(spec, payload)`` runs a
  :class:`FunctionSpec` (name, ARN, handler, zip bytes, environment,
  timeout) in a long-lived worker process (``worker.py``), a pool of up to
  ``max_workers`` per function; ``invoke_async`` for ``Event``; timeouts
  kill the worker and answer ``Task timed out after N seconds``.
- The worker's ``sys.path`` is the extracted zip, then the runtime layer
  (``layer.py``: boto3/botocore and deps, Powertools) — never the venv.
- ``moto_hook.install(runtime)`` routes moto's Lambda invoke (boto3 and
  Step Functions tasks) to the runtime, reading the function as registered
  in moto (``create_function``).
- ``make_zip({name: source})``: a function zip built in memory.
"""

from .archive import make_zip
from .moto_hook import install, spec_from_moto, uninstall
from .pool import FunctionSpec, InvokeResult, LambdaRuntime, Throttled

__all__ = [
    "FunctionSpec",
    "InvokeResult",
    "LambdaRuntime",
    "Throttled",
    "install",
    "make_zip",
    "spec_from_moto",
    "uninstall",
]
