"""notification-formatter: execution and DRS events -> SNS messages.

Adapter only: the formatting lives in ``shared.notifications`` and the
event parsing in ``notification_format``.
"""

from typing import Any, Dict

from notification_format import format_and_publish
from shared.errors import DomainError
from shared.observability import instrument_handler
from shared.responses import direct_error


@instrument_handler
def lambda_handler(event: Dict[str, Any], context: Any) -> Any:
    """Direct invoke or EventBridge event; a bad event answers an error
    body (no retry would fix it)."""
    try:
        return format_and_publish(event)
    except DomainError as error:
        return direct_error(
            error.code, error.message, error.status, **error.details
        )
