"""A start that validates and reports without starting (``dryRun``).

The reference console sends ``dryRun: true`` to ask whether a plan would
start. Everything ``execute_recovery_plan`` checks has passed when this
runs; nothing is written. The answer lists what each wave would recover
and the plan's last scheduled readiness (CONTRACTS §8) with where a fresh
full report is (``GET /recovery-plans/{id}/readiness``): evaluating it
here would need the query-handler's permissions (IAM, EC2 listings).
"""

from typing import Any, Dict, List

from shared.responses import to_jsonable
from shared.wave_servers import WaveServers


def dry_run_report(
    plan: Dict[str, Any],
    waves: List[Dict[str, Any]],
    resolved: List[WaveServers],
    execution_type: str,
) -> Dict[str, Any]:
    """What a start of ``plan`` would do now; nothing is started."""
    wave_views = [
        {
            "waveNumber": int(wave["waveNumber"]),
            "waveName": wave.get("waveName", ""),
            "protectionGroupId": wave["protectionGroupId"],
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
