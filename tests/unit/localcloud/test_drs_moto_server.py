"""Next to moto in server mode: DRS over HTTP, side effects in moto."""

import boto3
import pytest
import requests
from localcloud.drs import DrsHttpServer, DrsSimulator, ManualClock
from localcloud.scenario import load_scenario
from moto.server import ThreadedMotoServer

from .conftest import HUB, REGION, SPOKE


@pytest.fixture
def cloud(monkeypatch):
    moto_server = ThreadedMotoServer(
        ip_address="127.0.0.1", port=0, verbose=False
    )
    moto_server.start()
    host, port = moto_server.get_host_and_port()
    moto_url = f"http://{host}:{port}"
    sim = DrsSimulator(clock=ManualClock())
    sim.load(load_scenario())
    drs_server = DrsHttpServer(sim)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_DRS", drs_server.start())
    yield sim
    drs_server.stop()
    requests.post(f"{moto_url}/moto-api/reset", timeout=10)
    moto_server.stop()


def test_launch_is_visible_through_moto_server(cloud):
    # Given unmodified clients configured by endpoint variables only
    session = boto3.session.Session(region_name=REGION)
    drs = session.client("drs")
    sid = drs.describe_source_servers()["items"][0]["sourceServerID"]
    # When a drill completes
    drs.start_recovery(sourceServers=[{"sourceServerID": sid}], isDrill=True)
    cloud.clock.advance(3600)
    cloud.tick()
    instance_id = drs.describe_recovery_instances()["items"][0][
        "ec2InstanceID"
    ]
    # Then moto's server shows the instance and the spoke stays separate
    ec2 = session.client("ec2")
    found = ec2.describe_instances(InstanceIds=[instance_id])
    assert found["Reservations"][0]["Instances"][0]["State"]["Name"] == (
        "running"
    )
    assert cloud.call_count(account=HUB) == 3
    assert cloud.call_count(account=SPOKE) == 0
