"""The drill's and bench's direct invocations name their caller in the
event (the functions ignore a body ``initiatedBy``; issue 15 defect 3)."""

import io
import json

from localcloud.drill.invoker import Invoker


class _Lambda:
    def __init__(self):
        self.payloads = []

    def invoke(self, FunctionName, InvocationType, Payload):
        self.payloads.append(json.loads(Payload))
        return {"Payload": io.BytesIO(b'{"executionId": "ex-1"}')}


def test_the_caller_travels_in_the_event_not_the_body():
    # Given the drill's invoker
    client = _Lambda()
    api = Invoker(client, caller="drill.sh")
    # When it starts an execution
    api.execution("execute_recovery_plan", {"planId": "p1"})
    # Then the event names the caller and the body claims nobody
    (event,) = client.payloads
    assert event["caller"] == "drill.sh"
    assert "initiatedBy" not in event["body"]


def test_without_a_caller_the_event_names_none():
    client = _Lambda()
    Invoker(client).execution("get_execution_details", {"executionId": "x"})
    assert "caller" not in client.payloads[0]
