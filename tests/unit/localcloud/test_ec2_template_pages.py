"""The local cloud pages DescribeLaunchTemplates as EC2 does (moto
answers one truncated page without a NextToken)."""

import boto3
import pytest

from localcloud import ec2_template_pages
from tests.helpers import REGION


@pytest.fixture
def templates(mocked_aws, monkeypatch):
    """40 launch templates in moto."""
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    ec2 = boto3.client("ec2", region_name=REGION)
    names = [f"tpl-{i:02d}" for i in range(40)]
    for name in names:
        ec2.create_launch_template(
            LaunchTemplateName=name, LaunchTemplateData={}
        )
    yield ec2, names
    ec2_template_pages.uninstall()


def listed(ec2, page_size):
    pages = ec2.get_paginator("describe_launch_templates").paginate(
        PaginationConfig={"PageSize": page_size}
    )
    return [
        t["LaunchTemplateName"] for p in pages for t in p["LaunchTemplates"]
    ]


def test_a_paginated_listing_sees_every_template(templates):
    ec2, names = templates
    # When the local cloud's paging is installed (moto alone answers
    # the first page only)
    ec2_template_pages.install()
    # Then every template is listed once, page after page
    assert sorted(listed(ec2, 10)) == names
    first = ec2.describe_launch_templates(MaxResults=25)
    assert len(first["LaunchTemplates"]) == 25 and first["NextToken"]
    # And a request by name is answered as moto does
    named = ec2.describe_launch_templates(LaunchTemplateNames=["tpl-07"])
    assert [t["LaunchTemplateName"] for t in named["LaunchTemplates"]] == [
        "tpl-07"
    ]
