"""The local cloud's DynamoDB transactions are atomic under concurrency
(issue 15, defect 7b): of N conditional TransactWriteItems on the same
version, exactly one succeeds."""

import threading
import uuid

import boto3
import pytest
from moto.dynamodb.models import DynamoDBBackend

from tests.unit.localcloud_stack.moto_server import patched_moto_server

THREADS = 5
ROUNDS = 4
# How long the first reader waits for a second one (see widened_race).
RENDEZVOUS_SECONDS = 0.3


@pytest.fixture(scope="module")
def endpoint():
    with patched_moto_server() as url:
        yield url


def _client(endpoint):
    return boto3.client(
        "dynamodb",
        region_name="us-east-1",
        endpoint_url=endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def widened_race(monkeypatch):
    """Make the check-then-write race certain instead of rare: the first
    two transactions reading the item meet before either evaluates its
    condition. Under serialized requests the second never arrives while
    the first waits, so the first goes on after RENDEZVOUS_SECONDS."""
    original = DynamoDBBackend.get_item
    state = {"barrier": threading.Barrier(2, timeout=RENDEZVOUS_SECONDS)}

    def get_item(self, *args, **kwargs):
        try:
            state["barrier"].wait()
        except threading.BrokenBarrierError:
            pass  # alone (serialized) or the round already met
        return original(self, *args, **kwargs)

    monkeypatch.setattr(DynamoDBBackend, "get_item", get_item)

    def next_round():
        state["barrier"] = threading.Barrier(2, timeout=RENDEZVOUS_SECONDS)

    return next_round


def _bump(client, table, version):
    try:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"pk": {"S": "plan"}},
                        "UpdateExpression": "SET version = :next",
                        "ConditionExpression": "version = :seen",
                        "ExpressionAttributeValues": {
                            ":seen": {"N": str(version)},
                            ":next": {"N": str(version + 1)},
                        },
                    }
                }
            ]
        )
    except client.exceptions.TransactionCanceledException:
        return False
    return True


def test_one_conditional_transaction_wins_per_version(endpoint, widened_race):
    # Given an item at version 0 and one client per thread
    setup = _client(endpoint)
    table = f"race-{uuid.uuid4().hex[:10]}"
    setup.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    setup.put_item(
        TableName=table, Item={"pk": {"S": "plan"}, "version": {"N": "0"}}
    )
    clients = [_client(endpoint) for _ in range(THREADS)]

    for version in range(ROUNDS):
        # When every thread bumps the version it saw, at the same time
        widened_race()
        start = threading.Barrier(THREADS, timeout=30)
        wins = []

        def bump(client):
            start.wait()
            wins.append(_bump(client, table, version))

        threads = [threading.Thread(target=bump, args=(c,)) for c in clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

        # Then exactly one won and the item moved one version
        assert sorted(wins) == [False] * (THREADS - 1) + [True], version
        item = setup.get_item(TableName=table, Key={"pk": {"S": "plan"}})
        assert item["Item"]["version"] == {"N": str(version + 1)}
