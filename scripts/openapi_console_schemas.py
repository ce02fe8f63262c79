"""OpenAPI schemas of the endpoints the reference console needs (issue 20).

Imported once at the end of ``scripts/openapi_schemas.py``: it adds the
request bodies, query parameters and field types of those endpoints to
that module's tables, so ``scripts/gen_openapi.py`` reads one set of
tables. Field names come from the code that refuses unknown fields.
"""

from __future__ import annotations

import account_validation
import openapi_schemas as base
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
