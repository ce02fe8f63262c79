"""One parse of each botocore model file per test process.

Every test builds fresh boto3 sessions (``reset_shared_caches``, moto's
``mock_aws``), and each new session's loader parses the service models'
JSON again: about two seconds of a typical moto test's setup. botocore
already hands one loader's callers the same model objects; this makes
that cache process-wide, keyed by the loader's search paths, so a model
is parsed once per test process. Tests only; functions are unaffected.
"""

import functools
import threading
from typing import Any, Callable, Dict, Tuple

from botocore import loaders

_CACHE: Dict[Tuple[Any, ...], Any] = {}
_LOCK = threading.Lock()
_INSTALLED = False


def _shared(name: str) -> Callable[..., Any]:
    original = getattr(loaders.Loader, name)

    @functools.wraps(original)
    def load(self: loaders.Loader, *args: Any, **kwargs: Any) -> Any:
        key = (
            name,
            tuple(self.search_paths),
            args,
            tuple(sorted(kwargs.items())),
        )
        try:
            return _CACHE[key]
        except KeyError:
            pass
        value = original(self, *args, **kwargs)
        with _LOCK:
            return _CACHE.setdefault(key, value)

    return load


def install() -> None:
    """Share parsed models across every loader of this process."""
    global _INSTALLED
    if _INSTALLED:
        return
    for name in ("load_service_model", "load_data_with_path"):
        setattr(loaders.Loader, name, _shared(name))
    _INSTALLED = True
