"""Execution notifications: formatted here, published to SNS, per plan.

One place formats every message people read (subject, plain text, HTML)
for both senders: the execution lifecycle (``publish_execution_event`` /
``notify_execution``) and the notification-formatter function.

A notification failure never fails the execution: it is logged and
swallowed here, in one place.

Per plan and per execution (issue 20): every message carries the
``planId`` message attribute, so a plan's ``notificationEmail`` is an
email subscription of the execution topic filtered to that plan
(:func:`sync_plan_subscription`, kept with the plan by the
data-management handler); an execution started with a ``topicArn``
(``shared.console_inputs.caller_topic``: this account and region, a name
starting with the project prefix) has its events published there too.
"""

import html
import json
from typing import Any, Dict, List, Optional, Tuple

from shared.aws_clients import get_client
from shared.config import get_settings
from shared.logging_setup import get_logger
from shared.responses import dumps, to_jsonable
from shared.wave_jobs import wave_job_ids

logger = get_logger("notifications")

EVENT_SUBJECTS = {
    "EXECUTION_STARTED": "DR execution started",
    "EXECUTION_PAUSED": "DR execution paused - action required",
    "EXECUTION_RESUMED": "DR execution resumed",
    "EXECUTION_COMPLETED": "DR execution completed",
    "EXECUTION_FAILED": "DR execution failed",
    "EXECUTION_CANCELLED": "DR execution cancelled",
    "EXECUTION_TIMEOUT": "DR execution timed out",
    "DRS_LAUNCH_RESULT": "DRS recovery launch result",
    "DRS_EVENT": "DRS event",
    "PLAN_READINESS_CHANGED": "DR plan readiness changed",
}

# Record attributes worth telling a person, in reading order.
SUMMARY_FIELDS: Tuple[Tuple[str, str], ...] = (
    ("executionId", "Execution"),
    ("planName", "Plan"),
    ("planId", "Plan id"),
    ("executionType", "Type"),
    ("status", "Status"),
    ("initiatedBy", "Initiated by"),
    ("pausedBeforeWave", "Paused before wave (position in the plan)"),
    ("waitingWaves", "Waiting for approval"),
    ("statusReason", "Reason"),
    ("error", "Error"),
    ("startTime", "Started"),
    ("endTime", "Ended"),
)
SUBJECT_LIMIT = 100  # SNS refuses longer subjects


def execution_details(record: Dict[str, Any]) -> Dict[str, Any]:
    """The notification details of an execution record (no secrets)."""
    record = to_jsonable(record)
    details = {
        key: record[key]
        for key, _label in SUMMARY_FIELDS
        if record.get(key) not in (None, "")
    }
    waves = record.get("waves") or []
    if waves:
        details["waves"] = [
            {
                "waveNumber": w.get("waveNumber"),
                "waveName": w.get("waveName"),
                "status": w.get("status"),
                "jobId": w.get("jobId"),
                "jobIds": wave_job_ids(w),
            }
            for w in waves
        ]
    return details


def resume_instructions(execution_id: str) -> List[str]:
    """How to resume a paused execution (REST and direct invocation)."""
    return [
        f"POST /executions/{execution_id}/resume",
        "aws lambda invoke --function-name <execution-handler> --payload "
        '\'{"operation": "resume_execution", "body": {"executionId": "'
        + execution_id
        + "\"}}' out.json",
    ]


def _summary_lines(details: Dict[str, Any]) -> List[Tuple[str, str]]:
    labels = dict(SUMMARY_FIELDS)
    lines = [
        (labels[key], _display(key, details[key]))
        for key, _label in SUMMARY_FIELDS
        if key in details
    ]
    for key in sorted(details):
        if key not in labels and key != "waves":
            lines.append((key, str(details[key])))
    return lines


def _display(key: str, value: Any) -> str:
    if key == "pausedBeforeWave" and isinstance(value, int):
        # Stored as the zero-based wave index (the state's
        # ``paused_before_wave``); people count from 1.
        return str(value + 1)
    return str(value)


def _wave_lines(details: Dict[str, Any]) -> List[str]:
    return [
        f"Wave {w.get('waveNumber')} {w.get('waveName') or ''}: "
        f"{w.get('status')}" + _jobs_text(w.get("jobIds") or [])
        for w in details.get("waves") or []
    ]


