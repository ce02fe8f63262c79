"""The request and response schemas of the API (``scripts/gen_openapi.py``).

The field *names* of each request body come from the code that refuses
unknown fields (``reject_unknown``): the tuples of
``shared.config_manifest``, ``group_validation``, ``tag_sync``,
``target_account_ops``, ``execution_start``... Their *types* cannot be
read mechanically (each validator checks its own), so ``FIELD_TYPES``
writes them here, once per field name. Query parameters are those the
operations read (``request.query``).
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import execution_preflight
import execution_start
import group_launch_config
import group_validation
import plan_validation
import recovery_instances
import tag_sync
import target_account_ops
from shared import config_manifest, statuses, wave_graph

Schema = Dict[str, Any]

TEXT_NAME: Schema = {"type": "string", "minLength": 1, "maxLength": 128}
TEXT: Schema = {"type": "string"}
BOOL: Schema = {"type": "boolean"}
INT: Schema = {"type": "integer"}
ACCOUNT_ID: Schema = {"type": "string", "pattern": r"^\d{12}$"}
SERVER_ID: Schema = {"type": "string", "pattern": r"^s-[0-9a-f]{17}$"}
TAGS: Schema = {
    "type": "object",
    "additionalProperties": {"type": "string", "maxLength": 256},
    "maxProperties": 50,
}


def strict(fields, types: Dict[str, Schema]) -> Schema:
    """An object of exactly ``fields`` (the code refuses others)."""
    return {
        "type": "object",
        "properties": {name: types[name] for name in fields},
        "additionalProperties": False,
    }


LAUNCH_CONFIG_TYPES: Dict[str, Schema] = {
    "subnetId": TEXT,
    "securityGroupIds": {"type": "array", "items": TEXT},
    "instanceType": TEXT,
    "instanceProfileName": TEXT,
    "copyPrivateIp": BOOL,
    "copyTags": BOOL,
    "licensing": {"type": "object"},
    "targetInstanceTypeRightSizingMethod": {
        "type": "string",
        "enum": list(group_validation.RIGHT_SIZING),
    },
    "launchDisposition": {
        "type": "string",
        "enum": list(group_validation.DISPOSITIONS),
    },
    "staticPrivateIp": TEXT,
}
SERVER_ENTRY_TYPES: Dict[str, Schema] = {
    **LAUNCH_CONFIG_TYPES,
    "sourceServerId": SERVER_ID,
    "useGroupDefaults": BOOL,
    "launchTemplate": {"type": "object"},
    "instanceId": TEXT,
    "instanceName": TEXT,
    "tags": {"type": "object"},
}
WAVE = strict(
    tuple(
        dict.fromkeys(
            config_manifest.WAVE_FIELDS
            + plan_validation.CONSOLE_WAVE_FIELDS
            + ("protectionGroupIds",)
        )
    ),
    {
        "waveNumber": {"type": "integer", "minimum": 0, "maximum": 10000},
        "waveName": TEXT_NAME,
        "protectionGroupId": TEXT,
        "pauseBeforeWave": BOOL,
        "dependsOnWaves": {"type": "array", "items": INT},
        "waveDescription": {"type": "string", "maxLength": 1024},
        "serverIds": {"type": "array", "items": SERVER_ID},
        "protectionGroupIds": {
            "type": "array",
            "items": TEXT,
            "maxItems": 20,
            "description": "the wave's groups: it recovers their union "
            "(all in one region); protectionGroupId is the first",
        },
    },
)

# One type per body field name, whatever the operation.
FIELD_TYPES: Dict[str, Schema] = {
    "groupName": TEXT_NAME,
    "planName": TEXT_NAME,
    "name": {**TEXT_NAME, "description": "the console's planName"},
    "notificationEmail": TEXT,
    "topicArn": {
        "type": "string",
        "description": "empty, this deployment's execution topic, or a "
        "<ProjectName>-* SNS topic of this account and region (the "
        "execution's events are also published there); else 400",
    },
    "accountName": TEXT_NAME,
    "description": {"type": "string", "maxLength": 1024},
    "region": TEXT,
    "regions": {"type": "array", "items": TEXT},
    "accountId": ACCOUNT_ID,
    "assumeRoleName": TEXT,
    "sourceServerIds": {"type": "array", "items": SERVER_ID},
    "serverSelectionTags": TAGS,
    "tags": TAGS,
    "launchConfig": strict(
        group_validation.LAUNCH_CONFIG_FIELDS, LAUNCH_CONFIG_TYPES
    ),
    "servers": {
        "type": "array",
        "items": strict(
            group_validation.SERVER_FIELDS
            + group_validation.CONSOLE_SERVER_FIELDS,
            SERVER_ENTRY_TYPES,
        ),
    },
    "version": INT,
    "waves": {"type": "array", "items": WAVE},
    "enabled": BOOL,
    "schedule": TEXT,
    "roleArn": TEXT,
    "externalId": TEXT,
    "isCurrentAccount": BOOL,
    "stagingAccounts": {"type": "array", "items": {}},
    "planId": TEXT,
    "groupId": TEXT,
    "serverId": TEXT,
    "sourceServerId": SERVER_ID,
    "useGroupDefaults": BOOL,
    "launchTemplate": {"type": "object"},
    "executionType": {
        "type": "string",
        "enum": list(statuses.EXECUTION_TYPES),
    },
    "initiatedBy": TEXT,
    "requestedBy": TEXT,
    "dryRun": BOOL,
    "rpoTargetSeconds": {
        "type": "integer",
        "nullable": True,
        "minimum": 1,
        "maximum": plan_validation.MAX_RPO_TARGET_SECONDS,
        "description": "the RPO target readiness holds replication lag "
        "to (WARNING when exceeded); null clears it",
    },
    "acceptRisks": {
        "type": "array",
        "items": {
            "type": "string",
            "enum": sorted(execution_preflight.RISK_NAMES),
        },
        "description": "readiness checks (case-insensitive) whose failing "
        "servers "
        "the start leaves out instead of answering 409 PLAN_NOT_READY; "
        "recorded on the execution with who accepted them",
    },
    "trigger": TEXT,
    "manifest": {"type": "object"},
    recovery_instances.CONFIRM_FIELD: TEXT,
}

_GROUP = group_validation.GROUP_FIELDS
_PLAN = plan_validation.PLAN_FIELDS
# The console's plan fields (its "name" is mapped by shared.console_inputs).
_CONSOLE_PLAN = ("name",) + plan_validation.CONSOLE_PLAN_FIELDS
_ACCOUNT = target_account_ops.FIELDS
# The body fields of each operation that takes a body.
BODY_FIELDS: Dict[str, Tuple[str, ...]] = {
    "create_protection_group": _GROUP,
    "update_protection_group": _GROUP + ("version", "groupId"),
    "resolve_protection_group_tags": (
        "region",
        "accountId",
        "serverSelectionTags",
        "tags",
    ),
    "apply_launch_configs": ("groupId",),
    "update_server_launch_config": group_launch_config.SERVER_BODY_FIELDS,
    "create_recovery_plan": _PLAN + _CONSOLE_PLAN,
    "update_recovery_plan": _PLAN + _CONSOLE_PLAN + ("version", "planId"),
    "handle_drs_tag_sync": ("regions", "accountId", "dryRun", "trigger"),
    "update_tag_sync_settings": tag_sync.SETTINGS_FIELDS + ("version",),
    "create_target_account": _ACCOUNT,
    "update_target_account": _ACCOUNT + ("version",),
    # dryRun and topicArn: the console's (shared.console_inputs)
    "execute_recovery_plan": execution_start.START_FIELDS
    + ("dryRun", "topicArn"),
    "terminate_recovery_instances": (recovery_instances.CONFIRM_FIELD,),
}
REQUIRED_BODY: Dict[str, List[str]] = {
    "create_protection_group": ["groupName", "region"],
    # planName, or the console's name
    "create_recovery_plan": ["waves"],
    "create_target_account": ["accountId", "accountName"],
    "execute_recovery_plan": ["planId"],
}
# The export document (or {"manifest", "dryRun"}, or the console's
# {"config", "dryRun"}) is posted as is.
OPEN_BODIES = {"import_configuration"}
# Bodies whose schema is given whole (a field name meaning something
# else there than in FIELD_TYPES).
BODY_SCHEMAS: Dict[str, Schema] = {}
# POSTs whose body is read by nobody (any object is accepted).
IGNORED_BODIES = {"cancel_execution", "pause_execution", "resume_execution"}

QueryParam = Tuple[str, Schema, bool]
_REGION_Q: List[QueryParam] = [
    ("region", TEXT, True),
    ("accountId", TEXT, False),
]
QUERY_PARAMS: Dict[str, List[QueryParam]] = {
    # The console's account selector (crud_routes account_scoped lists).
    "list_protection_groups": [("accountId", TEXT, False)],
    "list_recovery_plans": [("accountId", TEXT, False)],
    "list_executions": [
        ("planId", TEXT, False),
        ("accountId", TEXT, False),
        ("status", TEXT, False),
        ("limit", {"type": "integer", "minimum": 1}, False),
        ("nextToken", TEXT, False),
    ],
    "get_execution_job_logs": [("jobId", TEXT, False)],
    # One wave's server rows, a page at a time (issue 16: the rows are
    # records of their own; shared.server_records).
    "get_execution_waves": [
        ("waveNumber", TEXT, False),
        ("nextToken", TEXT, False),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, False),
    ],
    # A page of the recovery instances (without both: every one).
    "get_recovery_instances": [
        ("nextToken", TEXT, False),
        ("limit", {"type": "integer", "minimum": 1, "maximum": 1000}, False),
    ],
    "get_drs_source_servers": _REGION_Q
    + [
        ("tags", TEXT, False),
        ("replicationState", TEXT, False),
        ("currentProtectionGroupId", TEXT, False),
        ("filterByProtectionGroup", TEXT, False),
    ],
    "get_drs_quotas": _REGION_Q,
    "get_drs_service_limits": _REGION_Q,
    "get_drs_accounts": [("regions", TEXT, False), ("region", TEXT, False)],
    "get_ec2_subnets": _REGION_Q
    + [("vpcId", TEXT, False), ("availabilityZone", TEXT, False)],
    "get_ec2_security_groups": _REGION_Q + [("vpcId", TEXT, False)],
    "get_ec2_instance_types": _REGION_Q
    + [("instanceFamily", TEXT, False), ("availabilityZone", TEXT, False)],
    "get_ec2_instance_profiles": [
        ("region", TEXT, False),
        ("accountId", TEXT, False),
    ],
}

ERROR: Schema = {
    "type": "object",
    "description": "CONTRACTS §7: a machine-readable code and a message; "
    "details such as field or permission beside them",
    "properties": {
        "error": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string"},
    },
    "required": ["error", "message"],
}
# The 401 of API Gateway's Cognito authorizer (no error code).
UNAUTHORIZED: Schema = {
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}
ERROR_STATUSES = {
    "400": "VALIDATION_ERROR, WAVE_SIZE_LIMIT_EXCEEDED",
    "403": "FORBIDDEN: the caller's groups lack the permission",
    "404": "NOT_FOUND",
    "409": "NAME_CONFLICT, SERVER_CONFLICT, EXECUTION_CONFLICT, "
    "VERSION_CONFLICT, INVALID_STATE",
    "429": "DRS_LIMIT_EXCEEDED",
    "500": "INTERNAL_ERROR (no stack trace, no AWS internals)",
}
# Operations answering another success status than 200.
SUCCESS_STATUS = {
    "create_protection_group": "201",
    "create_recovery_plan": "201",
    "create_target_account": "201",
    "execute_recovery_plan": "202",
}
# The list key of the CRUD lists (crud_routes.register_crud).
LIST_KEYS = {
    "list_protection_groups": "groups",
    "list_recovery_plans": "plans",
}
# REST lists answered as a bare JSON array (shared.console_shapes: the
# console reads them so; direct invocation keeps {<key>, count}).
ARRAY_LISTS = ("list_target_accounts",)


# What a plan answer says of its graph (issue 17, shared.wave_graph).
PLAN_GRAPH: Schema = {
    "type": "object",
    "description": "how the plan's waves run: linear (only one after "
    "the other) or a graph; roots start with the execution; "
    "longestChain: the longest chain of waves (wave numbers)",
    "properties": {
        "linear": BOOL,
        "roots": {"type": "array", "items": INT},
        "longestChain": {"type": "array", "items": INT},
    },
    "required": ["linear", "roots", "longestChain"],
}
PLAN_ANSWER: Schema = {
    "type": "object",
    "properties": {"graph": PLAN_GRAPH},
    "required": ["graph"],
}
# An execution's wave: its place in the graph (issue 17).
EXECUTION_WAVE: Schema = {
    "type": "object",
    "properties": {
        "waveNumber": INT,
        "status": {
            "type": "string",
            "description": "PENDING, WAITING_APPROVAL, QUEUED, STARTED, "
            "COMPLETED, FAILED, SKIPPED or CANCELLED",
        },
        "readyTime": {
            "description": "when the waves it depends on had completed "
            "(its start, unless it waited for approval)",
        },
        "waitingFor": {
            "type": "array",
            "items": {
                "oneOf": [
                    INT,
                    {"type": "string", "enum": [wave_graph.APPROVAL]},
                ]
            },
            "description": "while the execution is active: the wave "
            "numbers it depends on not yet COMPLETED (PENDING), or "
            '["approval"] (WAITING_APPROVAL)',
        },
        "serverCount": INT,
        "serverCounts": {
            "type": "object",
            "additionalProperties": INT,
            "description": "servers per DRS launch status (issue 16)",
        },
        "serversNextToken": {
            "type": "string",
            "description": "the wave shows its first 100 server rows; "
            "GET /executions/{id}/waves?waveNumber=N&nextToken=T pages "
            "through the rest",
        },
    },
}
EXECUTION_WAVES: Schema = {
    "type": "object",
    "properties": {
        "waves": {"type": "array", "items": EXECUTION_WAVE},
        "nextToken": {
            "type": "string",
            "description": "with waveNumber: the next page of that "
            "wave's server rows",
        },
    },
}
RECOVERY_INSTANCES: Schema = {
    "type": "object",
    "properties": {
        "executionId": {"type": "string"},
        "instances": {"type": "array", "items": {"type": "object"}},
        "count": INT,
        "nextToken": {
            "type": "string",
            "description": "with limit or nextToken: the next page, when "
            "more instances remain",
        },
    },
    "required": ["executionId", "instances", "count"],
}
# Answers with a known shape (the others: any object).
ANSWER_SCHEMAS: Dict[str, Schema] = {
    "create_recovery_plan": PLAN_ANSWER,
    "update_recovery_plan": PLAN_ANSWER,
    "get_recovery_plan": PLAN_ANSWER,
    "get_execution_details": EXECUTION_WAVES,
    "get_execution_waves": EXECUTION_WAVES,
    "get_recovery_instances": RECOVERY_INSTANCES,
}


def request_body(operation: str) -> Optional[Schema]:
    """The JSON schema of an operation's body; None: it takes none."""
    if operation in BODY_SCHEMAS:
        return dict(BODY_SCHEMAS[operation])
    if operation in OPEN_BODIES:
        return {"type": "object"}
    if operation in IGNORED_BODIES:
        return {"type": "object", "description": "not read"}
    fields = BODY_FIELDS.get(operation)
    if fields is None:
        return None
    schema = strict(fields, FIELD_TYPES)
    if operation in REQUIRED_BODY:
        schema["required"] = REQUIRED_BODY[operation]
    return schema


def success_schema(operation: str) -> Schema:
    """The JSON schema of an operation's successful answer."""
    if operation in ARRAY_LISTS:
        return {"type": "array", "items": {"type": "object"}}
    key = LIST_KEYS.get(operation)
    if key is None:
        return dict(ANSWER_SCHEMAS.get(operation) or {"type": "object"})
    return {
        "type": "object",
        "properties": {
            key: {"type": "array", "items": {"type": "object"}},
            "count": INT,
        },
        "required": [key, "count"],
    }


def success_status(operation: str) -> str:
    """The HTTP status of an operation's success."""
    return SUCCESS_STATUS.get(operation, "200")


# The console endpoints' schemas (issue 20) add to the tables above.
import openapi_console_schemas  # noqa: E402,F401
