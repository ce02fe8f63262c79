"""Fixtures of the data-management-handler tests.

``dm``: moto + the DRS simulator (sample three-tier scenario, manual clock,
in-process interception) + the five tables; helpers to call the handler
through both invocation shapes.
"""

import json
from dataclasses import dataclass
from typing import Any, Dict, Optional, Tuple

import boto3
import pytest

from localcloud.drs.testing import simulated_drs
from shared.name_claims import is_name_claim
from tests.helpers import REGION, api_event, create_tables, load_handler

HUB = "123456789012"
SPOKE = "210987654321"
SPOKE_ROLE = f"arn:aws:iam::{SPOKE}:role/DRSOrchestrationCrossAccountRole"
SPOKE_EXTERNAL_ID = "drs-orchestration-210987654321"


@dataclass
class DataManagement:
    """The handler under test, its tables and the simulator."""

    sim: Any
    tables: Dict[str, Any]

    @property
    def handler(self):
        return load_handler("data-management-handler").lambda_handler

    def direct(
        self,
        operation: str,
        body: Optional[dict] = None,
        query: Optional[dict] = None,
    ) -> Dict[str, Any]:
        """Direct invocation: the body dict (or an error body)."""
        event: Dict[str, Any] = {"operation": operation}
        if body is not None:
            event["body"] = body
        if query is not None:
            event["queryParams"] = query
        return self.handler(event, None)

    def rest(
        self,
        method: str,
        path: str,
        body: Any = None,
        groups=("DRSOrchestrationAdmin",),
        query: Optional[dict] = None,
    ) -> Tuple[int, Dict[str, Any]]:
        """REST via API Gateway: (statusCode, decoded body)."""
        response = self.handler(
            api_event(method, path, body=body, groups=groups, query=query),
            None,
        )
        return response["statusCode"], json.loads(response["body"])

    def register_spoke(self) -> Dict[str, Any]:
        """The scenario's spoke registered as a target account."""
        return self.direct(
            "create_target_account",
            {
                "accountId": SPOKE,
                "accountName": "portal",
                "roleArn": SPOKE_ROLE,
                "externalId": SPOKE_EXTERNAL_ID,
            },
        )

    def server_ids(self, hostname_prefix: str, account: str = HUB):
        """Simulated source server ids whose hostname starts with a prefix."""
        return [
            s.server_id
            for s in self.sim.servers(account, REGION)
            if s.spec.hostname.startswith(hostname_prefix)
        ]

    def subnet(self, name: str) -> str:
        """The id of a scenario subnet of the hub."""
        return self.sim.regions[(HUB, REGION)].subnets[name]

    def item(self, env: str, key: str, value: str) -> Optional[dict]:
        """A stored item, read straight from the table."""
        return self.tables[env].get_item(Key={key: value}).get("Item")

    def scan(self, env: str) -> list:
        """The stored items of a table, name claims left out."""
        items = self.tables[env].scan()["Items"]
        return [i for i in items if not is_name_claim(i)]

    def claims(self, env: str) -> Dict[str, str]:
        """The name claims of a table: claim key -> owner id."""
        items = self.tables[env].scan()["Items"]
        return {
            str(i.get("groupId") or i.get("planId")): i["claimOwner"]
            for i in items
            if is_name_claim(i)
        }


@pytest.fixture
def dm():
    """Simulated DRS under mock_aws, with the tables created."""
    with simulated_drs() as sim:
        tables = create_tables(boto3.resource("dynamodb", region_name=REGION))
        yield DataManagement(sim, tables)


def db_group(dm: DataManagement, name: str = "ERP Database", **extra):
    """Create the two-database-server group directly; return its body."""
    body = {
        "groupName": name,
        "region": REGION,
        "sourceServerIds": dm.server_ids("erp-db"),
        **extra,
    }
    created = dm.direct("create_protection_group", body)
    assert "groupId" in created, created
    return created
