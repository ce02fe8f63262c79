"""powertools Logger, set up once per function."""

import os
from typing import Optional

from aws_lambda_powertools import Logger

# One Logger per process: powertools keeps the appended keys (the
# correlation id) per service, so loggers of different services would
# each miss the id set by another module.
_logger: Optional[Logger] = None


def get_logger(service: Optional[str] = None) -> Logger:
    """The function's structured JSON logger.

    Its service is ``POWERTOOLS_SERVICE_NAME`` (the function), else the
    name given on the first call; every module shares it, so a
    correlation id set once tags every module's lines.
    """
    global _logger
    if _logger is None:
        name = (
            os.environ.get("POWERTOOLS_SERVICE_NAME") or service or "drs-orch"
        )
        _logger = Logger(service=name)
    return _logger
