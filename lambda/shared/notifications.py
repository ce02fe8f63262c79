"""Execution notifications to the SNS topic, filterable per plan.

A notification failure never fails the execution: it is logged and
swallowed here, in one place.
"""

from typing import Any, Dict, Optional

from shared.aws_clients import get_client
from shared.config import get_settings
from shared.logging_setup import get_logger
from shared.responses import dumps

logger = get_logger("notifications")

EVENT_SUBJECTS = {
    "EXECUTION_STARTED": "DR execution started",
    "EXECUTION_PAUSED": "DR execution paused - action required",
    "EXECUTION_RESUMED": "DR execution resumed",
    "EXECUTION_COMPLETED": "DR execution completed",
    "EXECUTION_FAILED": "DR execution failed",
    "EXECUTION_CANCELLED": "DR execution cancelled",
    "EXECUTION_TIMEOUT": "DR execution timed out",
}


def build_message(event_type: str, details: Dict[str, Any]) -> Dict[str, Any]:
    """Subject and plain-text body of an execution event."""
    plan = details.get("planName") or details.get("planId") or "unknown plan"
    subject = f"{EVENT_SUBJECTS.get(event_type, event_type)}: {plan}"
    lines = [f"{key}: {value}" for key, value in sorted(details.items())]
    if event_type == "EXECUTION_PAUSED":
        lines.append(
            "Resume with POST /executions/{id}/resume or the direct "
            'operation {"operation": "resume_execution", "body": '
            '{"executionId": "<id>"}}'.replace(
                "{id}", str(details.get("executionId", "{id}"))
            )
        )
    return {"subject": subject[:100], "text": "\n".join(lines)}


def publish_execution_event(
    event_type: str,
    details: Dict[str, Any],
    sns_client: Optional[Any] = None,
    topic_arn: Optional[str] = None,
) -> bool:
    """Publish an execution event; True when it was sent.

    ``details`` should carry executionId, planId and planName. The plan id
    is a message attribute so subscribers can filter per plan.
    """
    topic = topic_arn or get_settings().execution_notifications_topic_arn
    if not topic:
        logger.info("no notification topic configured", extra=details)
        return False
    message = build_message(event_type, details)
    attributes = {
        "eventType": {"DataType": "String", "StringValue": event_type}
    }
    if details.get("planId"):
        attributes["planId"] = {
            "DataType": "String",
            "StringValue": str(details["planId"]),
        }
    try:
        (sns_client or get_client("sns")).publish(
            TopicArn=topic,
            Subject=message["subject"],
            Message=dumps(
                {
                    "default": message["text"],
                    "eventType": event_type,
                    "details": details,
                }
            ),
            MessageAttributes=attributes,
        )
    except Exception:  # noqa: BLE001 - notifications never fail executions
        logger.exception("notification failed", extra={"event": event_type})
        return False
    return True
