"""POST /protection-groups/{id}/servers/{serverId}/validate-ip."""

import boto3

from tests.helpers import REGION
from tests.unit.data_management.conftest import db_group


def _ask(dm, group_id, server_id, ip, subnet_id, groups=("DRSReadOnly",)):
    return dm.rest(
        "POST",
        f"/protection-groups/{group_id}/servers/{server_id}/validate-ip",
        {"staticPrivateIp": ip, "subnetId": subnet_id},
        groups=groups,
    )


def test_a_free_address_inside_the_subnet_is_valid(dm):
    # Given a group and the scenario's data subnet (10.10.1.0/24)
    group = db_group(dm)
    server = group["sourceServerIds"][0]
    # When a free address of the subnet is checked
    status, body = _ask(
        dm, group["groupId"], server, "10.10.1.50", dm.subnet("data")
    )
    # Then it is valid, with the subnet's CIDR
    assert status == 200, body
    assert body["valid"] is True
    assert body["details"] == {
        **body["details"],
        "inCidrRange": True,
        "notReserved": True,
        "available": True,
        "subnetCidr": "10.10.1.0/24",
    }


def test_outside_reserved_and_used_addresses_are_not_valid(dm):
    # Given a group and an address held by a network interface
    group = db_group(dm)
    server = group["sourceServerIds"][0]
    subnet = dm.subnet("data")
    eni = boto3.client("ec2", region_name=REGION).create_network_interface(
        SubnetId=subnet, PrivateIpAddress="10.10.1.77"
    )["NetworkInterface"]["NetworkInterfaceId"]
    # When an outside, a reserved and the used address are checked
    answers = {
        ip: _ask(dm, group["groupId"], server, ip, subnet)[1]
        for ip in ("10.10.9.5", "10.10.1.2", "10.10.1.255", "10.10.1.77")
    }
    # Then none is valid, each with the reason the dialog shows
    assert all(a["valid"] is False for a in answers.values()), answers
    assert answers["10.10.9.5"]["details"]["inCidrRange"] is False
    assert answers["10.10.1.2"]["details"]["notReserved"] is False
    assert answers["10.10.1.255"]["details"]["notReserved"] is False
    used = answers["10.10.1.77"]
    assert used["details"]["available"] is False
    assert used["conflictingResource"]["id"] == eni
    assert eni in used["message"]


def test_unknown_subnet_is_an_answer_bad_input_a_400(dm):
    # Given a group
    group = db_group(dm)
    server = group["sourceServerIds"][0]
    # When the subnet does not exist, then when the address is malformed
    _, missing = _ask(
        dm, group["groupId"], server, "10.10.1.5", "subnet-0123456789abcdef0"
    )
    status, error = _ask(
        dm, group["groupId"], server, "10.10.1.x", dm.subnet("data")
    )
    # Then the first is not valid (subnet named), the second a 400
    assert missing["valid"] is False and "does not exist" in missing["error"]
    assert (status, error["field"]) == (400, "staticPrivateIp"), error


def test_unknown_group_or_server_is_404(dm):
    # Given a group and a server that is not in it
    group = db_group(dm)
    stranger = dm.server_ids("erp-app")[0]
    # When each is checked
    status_group, _ = _ask(
        dm, "no-such-group", stranger, "10.10.1.5", dm.subnet("data")
    )
    status_server, _ = _ask(
        dm, group["groupId"], stranger, "10.10.1.5", dm.subnet("data")
    )
    # Then both are 404
    assert (status_group, status_server) == (404, 404)
