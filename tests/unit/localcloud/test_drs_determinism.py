"""Seeded jitter per job: the same seed gives each job the same timeline
whatever the order in which accounts start their jobs."""

from localcloud.drs.testing import simulated_drs
from localcloud.scenario import scenario_from_dict

from .conftest import FAST, HUB, REGION, SPOKE

TWO_ACCOUNTS = {
    "seed": 5,
    "durations": FAST,
    "accounts": [
        {
            "id": HUB,
            "name": "hub",
            "regions": {
                REGION: {"source_servers": [{"hostname": "h-{i}", "count": 3}]}
            },
        },
        {
            "id": SPOKE,
            "name": "spoke",
            "role": "spoke",
            "cross_account_role": "Role",
            "regions": {
                REGION: {"source_servers": [{"hostname": "s-{i}", "count": 3}]}
            },
        },
    ],
}


def _timelines(order, faults=()):
    """Each time an account appears in ``order``, a drill of its next
    server; per (account, job id): (action, server, seconds after the
    job's creation) of its timeline."""
    data = dict(TWO_ACCOUNTS, faults=list(faults))
    with simulated_drs(scenario_from_dict(data)) as sim:
        started = {HUB: 0, SPOKE: 0}
        for account in order:
            server = sim.servers(account, REGION)[started[account]]
            started[account] += 1
            sim.handle(
                "StartRecovery",
                {
                    "sourceServers": [{"sourceServerID": server.server_id}],
                    "isDrill": True,
                },
                account,
                REGION,
            )
        found = {}
        for account in (HUB, SPOKE):
            for job in sim.jobs(account, REGION):
                found[(account, job.job_id)] = [
                    (action, sid, (due - job.created).total_seconds())
                    for due, _, action, sid, _ in job.timeline
                ]
    return found


def test_job_timelines_do_not_depend_on_other_accounts_calls():
    # Given the same seed, jobs started hub-first in one simulator and
    # spoke-first (interleaved) in another
    first = _timelines([HUB, HUB, SPOKE, SPOKE])
    second = _timelines([SPOKE, HUB, SPOKE, HUB])
    # When / Then every job has the same id and the same phase timings
    assert len(first) == 4
    assert first == second
    ends = {timeline[-1][2] for timeline in first.values()}
    assert len(ends) == 4  # each job has its own jitter


def test_rate_faults_do_not_depend_on_other_accounts_calls():
    # Given half of the recovery jobs failing at random, same seed
    faults = [{"type": "job_failure", "rate": 0.5}]
    # When the accounts start their jobs in different orders
    first = _timelines([HUB, SPOKE, HUB, SPOKE, HUB, SPOKE], faults)
    second = _timelines([SPOKE, SPOKE, SPOKE, HUB, HUB, HUB], faults)
    # Then each job fails (or not) the same way
    assert first == second
    outcomes = {tl[-2][0] for tl in first.values()}
    assert len(first) == 6 and outcomes == {"launched", "fail"}
