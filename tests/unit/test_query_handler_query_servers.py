"""query_servers_by_tags (query-handler), tasks 3.6-3.10 of seeds/003."""

import pytest

from tests.helpers import REGION, load_handler
from tests.unit.wave_engine_support import HUB, SPOKE, wave_engine


@pytest.fixture
def engine(monkeypatch):
    with wave_engine(monkeypatch) as eng:
        yield eng


def _query(tags, account_context=None):
    handler = load_handler("query-handler")
    return handler.lambda_handler(
        {
            "action": "query_servers_by_tags",
            "region": REGION,
            "tags": tags,
            "account_context": account_context,
        },
        None,
    )["server_ids"]


def test_matching_tags_return_the_server_ids(engine):
    # Given the sample scenario (3 web servers of the ERP in the hub)
    # When querying Tier=Web, Application=ERP
    ids = _query({"Tier": "Web", "Application": "ERP"})
    # Then exactly the ERP web servers are returned
    assert sorted(ids) == sorted(engine.ids("erp-web"))


def test_no_server_matches(engine):
    # Given no server is tagged Tier=Mainframe
    # When querying it / Then nothing is returned
    assert _query({"Tier": "Mainframe"}) == []


def test_keys_and_values_are_case_insensitive_and_trimmed(engine):
    # Given servers tagged Tier=Database
    # When querying with other case and padding
    ids = _query({"  tIER ": " database"})
    # Then they match
    assert sorted(ids) == sorted(engine.ids("erp-db"))


def test_all_tags_must_match(engine):
    # Given app servers tagged Environment=Production
    # When one wanted tag differs
    ids = _query({"Tier": "Application", "Environment": "Staging"})
    # Then no server matches (AND, not OR)
    assert ids == []
    both = _query({"Tier": "Application", "Environment": "production"})
    assert sorted(both) == sorted(engine.ids("erp-app"))


def test_cross_account_context_queries_the_spoke(engine):
    # Given portal servers only in the spoke account
    context = {
        "accountId": SPOKE,
        "roleArn": f"arn:aws:iam::{SPOKE}:role/"
        "DRSOrchestrationCrossAccountRole",
        "externalId": f"drs-orchestration-{SPOKE}",
        "isCurrentAccount": False,
    }
    # When querying with the spoke context, then without
    spoke_ids = _query({"Application": "Portal"}, context)
    hub_ids = _query({"Application": "Portal"})
    # Then the spoke's servers are found only through its context
    assert sorted(spoke_ids) == sorted(engine.ids("portal", SPOKE))
    assert hub_ids == []
    assert engine.sim.call_count("DescribeSourceServers", account=SPOKE) >= 1
    assert HUB != SPOKE


def test_region_is_required():
    # Given an action without region / When handled / Then a 400 error
    from shared.errors import ValidationError

    import server_discovery

    with pytest.raises(ValidationError):
        server_discovery.query_servers_by_tags_action({"tags": {"a": "b"}})
