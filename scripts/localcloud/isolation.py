"""Per-test isolation of a running :class:`localcloud.stack.LocalCloud`.

Much faster than restarting: running executions are stopped and the state
machine recreated (no history), every table is dropped and recreated from
its template properties, published SNS messages are forgotten, and the
DRS simulator (with the EC2 state it created in moto) is reset and the
scenario loaded again. Functions, roles, rules and warm workers stay.
"""

import logging
from typing import Any

from .resources import TABLE_KEYS

LOG = logging.getLogger("localcloud.stack")
ASYNC_GRACE_SECONDS = 5.0


def reset_cloud(cloud: Any) -> None:
    """Bring ``cloud`` back to its just-started state.

    The last test's work is drained first: its state machine executions
    are stopped and the invocations in flight (a task of a stopped
    execution, an asynchronous start worker) end before the tables are
    emptied; otherwise one of them writes into the next test's tables
    (seen: a ``begin`` recreating an execution record after the reset).
    """
    for _ in range(3):
        _stop_executions(cloud)
        if cloud.runtime is None or cloud.runtime.wait_idle(
            ASYNC_GRACE_SECONDS
        ):
            break
        LOG.warning("invocations still running during reset")
    _reset_executions(cloud)
    _reset_tables(cloud)
    _reset_topics(cloud)
    _reset_drs(cloud)
    cloud.ensure_spoke_roles()


def _stop_executions(cloud: Any) -> None:
    sfn = cloud.client("stepfunctions")
    for arn in cloud._ctx.state_machines:
        pages = sfn.get_paginator("list_executions").paginate(
            stateMachineArn=arn, statusFilter="RUNNING"
        )
        for page in pages:
            for execution in page["executions"]:
                sfn.stop_execution(
                    executionArn=execution["executionArn"],
                    error="LocalCloud.Reset",
                )


def _reset_executions(cloud: Any) -> None:
    sfn = cloud.client("stepfunctions")
    _stop_executions(cloud)
    for arn, args in cloud._ctx.state_machines.items():
        sfn.delete_state_machine(stateMachineArn=arn)
        sfn.create_state_machine(**args)


def _reset_tables(cloud: Any) -> None:
    ddb = cloud.client("dynamodb")
    for deployed in cloud.stack.all_resources():
        if deployed.type != "AWS::DynamoDB::Table":
            continue
        spec = {
            k: deployed.props[k] for k in TABLE_KEYS if k in deployed.props
        }
        ddb.delete_table(TableName=spec["TableName"])
        ddb.create_table(**spec)


def _reset_topics(cloud: Any) -> None:
    from moto.sns.models import sns_backends

    backend = sns_backends[cloud.hub_account][cloud.region]
    for topic in backend.topics.values():
        topic.sent_notifications.clear()


def _reset_drs(cloud: Any) -> None:
    from moto.ec2.models import ec2_backends

    sim = cloud.simulator
    sim.stop_ticker()
    for account in cloud.scenario.accounts:
        for region in account.regions:
            ec2_backends[account.account_id][region.name].reset()
    sim.reset()
    sim.load(cloud.scenario)
    sim.start_ticker()
