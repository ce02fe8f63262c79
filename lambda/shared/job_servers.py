"""DRS's truth about a job's servers, merged into an execution record's
``waves[i].servers`` (the poll and the cancel settlement record it the
same way)."""

from typing import Any, Dict, List

from shared.drs_constants import DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES


def merge_job_servers(
    servers: List[Dict[str, Any]], job: Dict[str, Any]
) -> Dict[str, Dict[str, Any]]:
    """``sourceServerId`` -> server entry: the recorded entries (copies)
    with each participating server's ``launchStatus`` as ``status`` and
    its ``recoveryInstanceId``; a LAUNCHED server's phase is LAUNCHED.
    Servers of the job not yet recorded are added."""
    known = {s["sourceServerId"]: dict(s) for s in servers or []}
    for item in job.get("participatingServers") or []:
        sid = item["sourceServerID"]
        server = known.setdefault(sid, {"sourceServerId": sid})
        server["status"] = item.get("launchStatus") or "PENDING"
        server["recoveryInstanceId"] = item.get("recoveryInstanceID")
        if server["status"] in DRS_JOB_SERVERS_COMPLETE_SUCCESS_STATES:
            server["phase"] = "LAUNCHED"
    return known
