"""What a plan answer tells beside its stored fields (console, issue 20).

The plan screens of the reference console show, per plan, its last
execution and whether another execution holds some of its servers, and
per wave its servers. This module gathers those facts from the tables
(and DRS for tag-selected groups); ``shared.console_shapes`` shapes them.
Every plan answer also says how its waves run (``graph``, issue 17:
``shared.wave_graph.plan_graph``).
"""

from typing import Any, Callable, Dict, List, Optional, Set

from boto3.dynamodb.conditions import Key

import drs_lookup
from shared.console_shapes import PlanFacts, plan_view
from shared.errors import DomainError
from shared.execution_records import active_executions
from shared.logging_setup import get_logger
from shared.tables import execution_history_table
from shared.wave_graph import plan_graph
from shared.wave_plan_store import planned_server_ids
from shared.wave_servers import wave_group_ids

logger = get_logger("plan-summaries")
Item = Dict[str, Any]
GroupLookup = Callable[[str], Optional[Item]]


def _latest_execution(table: Any, plan_id: str) -> Optional[Item]:
    """The plan's most recent execution (PlanIdIndex, newest first)."""
    found = table.query(
        IndexName="PlanIdIndex",
        KeyConditionExpression=Key("planId").eq(plan_id),
        ScanIndexForward=False,
        Limit=1,
    ).get("Items")
    return found[0] if found else None


class _Members:
    """Group -> its servers now, each group resolved once per answer."""

    def __init__(self, lookup: GroupLookup) -> None:
        self.lookup = lookup
        self.cache: Dict[str, List[str]] = {}

    def of(self, group_id: str) -> List[str]:
        if group_id not in self.cache:
            group = self.lookup(group_id)
            try:
                ids = drs_lookup.group_server_ids(group) if group else []
            except DomainError as error:
                # A DRS outage must not hide the plan list: the servers of
                # a tag group are then shown as unknown (empty).
                logger.warning(
                    "servers of a tag group unknown",
                    extra={"groupId": group_id, "error": error.message},
                )
                ids = []
            self.cache[group_id] = list(ids)
        return self.cache[group_id]


def plan_answers(
    plans: List[Item],
    lookup: GroupLookup,
    executions_table: Optional[Any] = None,
) -> List[Item]:
    """The plans as answered: stored fields plus the console's facts."""
    table = (
        executions_table
        if executions_table is not None
        else execution_history_table()
    )
    members = _Members(lookup)
    active = active_executions(table) if plans else []
    busy = [(e, planned_server_ids(e)) for e in active]
    answers = []
    for plan in plans:
        wave_servers = {
            group_id: members.of(group_id)
            for w in plan.get("waves") or []
            for group_id in wave_group_ids(w)
        }
        servers: Set[str] = {s for ids in wave_servers.values() for s in ids}
        conflicts = [
            (execution, sorted(used & servers))
            for execution, used in busy
            if execution.get("planId") != plan.get("planId") and used & servers
        ]
        facts = PlanFacts(
            wave_servers,
            _latest_execution(table, plan["planId"]),
            conflicts,
        )
        view = plan_view(plan, facts)
        # How the waves run (issue 17): linear or a graph, its roots.
        view["graph"] = plan_graph(plan.get("waves") or [])
        answers.append(view)
    return answers
