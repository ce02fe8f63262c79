"""A start that validates and reports without starting (``dryRun``).

The reference console sends ``dryRun: true`` to ask whether a plan would
start. Everything ``execute_recovery_plan`` checks has passed when this
runs; nothing is written. The answer lists what each wave would recover
and the plan's readiness report (CONTRACTS §8).
"""

from typing import Any, Dict, List, Optional

from shared.errors import DomainError
from shared.logging_setup import get_logger
from shared.readiness import evaluate_plan
from shared.wave_servers import WaveServers

logger = get_logger("execution-handler")


def _readiness(
    plan: Dict[str, Any],
    groups: Dict[str, Dict[str, Any]],
    active: List[Dict[str, Any]],
    accounts_table: Optional[Any],
) -> Dict[str, Any]:
    try:
        return evaluate_plan(
            plan,
            groups,
            active_executions=active,
            accounts_table=accounts_table,
        )
    except DomainError as error:
        # The start's own checks passed; a readiness failure is reported,
        # not raised, so the caller still learns what would start.
        logger.warning(
            "dry run readiness failed", extra={"error": error.message}
        )
        return {"planId": plan.get("planId"), "error": error.to_body()}


def dry_run_report(
    plan: Dict[str, Any],
    waves: List[Dict[str, Any]],
    resolved: List[WaveServers],
    execution_type: str,
    groups: Dict[str, Dict[str, Any]],
    active: List[Dict[str, Any]],
    accounts_table: Optional[Any] = None,
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
    return {
        "dryRun": True,
        "valid": True,
        "planId": plan["planId"],
        "planName": plan.get("planName", ""),
        "executionType": execution_type,
        "message": "validation passed; nothing was started",
        "waves": wave_views,
        "totalServers": sum(w["serverCount"] for w in wave_views),
        "readiness": _readiness(plan, groups, active, accounts_table),
    }
