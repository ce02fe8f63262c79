"""powertools Logger, set up once per function."""

import os
from typing import Optional

from aws_lambda_powertools import Logger

_loggers: dict = {}


def get_logger(service: Optional[str] = None) -> Logger:
    """A structured JSON logger for ``service`` (default: the function)."""
    name = service or os.environ.get("POWERTOOLS_SERVICE_NAME", "drs-orch")
    logger = _loggers.get(name)
    if logger is None:
        logger = Logger(service=name)
        _loggers[name] = logger
    return logger
