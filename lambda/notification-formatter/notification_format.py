"""Turn execution and DRS events into notifications people read.

Accepted events:

* direct invoke ``{"eventType": "EXECUTION_PAUSED", "executionId": ...}``
  (details read from the execution record), optionally with ``details``
  (used as given) or ``execution`` (a record);
* EventBridge DRS events (``source: aws.drs``), e.g. "DRS Source Server
  Launch Result";
* EventBridge Step Functions status changes (``source: aws.states``) of
  the orchestration state machine (execution name = execution id).

Formatting itself lives in ``shared.notifications`` (one place).
"""

from typing import Any, Dict, Optional, Tuple

from shared.config import get_settings
from shared.errors import NotFoundError, ValidationError
from shared.execution_records import get_execution
from shared.notifications import (
    EVENT_SUBJECTS,
    execution_details,
    publish_message,
)

# Step Functions execution status -> execution event type.
SFN_EVENT_TYPES = {
    "RUNNING": "EXECUTION_STARTED",
    "SUCCEEDED": "EXECUTION_COMPLETED",
    "FAILED": "EXECUTION_FAILED",
    "TIMED_OUT": "EXECUTION_TIMEOUT",
    "ABORTED": "EXECUTION_CANCELLED",
}


def _execution_event(
    event: Dict[str, Any], table: Optional[Any]
) -> Tuple[str, Dict[str, Any]]:
    event_type = str(event["eventType"]).upper()
    if event_type not in EVENT_SUBJECTS:
        raise ValidationError(
            f"eventType must be one of {', '.join(sorted(EVENT_SUBJECTS))}",
            field="eventType",
        )
    if isinstance(event.get("details"), dict):
        return event_type, dict(event["details"])
    if isinstance(event.get("execution"), dict):
        return event_type, execution_details(event["execution"])
    execution_id = event.get("executionId")
    if not execution_id:
        raise ValidationError(
            "executionId, details or execution is required",
            field="executionId",
        )
    return event_type, execution_details(get_execution(execution_id, table))


def _drs_event(event: Dict[str, Any]) -> Tuple[str, Dict[str, Any]]:
    detail = event.get("detail") or {}
    details: Dict[str, Any] = {
        "eventName": event.get("detail-type", "DRS event"),
        "account": event.get("account"),
        "region": event.get("region"),
        "time": event.get("time"),
    }
    for key, value in detail.items():
        details[key] = value
    if event.get("resources"):
        details["resources"] = ", ".join(event["resources"])
    kind = (
        "DRS_LAUNCH_RESULT"
        if "Launch Result" in str(event.get("detail-type"))
        else "DRS_EVENT"
    )
    return kind, {k: v for k, v in details.items() if v is not None}


def _sfn_event(
    event: Dict[str, Any], table: Optional[Any]
) -> Tuple[str, Dict[str, Any]]:
    detail = event.get("detail") or {}
    status = detail.get("status")
    event_type = SFN_EVENT_TYPES.get(status)
    if event_type is None:
        raise ValidationError(
            f"unsupported Step Functions status {status}", field="status"
        )
    execution_id = detail.get("name")
    try:
        details = execution_details(get_execution(execution_id, table))
    except NotFoundError:
        details = {"executionId": execution_id}
    details["stateMachineStatus"] = status
    if detail.get("error"):
        details["error"] = detail["error"]
    if detail.get("cause"):
        details["statusReason"] = str(detail["cause"])[:500]
    return event_type, details


def classify(
    event: Dict[str, Any], table: Optional[Any] = None
) -> Tuple[str, Dict[str, Any], bool]:
    """(event type, details, is a DRS alert) of an incoming event."""
    if not isinstance(event, dict):
        raise ValidationError("event must be a JSON object", field="event")
    source = event.get("source")
    if source == "aws.drs":
        kind, details = _drs_event(event)
        return kind, details, True
    if source == "aws.states":
        kind, details = _sfn_event(event, table)
        return kind, details, False
    if "eventType" in event:
        kind, details = _execution_event(event, table)
        return kind, details, False
    raise ValidationError(
        "event must be an execution event (eventType) or an EventBridge "
        "event from aws.drs or aws.states",
        field="eventType",
    )


def format_and_publish(
    event: Dict[str, Any],
    sns_client: Optional[Any] = None,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """Publish the notification of one event; says what was sent."""
    kind, details, is_alert = classify(event, table)
    settings = get_settings()
    topic = settings.execution_notifications_topic_arn
    if is_alert and settings.drs_alerts_topic_arn:
        topic = settings.drs_alerts_topic_arn
    sent = publish_message(kind, details, sns_client, topic)
    return {"eventType": kind, "published": sent, "topicArn": topic}