def _jobs_text(job_ids: List[str]) -> str:
    if not job_ids:
        return ""
    if len(job_ids) == 1:
        return f" (job {job_ids[0]})"
    return f" ({len(job_ids)} jobs: {', '.join(job_ids)})"


def build_message(event_type: str, details: Dict[str, Any]) -> Dict[str, Any]:
    """Subject, plain text and HTML of an execution event."""
    details = to_jsonable(details)
    title = EVENT_SUBJECTS.get(event_type, event_type)
    plan = details.get("planName") or details.get("planId") or "unknown plan"
    subject = f"{title}: {plan}"
    pairs = _summary_lines(details)
    waves = _wave_lines(details)
    resume: List[str] = []
    if event_type == "EXECUTION_PAUSED":
        resume = resume_instructions(str(details.get("executionId", "<id>")))
    text = [title, ""] + [f"{label}: {value}" for label, value in pairs]
    if waves:
        text += ["", "Waves:"] + [f"  {line}" for line in waves]
    if resume:
        text += ["", "To resume the execution, call one of:"]
        text += [f"  {line}" for line in resume]
    esc = html.escape
    body = [f"<h2>{esc(title)}</h2>", "<table>"]
    body += [
        f"<tr><th align='left'>{esc(label)}</th><td>{esc(value)}</td></tr>"
        for label, value in pairs
    ]
    body.append("</table>")
    if waves:
        body.append(
            "<ul>" + "".join(f"<li>{esc(w)}</li>" for w in waves) + "</ul>"
        )
    if resume:
        body.append("<p><b>To resume the execution</b>, call one of:</p>")
        body += [f"<pre>{esc(line)}</pre>" for line in resume]
    return {
        "subject": _clip(subject),
        "text": "\n".join(text),
        "html": "\n".join(body),
    }


def _clip(subject: str) -> str:
    # SNS subjects: ASCII printable, no newlines, at most 100 characters.
    cleaned = "".join(ch if " " <= ch <= "~" else "?" for ch in subject)
    return cleaned[:SUBJECT_LIMIT]


def sns_payload(
    event_type: str, details: Dict[str, Any], message: Dict[str, Any]
) -> str:
    """An SNS ``MessageStructure=json`` body: text for people, JSON for
    machines (``email-json``, SQS, Lambda, HTTPS subscribers)."""
    machine = dumps(
        {
            "eventType": event_type,
            "subject": message["subject"],
            "text": message["text"],
            "html": message["html"],
            "details": details,
        }
    )
    return dumps(
        {
            "default": message["text"],
            "email": message["text"],
            "email-json": machine,
            "sqs": machine,
            "lambda": machine,
            "http": machine,
            "https": machine,
        }
    )


def publish_message(
    event_type: str,
    details: Dict[str, Any],
    sns_client: Optional[Any] = None,
    topic_arn: Optional[str] = None,
) -> bool:
    """Format and publish one event; True when it was sent. Never raises.

    The plan id (when known) and event type are message attributes so
    subscribers can filter per plan.
    """
    topic = topic_arn or get_settings().execution_notifications_topic_arn
    if not topic:
        logger.info(
            "no notification topic configured", extra={"event": event_type}
        )
        return False
    try:
        details = to_jsonable(details)
        message = build_message(event_type, details)
        attributes = {
            "eventType": {"DataType": "String", "StringValue": event_type}
        }
        if details.get("planId"):
            attributes["planId"] = {
                "DataType": "String",
                "StringValue": str(details["planId"]),
            }
        (sns_client or get_client("sns")).publish(
            TopicArn=topic,
            Subject=message["subject"],
            Message=sns_payload(event_type, details, message),
            MessageStructure="json",
            MessageAttributes=attributes,
        )
    except Exception:  # noqa: BLE001 - notifications never fail executions
        logger.exception("notification failed", extra={"event": event_type})
        return False
    return True


def _caller_topic(
    details: Dict[str, Any], record: Optional[Dict[str, Any]]
) -> Optional[str]:
    """The execution's own ``topicArn`` (recorded at the start), read
    from ``record`` or, for events built from the state, the record of
    ``details["executionId"]``; None when there is none or unreadable."""
    if record is not None:
        return record.get("topicArn") or None
    execution_id = details.get("executionId")
    if not execution_id:
        return None
    try:
        # Imported here: execution_records is not needed by every sender.
        from shared.execution_records import get_execution

        return get_execution(str(execution_id)).get("topicArn") or None
    except Exception:  # noqa: BLE001 - notifications never fail executions
        logger.warning(
            "execution topic not read", extra={"executionId": execution_id}
        )
        return None


