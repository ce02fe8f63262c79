"""Template tests: where the IAM grants of cfn/ may reach."""

import re

from tests.unit.templates.cfn_helpers import all_statements, as_list

DRS_OR_EC2 = re.compile(r"^arn:(\$\{AWS::Partition\}|aws[\w-]*):(drs|ec2):")
# drs/ec2 resource ARNs: any region, this account only.
ANY_REGION_THIS_ACCOUNT = re.compile(
    r"^arn:\$\{AWS::Partition\}:(drs|ec2):\*:\$\{AWS::AccountId\}:"
)


def _resources(statement):
    for resource in as_list(statement.get("Resource", [])):
        if isinstance(resource, dict) and "Fn::Sub" in resource:
            yield resource["Fn::Sub"]
        else:
            yield resource


def test_drs_and_ec2_arns_allow_any_region_of_the_account():
    # Given every drs/ec2 resource ARN granted in hub and spoke templates
    arns = [
        (f"{template}:{logical}:{statement.get('Sid')}", arn)
        for template, logical, statement in all_statements()
        for arn in _resources(statement)
        if isinstance(arn, str) and DRS_OR_EC2.match(arn)
    ]
    assert len(arns) >= 10
    # Then each leaves the region open (protection groups carry any
    # region) and stays scoped to the account the role lives in
    wrong = [(w, a) for w, a in arns if not ANY_REGION_THIS_ACCOUNT.match(a)]
    assert not wrong, wrong
