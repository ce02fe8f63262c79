"""A start that validates and reports without starting (``dryRun``).

The reference console sends ``dryRun: true`` to ask whether a plan would
start. A dry run goes through everything a start checks, the readiness
preflight included (``execution_preflight``: each account/region listed
now, the blocking checks access, membership, replication and capacity,
``acceptRisks`` honoured): a plan a start would refuse is refused the
same way (409 PLAN_NOT_READY, SERVER_CONFLICT, ...). Nothing is written.
The answer lists what each wave would recover (its groups, servers and
planned DRS jobs), ``preflight`` (the blocking checks run now, added by
``execution_start._with_plan``) and the plan's last scheduled full
report (``readiness``, CONTRACTS §8) with where a fresh full report is
(``GET /recovery-plans/{id}/readiness``: its non-blocking checks, such
as launch configuration, need the query-handler's permissions).
"""

from typing import Any, Dict, List

from shared.responses import to_jsonable
from shared.wave_servers import WaveServers, wave_group_ids


def dry_run_report(
    plan: Dict[str, Any],
    waves: List[Dict[str, Any]],
    resolved: List[WaveServers],
    execution_type: str,
) -> Dict[str, Any]:
    """What a start of ``plan`` would do now (the preflight passed);
    nothing is started."""
    wave_views = [
        {
            "waveNumber": int(wave["waveNumber"]),
            "waveName": wave.get("waveName", ""),
            "protectionGroupId": wave["protectionGroupId"],
            "protectionGroupIds": wave_group_ids(wave),
            "region": resolved[index].region,
            "serverIds": list(resolved[index].server_ids),
            "serverCount": len(resolved[index].server_ids),
        }
        for index, wave in enumerate(waves)
    ]
    return to_jsonable(
        {
            "dryRun": True,
            "valid": True,
            "planId": plan["planId"],
            "planName": plan.get("planName", ""),
            "executionType": execution_type,
            "message": "validation passed; nothing was started",
            "waves": wave_views,
            "totalServers": sum(w["serverCount"] for w in wave_views),
            "readiness": plan.get("readiness"),
            "readinessUrl": f"/recovery-plans/{plan['planId']}/readiness",
        }
    )