def _publish_both(
    event_type: str,
    details: Dict[str, Any],
    sns_client: Optional[Any],
    topic_arn: Optional[str],
    record: Optional[Dict[str, Any]] = None,
) -> bool:
    """To ``topic_arn`` alone when given; else to the deployment's topic
    and, once that was sent, to the execution's own topic too."""
    sent = publish_message(event_type, details, sns_client, topic_arn)
    if topic_arn or not sent:
        return sent
    own = _caller_topic(details, record)
    if own and own != get_settings().execution_notifications_topic_arn:
        publish_message(event_type, details, sns_client, own)
    return sent


def publish_execution_event(
    event_type: str,
    details: Dict[str, Any],
    sns_client: Optional[Any] = None,
    topic_arn: Optional[str] = None,
) -> bool:
    """Publish an execution event; True when it was sent.

    ``details`` should carry executionId, planId and planName.
    """
    return _publish_both(event_type, details, sns_client, topic_arn)


def notify_execution(
    event_type: str,
    record: Dict[str, Any],
    sns_client: Optional[Any] = None,
    topic_arn: Optional[str] = None,
) -> bool:
    """Publish an event about an execution record (never raises).

    The wave engine should call this on its PAUSED, COMPLETED, FAILED and
    TIMEOUT transitions with the record ``transition_status`` returned.
    """
    try:
        details = execution_details(record)
    except Exception:  # noqa: BLE001 - notifications never fail executions
        logger.exception("notification details failed")
        return False
    return _publish_both(
        event_type, details, sns_client, topic_arn, record or {}
    )


def plan_filter_policy(plan_id: str) -> str:
    """The subscription filter of a plan's email: its ``planId``
    message attribute (set on every message by :func:`publish_message`)."""
    return json.dumps({"planId": [str(plan_id)]})


def sync_plan_subscription(
    plan_id: str,
    email: Optional[str],
    previous: Optional[Dict[str, Any]] = None,
    sns_client: Optional[Any] = None,
) -> Optional[str]:
    """Make the plan's email subscription match ``email``; returns the
    subscription ARN to keep on the plan (None: none).

    ``previous`` is the stored plan (its ``notificationEmail`` and
    ``notificationSubscriptionArn``). A new email subscribes (SNS sends
    the confirmation mail; the subscription is filtered to the plan), an
    unchanged one has its filter set again. The caller unsubscribes the
    previous one once the plan is saved with another
    (:func:`remove_plan_subscription`). SNS errors raise (the caller
    maps them: nothing is saved); no topic configured: None.
    """
    previous = previous or {}
    old_email = previous.get("notificationEmail")
    old_arn = previous.get("notificationSubscriptionArn")
    topic = get_settings().execution_notifications_topic_arn
    if not topic:
        logger.info("no notification topic: no plan subscription")
        return None
    sns = sns_client or get_client("sns")
    if email and email == old_email and _is_arn(old_arn):
        sns.set_subscription_attributes(
            SubscriptionArn=old_arn,
            AttributeName="FilterPolicy",
            AttributeValue=plan_filter_policy(plan_id),
        )
        return old_arn
    arn = None
    if email:
        arn = sns.subscribe(
            TopicArn=topic,
            Protocol="email",
            Endpoint=email,
            Attributes={
                "FilterPolicy": plan_filter_policy(plan_id),
                "FilterPolicyScope": "MessageAttributes",
            },
            ReturnSubscriptionArn=True,
        )["SubscriptionArn"]
    return arn


def remove_plan_subscription(
    plan: Dict[str, Any], sns_client: Optional[Any] = None
) -> None:
    """Unsubscribe the plan's email (never raises: an unconfirmed
    subscription SNS already dropped is no error to the caller)."""
    arn = plan.get("notificationSubscriptionArn")
    if not _is_arn(arn):
        return
    try:
        (sns_client or get_client("sns")).unsubscribe(SubscriptionArn=arn)
    except Exception:  # noqa: BLE001 - the plan change stands
        logger.warning("unsubscribe failed", extra={"subscription": arn})


def _is_arn(value: Any) -> bool:
    # SNS answers "pending confirmation" for an unconfirmed subscription
    # unless asked for the ARN; only an ARN can be changed or removed.
    return isinstance(value, str) and value.startswith("arn:")
