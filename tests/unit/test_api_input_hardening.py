"""Issue 15, defect 6 (a, c): bad input is a 400, never a 500 or a crash.

* ~40 KB of nested arrays (RecursionError in ``json``) and JSON nested
  deeper than DynamoDB's 32 levels, as the body of every POST/PUT of
  ``rbac.ENDPOINTS`` (REST) and of its direct operation;
* a direct event whose ``body`` is not an object, whose ``queryParams`` or
  ``pathParameters`` are not objects, or whose ``operation`` is not a name:
  a direct error body (VALIDATION_ERROR, the field), no FunctionError.

Nothing reaches DynamoDB. Plus the shared text rules themselves.
"""

import json

import pytest

from shared import rbac, validation
from shared.errors import ValidationError
from tests.helpers import api_event, load_handler

HANDLERS = sorted({e.handler for e in rbac.ENDPOINTS})
WRITES = [e for e in rbac.ENDPOINTS if e.method in ("POST", "PUT")]
SERVER_ID = "s-0123456789abcdef0"


def _nested(depth):
    """``depth`` nested lists, built without recursion."""
    value = []
    for _ in range(depth - 1):
        value = [value]
    return value


def _path(endpoint):
    return endpoint.path.replace("{id}", "some-id").replace(
        "{serverId}", SERVER_ID
    )


def _snapshot(tables):
    return {
        env: table.scan(ConsistentRead=True)["Items"]
        for env, table in tables.items()
    }


@pytest.fixture
def seeded(ddb_tables):
    """The tables with one group and one plan in them."""
    ddb_tables["PROTECTION_GROUPS_TABLE"].put_item(
        Item={"groupId": "some-id", "groupName": "G", "version": 1}
    )
    ddb_tables["RECOVERY_PLANS_TABLE"].put_item(
        Item={"planId": "some-id", "planName": "P", "version": 1}
    )
    return ddb_tables


def _rest(endpoint, raw_body):
    event = api_event(endpoint.method, _path(endpoint))
    event["body"] = raw_body
    handler = load_handler(endpoint.handler).lambda_handler
    response = handler(event, None)
    return response["statusCode"], json.loads(response["body"])


BODIES = {
    "40KB-of-arrays": "[" * 20_000 + "]" * 20_000,
    "40KB-unclosed": "[" * 40_000,
    "object-33-deep": json.dumps({"planId": _nested(32)}),
}


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("endpoint", WRITES, ids=[e.operation for e in WRITES])
def test_rest_deeply_nested_body_is_a_400(seeded, endpoint, kind):
    before = _snapshot(seeded)
    status, body = _rest(endpoint, BODIES[kind])
    assert (status, body["error"], body["field"]) == (
        400,
        "VALIDATION_ERROR",
        "body",
    ), body
    assert _snapshot(seeded) == before


@pytest.mark.parametrize("endpoint", WRITES, ids=[e.operation for e in WRITES])
def test_direct_deeply_nested_body_is_a_400(seeded, endpoint):
    before = _snapshot(seeded)
    handler = load_handler(endpoint.handler).lambda_handler
    answer = handler(
        {
            "operation": endpoint.operation,
            "body": {"id": "some-id", "x": _nested(20_000)},
        },
        None,
    )
    assert answer == {
        "error": "VALIDATION_ERROR",
        "message": "body is nested deeper than 32 levels",
        "statusCode": 400,
        "field": "body",
    }
    assert _snapshot(seeded) == before


def test_nesting_up_to_32_levels_is_still_parsed():
    assert validation.parse_json_body(json.dumps({"a": _nested(31)})) == {
        "a": _nested(31)
    }


MALFORMED = [
    ({"body": 5}, "body"),
    ({"body": "5"}, "body"),
    ({"body": [1, 2]}, "body"),
    ({"body": True}, "body"),
    ({"queryParams": [1, 2]}, "queryParams"),
    ({"queryParams": "limit=5"}, "queryParams"),
    ({"queryParams": {"x": _nested(40)}}, "queryParams"),
    ({"pathParameters": 7}, "pathParameters"),
    ({"caller": {"arn": "x"}}, "caller"),
]


