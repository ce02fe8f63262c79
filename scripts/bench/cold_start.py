"""Benchmark 4: import time of each function in a fresh interpreter and
the size of its zip (``package_lambda.build_zip``).

Each measurement is a new ``python -I`` process whose ``sys.path`` starts
with the extracted zip (the venv's site-packages provide boto3 and
Powertools, as the Lambda runtime and layer do). ``boto3Only`` imports
boto3 alone; ``total`` imports the function's ``index`` (which pulls
boto3); ``ownCode`` = median(total) - median(boto3Only).
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
from typing import Any, Dict, List

REPEAT = 5
PROBE = """
import sys, time
sys.path.insert(0, sys.argv[1])
start = time.perf_counter()
import {module}
print(time.perf_counter() - start)
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


def _probe(code_dir: Path, module: str) -> float:
    out = subprocess.run(  # nosec B603
        [sys.executable, "-I", "-c", PROBE.format(module=module)]
        + [str(code_dir)],
        capture_output=True,
        text=True,
        env=FUNCTION_ENV,
        timeout=120,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def _median_ms(values: List[float]) -> float:
    return round(statistics.median(values) * 1000, 1)


def measure(repeat: int = REPEAT) -> Dict[str, Any]:
    """Per function: zip bytes, import times (ms, medians)."""
    import package_lambda

    results: Dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-cold-") as tmp:
        zips = Path(tmp) / "zips"
        empty = Path(tmp) / "empty"
        empty.mkdir()
        boto3_only = _median_ms(
            [_probe(empty, "boto3") for _ in range(repeat)]
        )
        for folder in package_lambda.FUNCTIONS:
            path = package_lambda.build_zip(folder, zips)
            code = Path(tmp) / folder
            with zipfile.ZipFile(path) as archive:
                archive.extractall(code)
            try:
                total = _median_ms(
                    [_probe(code, "index") for _ in range(repeat)]
                )
                entry = {
                    "importMs": total,
                    "ownCodeMs": round(total - boto3_only, 1),
                }
            except subprocess.CalledProcessError as error:
                entry = {"error": (error.stderr or "").strip()[-300:]}
            entry["zipBytes"] = path.stat().st_size
            results[folder] = entry
    return {
        "boto3OnlyMs": boto3_only,
        "repeat": repeat,
        "functions": results,
        "method": __doc__.strip().split("\n\n")[1].replace("\n", " "),
    }


def rows(result: Dict[str, Any]) -> List[tuple]:
    """Table rows of this benchmark."""
    out = [("cold start", "import boto3 alone (ms)", result["boto3OnlyMs"])]
    for name, entry in result["functions"].items():
        if "error" in entry:
            value = f"import failed; zip {entry['zipBytes']} B"
        else:
            value = (
                f"own {entry['ownCodeMs']} ms (total {entry['importMs']}), "
                f"zip {entry['zipBytes']} B"
            )
        out.append(("cold start", name, value))
    return out


if __name__ == "__main__":  # pragma: no cover
    print(json.dumps(measure(2), indent=2))
