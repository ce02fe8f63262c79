"""The execution history table expires the event-driven progress items
(issue 18): ``TimeToLiveSpecification`` on the attribute
``shared.progress_wake`` writes, in the template and in the local cloud."""

import boto3
from moto import mock_aws

from localcloud.resources import DeployContext, dynamodb_table
from localcloud.templates import CFN_DIR, Resolver, load_template
from shared import progress_wake

REGION = "us-east-1"
TABLE = "ExecutionHistoryTable"


def _table_properties():
    template = load_template(CFN_DIR / "database-stack.yaml")
    resolver = Resolver(
        {
            "ProjectName": "hrp-drs-tech-adapter",
            "Environment": "dev",
            "AWS::Region": REGION,
        },
        template.get("Conditions"),
        where=TABLE,
    )
    return resolver.resolve(template["Resources"][TABLE]["Properties"])


def test_the_template_expires_items_on_the_attribute_they_carry():
    # Given the database stack's execution history table
    props = _table_properties()
    # Then its TTL is enabled on the attribute the lock items carry
    assert props["TimeToLiveSpecification"] == {
        "AttributeName": progress_wake.TTL_ATTRIBUTE,
        "Enabled": True,
    }


def test_the_local_cloud_enables_the_templates_ttl():
    # Given the template's table properties
    props = _table_properties()
    with mock_aws():
        ctx = DeployContext(
            client=lambda s: boto3.client(s, region_name=REGION),
            account="123456789012",
            region=REGION,
            template_dir=CFN_DIR,
            stack_name="unit",
            build_zip=lambda folder: None,
        )
        # When the local cloud deploys the table
        dynamodb_table(ctx, TABLE, props)
        # Then DynamoDB reports TTL enabled on that attribute
        ttl = boto3.client(
            "dynamodb", region_name=REGION
        ).describe_time_to_live(TableName=props["TableName"])[
            "TimeToLiveDescription"
        ]
    assert ttl["TimeToLiveStatus"] == "ENABLED"
    assert ttl["AttributeName"] == progress_wake.TTL_ATTRIBUTE
