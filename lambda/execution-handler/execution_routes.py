"""The execution-handler's operation and action registry."""

from shared.api import Router

router = Router("execution-handler")
