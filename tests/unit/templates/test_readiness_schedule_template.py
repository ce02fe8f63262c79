"""The readiness schedule: an EventBridge rule invoking the
query-handler's ``evaluate_readiness`` action, every 30 minutes by
default, off when the parameter says ``disabled``."""

import json

from tests.helpers import load_handler
from tests.unit.templates.cfn_helpers import load, resources


def test_rule_invokes_the_query_handler_action_every_30_minutes():
    # Given the EventBridge stack
    template = load("eventbridge-stack.yaml")
    rule = resources("eventbridge-stack.yaml", "AWS::Events::Rule")[
        "ReadinessScheduleRule"
    ]
    # Then its schedule is the parameter, every 30 minutes by default
    props = rule["Properties"]
    assert props["ScheduleExpression"] == {"Ref": "ReadinessSchedule"}
    default = template["Parameters"]["ReadinessSchedule"]["Default"]
    assert default == "rate(30 minutes)"
    # And it invokes the query-handler's registered action
    target = props["Targets"][0]
    assert target["Arn"] == {"Ref": "QueryHandlerFunctionArn"}
    action = json.loads(target["Input"])["action"]
    assert action == "evaluate_readiness"
    router = load_handler("query-handler").router
    assert action in router.actions


def test_rule_and_permission_exist_only_when_scheduled():
    # Given the condition of the rule and of its invoke permission
    template = load("eventbridge-stack.yaml")
    permission = template["Resources"]["ReadinessInvokePermission"]
    rule = template["Resources"]["ReadinessScheduleRule"]
    assert rule["Condition"] == permission["Condition"]
    condition = template["Conditions"][rule["Condition"]]
    # Then "disabled" and an empty value turn the schedule off
    compared = json.dumps(condition)
    assert '"disabled"' in compared and '""' in compared
    # And the master stack passes its parameter and the function
    nested = load("master-template.yaml")["Resources"]["EventBridgeStack"]
    params = nested["Properties"]["Parameters"]
    assert params["ReadinessSchedule"] == {"Ref": "ReadinessSchedule"}
    assert "QueryHandlerFunctionArn" in params
