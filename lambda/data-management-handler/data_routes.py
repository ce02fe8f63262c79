"""The data-management-handler's operation registry."""

from shared.api import Router

router = Router("data-management-handler")
