"""Benchmark 4: import time of each function in a fresh interpreter, the
size of its zip (``package_lambda.build_zip``) and, apart, its first vs
second invocation through the local Lambda runtime (:mod:`.first_invoke`).

Each measurement is a new ``python -I`` process whose ``sys.path`` starts
with the extracted zip (the venv's site-packages provide boto3 and
Powertools, as the Lambda runtime and layer do): it times ``import
boto3`` alone, then ``import index`` on top of it (own code, Powertools
and whatever else the function pulls in). Only imports are timed: no
handler runs and no runtime start-up is included. Medians of 7 repeats;
the two are measured in one process so machine load cannot make own code
negative. Tracing is off there (no ``LAMBDA_TASK_ROOT``, as in tests and
the local cloud); ``ownCodeTracedMs`` repeats the own-code figure with
``LAMBDA_TASK_ROOT`` set, as in AWS, where the Tracer imports the X-Ray SDK
and patches botocore.
"""

from __future__ import annotations

import json
import statistics

# Runs this venv's own python with a fixed argv (no shell).
import subprocess  # nosec B404
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from . import first_invoke

REPEAT = 7
PROBE = """
import sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
import boto3
middle = time.perf_counter()
import {module}
print(middle - start, time.perf_counter() - middle)
"""
# What the template gives every function; index imports need no more.
FUNCTION_ENV = {
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "PROJECT_NAME": "hrp-drs-tech-adapter",
    "ENVIRONMENT": "dev",
    "POWERTOOLS_SERVICE_NAME": "bench",
    "PATH": "/usr/bin:/bin",
}


# In AWS: the runtime sets these, so powertools' Tracer traces.
TRACED_ENV = {
    **FUNCTION_ENV,
    "LAMBDA_TASK_ROOT": "/var/task",
    "AWS_LAMBDA_FUNCTION_NAME": "bench",
}


def _probe(
    code_dir: Path, module: str, env: Optional[Dict[str, str]] = None
) -> Tuple[float, float]:
    out = subprocess.run(  # nosec B603
        [sys.executable, "-I", "-c", PROBE.format(module=module)]
        + [str(code_dir)],
        capture_output=True,
        text=True,
        env=env or FUNCTION_ENV,
        timeout=120,
        check=True,
    )
    boto3_s, own_s = out.stdout.strip().splitlines()[-1].split()
    return float(boto3_s), float(own_s)


def _median_ms(values: List[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def measure(repeat: int = REPEAT) -> Dict[str, Any]:
    """Per function: zip bytes, import times (ms, medians)."""
    import package_lambda

    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        zips = Path(tmp) / "zips"
        boto3_times = []
        for folder in package_lambda.FUNCTIONS:
            path = package_lambda.build_zip(folder, zips)
            code = Path(tmp) / folder
            with zipfile.ZipFile(path) as archive:
                archive.extractall(code)
            try:
                probes, traced = [], []
                for _ in range(repeat):  # interleaved: the same load
                    probes.append(_probe(code, "index"))
                    traced.append(_probe(code, "index", TRACED_ENV))
                boto3_times += [b for b, _ in probes]
                boto3_ms = _median_ms([b for b, _ in probes])
                own_ms = _median_ms([o for _, o in probes])
                entry = {
                    "importMs": round(boto3_ms + own_ms, 1),
                    "boto3Ms": boto3_ms,
                    "ownCodeMs": own_ms,
                    "ownCodeTracedMs": _median_ms([o for _, o in traced]),
                }
            except subprocess.CalledProcessError as error:
                entry = {"error": (error.stderr or "").strip()[-300:]}
            entry["zipBytes"] = path.stat().st_size
            results[folder] = entry
    return {
        "boto3OnlyMs": _median_ms(boto3_times) if boto3_times else None,
        "repeat": repeat,
        "functions": results,
        "method": __doc__.strip().split("\n\n")[1].replace("\n", " "),
        "localRuntime": _local_runtime(list(results)),
    }


def _local_runtime(folders: List[str]) -> Dict[str, Any]:
    """First/second invoke figures, or the reason they are missing."""
    try:
        return first_invoke.measure(folders)
    # Any failure of the local cloud is reported, not raised: the import
    # figures above stay valid.
    except Exception as error:  # pylint: disable=broad-except
        return {"error": f"{type(error).__name__}: {error}"[:300]}


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of this benchmark."""
    out = [("cold start", "import boto3 alone (ms)", result["boto3OnlyMs"])]
    for name, entry in result["functions"].items():
        if "error" in entry:
            value = f"import failed; zip {entry['zipBytes']} B"
        else:
            value = (
                f"own {entry['ownCodeMs']} ms (total {entry['importMs']}), "
                f"traced as in AWS {entry['ownCodeTracedMs']} ms, "
                f"zip {entry['zipBytes']} B"
            )
        out.append(("cold start", name, value))
    return out + runtime_rows(result.get("localRuntime") or {})


def runtime_rows(runtime: Dict[str, Any]) -> List[tuple]:
    """Rows of the local runtime's first vs second invocations."""
    if "error" in runtime:
        return [("cold start", "local runtime", f"ERROR {runtime['error']}")]
    return [
        (
            "cold start",
            f"{name} local runtime",
            f"1st invoke {entry['firstMs']} ms, 2nd {entry['secondMs']} ms "
            f"({entry['secondOutcome']})",
        )
        for name, entry in runtime.get("functions", {}).items()
    ]


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(measure(2), indent=2))
