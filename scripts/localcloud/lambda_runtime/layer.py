"""The "runtime layer": only what AWS gives a Python function.

The AWS Python runtime provides boto3/botocore (and their dependencies);
the public Powertools layer (built with every extra) adds
``aws_lambda_powertools``, ``typing_extensions`` and the Tracer's
``aws_xray_sdk`` (with ``wrapt``). Workers see exactly these, as symlinks
into the current interpreter's site-packages — never moto, PyYAML or
pytest — so a dependency missing from a zip fails locally as it would in
AWS.
"""

import importlib.util
import os
from pathlib import Path
from typing import Iterable, List

# Top-level import names AWS provides (runtime + Powertools layer).
RUNTIME_MODULES = (
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "dateutil",
    "urllib3",
    "six",
    "aws_lambda_powertools",
    "typing_extensions",
    "aws_xray_sdk",
    "wrapt",
)
# Distribution names whose metadata (``*.dist-info``) is exposed too, so
# ``importlib.metadata.version(...)`` works as it does in AWS.
RUNTIME_DISTRIBUTIONS = (
    "boto3",
    "botocore",
    "jmespath",
    "s3transfer",
    "python_dateutil",
    "urllib3",
    "six",
    "aws_lambda_powertools",
    "typing_extensions",
    "aws_xray_sdk",
    "wrapt",
)


class LayerError(RuntimeError):
    """A module the runtime layer needs is not installed."""


def _module_path(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise LayerError(f"runtime layer: module {name} is not installed")
    origin = Path(spec.origin)
    return origin.parent if origin.name == "__init__.py" else origin


def build_runtime_layer(
    dest: Path, modules: Iterable[str] = RUNTIME_MODULES
) -> List[str]:
    """Fill ``dest`` with symlinks to the runtime modules; their names."""
    dest.mkdir(parents=True, exist_ok=True)
    linked: List[str] = []
    site_dirs = set()
    for name in modules:
        source = _module_path(name)
        site_dirs.add(source.parent)
        _link(source, dest / source.name)
        linked.append(source.name)
    wanted = {d.lower() for d in RUNTIME_DISTRIBUTIONS}
    for site in site_dirs:
        for entry in site.glob("*.dist-info"):
            dist = entry.name.split("-", 1)[0].lower()
            if dist in wanted:
                _link(entry, dest / entry.name)
    return linked


def _link(source: Path, target: Path) -> None:
    if target.is_symlink() or target.exists():
        if target.is_symlink() and os.readlink(target) == str(source):
            return
        target.unlink()
    target.symlink_to(source)