@pytest.mark.parametrize("handler_name", HANDLERS)
@pytest.mark.parametrize(
    "extra, field",
    MALFORMED,
    ids=[f"{f}-{type(e[f]).__name__}" for e, f in MALFORMED],
)
def test_malformed_direct_event_is_a_direct_400(
    seeded, handler_name, extra, field
):
    # Given any operation of the handler
    operation = next(
        e.operation for e in rbac.ENDPOINTS if e.handler == handler_name
    )
    before = _snapshot(seeded)
    # When it is invoked with a malformed part
    answer = load_handler(handler_name).lambda_handler(
        {"operation": operation, **extra}, None
    )
    # Then the answer is a direct error naming the part
    assert (answer["error"], answer["statusCode"], answer["field"]) == (
        "VALIDATION_ERROR",
        400,
        field,
    ), answer
    assert _snapshot(seeded) == before


@pytest.mark.parametrize("handler_name", HANDLERS)
@pytest.mark.parametrize("operation", [["list"], {"a": 1}, 5, None])
def test_direct_operation_that_is_not_a_name(seeded, handler_name, operation):
    answer = load_handler(handler_name).lambda_handler(
        {"operation": operation}, None
    )
    assert (answer["error"], answer["statusCode"], answer["field"]) == (
        "VALIDATION_ERROR",
        400,
        "operation",
    )


def test_direct_id_that_is_an_object_is_a_400(seeded):
    handler = load_handler("execution-handler").lambda_handler
    answer = handler(
        {
            "operation": "get_execution_details",
            "body": {"executionId": {"a": 1}},
        },
        None,
    )
    assert (answer["error"], answer["field"]) == (
        "VALIDATION_ERROR",
        "executionId",
    )


# The shared rules ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["a\x00", "a\x07", "a\x7f", "a\x9b", "a\ud800", "a\u202a"]
    + ["a\u202b", "a\u202c", "a\u202d", "a\u202e"]
    + ["a\u2066", "a\u2067", "a\u2068", "a\u2069", "a\nb"],
)
def test_check_text_refuses_controls_and_bidi(text):
    with pytest.raises(ValidationError) as raised:
        validation.check_text(text, "name", 100)
    assert raised.value.details["field"] == "name"


def test_check_text_multiline_allows_line_breaks_only():
    assert validation.check_text("a\n\tb\r\n", "d", 10, multiline=True)
    with pytest.raises(ValidationError):
        validation.check_text("a\n\x00", "d", 10, multiline=True)
    assert validation.check_text("Zürich 東京 ✓", "d", 20) == "Zürich 東京 ✓"


def test_identity_is_bounded_printable_text():
    assert validation.validate_identity("  ops@example.com ", "c") == (
        "ops@example.com"
    )
    assert len(validation.validate_identity("x" * 256, "c")) == 256
    for bad in ("x" * 257, "", "  ", "a\tb", "a\u200bb", 5, None):
        with pytest.raises(ValidationError):
            validation.validate_identity(bad, "c")


def test_tag_limits():
    assert validation.validate_tags({"k" * 128: "v" * 256})
    assert validation.validate_tags({"k": ""}) == {"k": ""}
    for bad in (
        {"k" * 129: "v"},
        {"k": "v" * 257},
        {f"k{i}": "v" for i in range(51)},
        {"k\x00": "v"},
    ):
        with pytest.raises(ValidationError) as raised:
            validation.validate_tags(bad, "serverSelectionTags")
        assert raised.value.details["field"] == "serverSelectionTags"
        assert "k" * 129 not in raised.value.message


def test_json_query_parameter_nesting():
    with pytest.raises(ValidationError) as raised:
        validation.parse_json_param("[" * 40_000, "tags")
    assert raised.value.details["field"] == "tags"
    with pytest.raises(ValidationError):
        validation.parse_json_param(json.dumps(_nested(40)), "tags")
    assert validation.parse_json_param('{"Tier": "Web"}', "tags") == {
        "Tier": "Web"
    }
