"""OpenAPI schemas of the endpoints the reference console needs (issue 20).

Imported once at the end of ``scripts/openapi_schemas.py``: it adds the
request bodies, query parameters and field types of those endpoints to
that module's tables, so ``scripts/gen_openapi.py`` reads one set of
tables. Field names come from the code that refuses unknown fields.
"""

from __future__ import annotations

import account_validation
import openapi_schemas as base
import server_config_ops
import static_ip_check

base.FIELD_TYPES.update(
    {
        "staticPrivateIp": {
            "type": "string",
            "description": "the IPv4 address to check",
        },
        "subnetId": {"type": "string", "pattern": r"^subnet-[0-9a-f]+$"},
        "ids": {
            "type": "string",
            "description": "1-100 comma-separated execution ids",
        },
        "startDate": {
            "type": "string",
            "description": "ISO-8601 date or date-time (UTC when naive)",
        },
        "endDate": {
            "type": "string",
            "description": "ISO-8601 date (through that day) or date-time",
        },
    }
)
base.BODY_FIELDS.update(
    {
        "validate_server_static_ip": static_ip_check.BODY_FIELDS,
        "validate_target_account": account_validation.BODY_FIELDS,
    }
)
base.REQUIRED_BODY.update(
    {"validate_server_static_ip": ["staticPrivateIp", "subnetId"]}
)
base.QUERY_PARAMS.update(
    {
        # The console's selection: DELETE /executions?ids=a,b
        "delete_executions": [("ids", base.FIELD_TYPES["ids"], True)],
        # includeRegionalBreakdown: sent by the console, accepted; the
        # answer always holds the one region's breakdown.
        "get_target_account_capacity": [
            ("region", base.TEXT, False),
            ("includeRegionalBreakdown", base.TEXT, False),
        ],
    }
)

# POST .../servers/bulk-launch-config: {servers: [{serverId, ...}]}.
base.BODY_SCHEMAS["bulk_update_server_launch_config"] = {
    **base.strict(
        server_config_ops.BODY_FIELDS,
        {
            "groupId": base.TEXT,
            "servers": {
                "type": "array",
                "minItems": 1,
                "maxItems": server_config_ops.MAX_BULK_SERVERS,
                "items": {
                    **base.strict(
                        server_config_ops.ENTRY_FIELDS,
                        {
                            "serverId": base.SERVER_ID,
                            "useGroupDefaults": base.BOOL,
                            "launchTemplate": {"type": "object"},
                        },
                    ),
                    "required": ["serverId"],
                },
            },
        },
    ),
    "required": ["servers"],
}
base.QUERY_PARAMS["get_server_audit_log"] = [
    ("startDate", base.FIELD_TYPES["startDate"], False),
    ("endDate", base.FIELD_TYPES["endDate"], False),
]
# REST answers the console's JSON array (direct: a dict).
base.ARRAY_LISTS += ("get_server_audit_log",)
