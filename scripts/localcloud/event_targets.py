"""EventBridge targets moto does not deliver: Lambda and SNS.

moto's ``Rule.send_to_targets`` delivers to logs, SQS and event buses and
raises ``NotImplementedError`` for anything else. The local cloud's rules
(from ``eventbridge-stack.yaml``) target an SNS topic and a function, so
:func:`install` wraps it: Lambda targets get an asynchronous (``Event``)
invocation, SNS targets a publish of the event JSON; other targets still
go to moto. A target's ``InputTransformer`` is applied as in AWS.

Like AWS, and unlike moto, only ENABLED rules with an ``EventPattern``
that matches receive an event: a schedule rule (no pattern) never gets
put events, a DISABLED rule gets nothing. Rules managed by EventBridge
itself (archives) keep moto's matching.
"""

import copy
import json
from typing import Any, Dict

from moto.events.models import Rule
from moto.events.utils import EventTemplateParser

_ORIGINAL = Rule.send_to_targets


def _payload(target: Dict[str, Any], event: Dict[str, Any]) -> str:
    if "Input" in target:
        return target["Input"]
    transformer = target.get("InputTransformer")
    if transformer:
        # AWS's input transformer, <aws.events.event.json> included.
        return json.dumps(
            EventTemplateParser.parse(
                input_template=transformer.get("InputTemplate"),
                input_paths_map=transformer.get("InputPathsMap") or {},
                event=event,
            )
        )
    return json.dumps(event)


def _deliver(rule: Any, target: Dict[str, Any], event: Dict) -> None:
    arn = target["Arn"]
    parts = arn.split(":")
    service, region, account = parts[2], parts[3], parts[4]
    if service == "lambda":
        from moto.awslambda.utils import get_backend

        get_backend(account, region).invoke(
            function_name=arn,
            qualifier=None,
            body=_payload(target, event),
            headers={"X-Amz-Invocation-Type": "Event"},
            response_headers={},
        )
    else:
        from moto.sns.models import sns_backends

        sns_backends[account][region].publish(
            message=_payload(target, event), arn=arn
        )


def receives(rule: Rule, event: Dict) -> bool:
    """Whether AWS would deliver a put ``event`` to ``rule``'s targets."""
    if rule.state != "ENABLED":
        return False
    if not rule.managed_by and not rule.event_pattern.get_pattern():
        return False  # a schedule rule
    return bool(rule.event_pattern.matches_event(event))


def _send_to_targets(
    self: Rule, original_event: Dict, transform_input: bool = True
) -> None:
    if not receives(self, original_event):
        return
    ours = [
        t for t in self.targets if t["Arn"].split(":")[2] in ("lambda", "sns")
    ]
    if ours:
        for target in ours:
            _deliver(self, target, original_event)
    others = [t for t in self.targets if t not in ours]
    if others:
        rest = copy.copy(self)
        rest.targets = others
        _ORIGINAL(rest, original_event, transform_input)


def install() -> None:
    """Deliver Lambda and SNS targets."""
    Rule.send_to_targets = _send_to_targets


def uninstall() -> None:
    """Restore moto's delivery."""
    Rule.send_to_targets = _ORIGINAL
