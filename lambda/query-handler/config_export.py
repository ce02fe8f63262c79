"""``GET /config/export``: every protection group and recovery plan in the
import manifest format (``shared.config_manifest``)."""

from typing import Any, Dict, Optional

from query_routes import router
from shared import clock
from shared.api import Request
from shared.config_manifest import build_manifest
from shared.name_claims import without_claims
from shared.responses import to_jsonable
from shared.tables import (
    protection_groups_table,
    recovery_plans_table,
    scan_all,
)


def export_manifest(
    groups_table: Optional[Any] = None, plans_table: Optional[Any] = None
) -> Dict[str, Any]:
    """The manifest of all stored groups and plans (JSON types)."""
    groups = without_claims(
        scan_all(
            groups_table
            if groups_table is not None
            else protection_groups_table()
        )
    )
    plans = without_claims(
        scan_all(
            plans_table if plans_table is not None else recovery_plans_table()
        )
    )
    manifest = build_manifest(groups, plans, exported_at=clock.iso_now())
    return to_jsonable(manifest)


@router.operation("export_configuration")
def export_configuration(request: Request) -> Dict[str, Any]:
    """The configuration manifest; ``POST /config/import`` accepts it."""
    return export_manifest()
