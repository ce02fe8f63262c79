"""Per-server rows in the execution answers, read from the server records
(``shared.server_records``; the execution item keeps only each wave's
counts).

``get_execution_details`` and ``GET /executions/{id}/waves`` show at
most ``INLINE_SERVERS`` rows per wave (``servers`` and the console's
``serverExecutions``), every row of a normal-sized wave; a larger wave
also carries ``serversNextToken``, and
``GET /executions/{id}/waves?waveNumber=N&nextToken=T[&limit=L]`` pages
through that wave's rows.
"""

from typing import Any, Dict, List, Optional

from shared.errors import ValidationError
from shared.page_tokens import page_limit
from shared.server_records import (
    MAX_PAGE,
    page_token,
    server_key,
    servers_page,
)

# Rows per wave in an answer that shows every wave: a DRS job's worth.
INLINE_SERVERS = 100
ROW_LISTS = ("servers", "serverExecutions")


def inline_servers(
    view: Dict[str, Any], record: Dict[str, Any]
) -> Dict[str, Any]:
    """The view with each wave's rows cut to ``INLINE_SERVERS`` (and a
    ``serversNextToken`` when more follow) and the wave's counts
    (``serverCount``, ``serverCounts``) from the record."""
    waves = record.get("waves") or []
    for index, wave in enumerate(view.get("waves") or []):
        recorded = waves[index] if index < len(waves) else {}
        for key in ("serverCount", "serverCounts"):
            if recorded.get(key) is not None:
                wave[key] = recorded[key]
        rows = wave.get("servers") or []
        if len(rows) <= INLINE_SERVERS:
            continue
        last = rows[INLINE_SERVERS - 1].get("sourceServerId")
        for key in ROW_LISTS:
            if key in wave:
                wave[key] = wave[key][:INLINE_SERVERS]
        wave["serverCount"] = max(len(rows), wave.get("serverCount") or 0)
        if not recorded.get("serverCounts"):
            continue  # planned ids only (not started): no records to page
        wave["serversNextToken"] = page_token(
            record["executionId"], server_key(index, last)
        )
    return view


def wave_index(record: Dict[str, Any], wave_number: str) -> int:
    """The index of the wave whose ``waveNumber`` is given (400 when the
    execution has none such)."""
    for index, wave in enumerate(record.get("waves") or []):
        if str(wave.get("waveNumber", index)) == str(wave_number):
            return index
    raise ValidationError(
        f"execution has no wave {wave_number}", field="waveNumber"
    )


def wave_page(
    record: Dict[str, Any],
    query: Dict[str, Any],
    wave_view,
    table: Optional[Any] = None,
) -> Dict[str, Any]:
    """``/waves?waveNumber=N[&nextToken=][&limit=]``: that wave with one
    page of its server rows; ``nextToken`` when more follow."""
    index = wave_index(record, query["waveNumber"])
    page = servers_page(
        record["executionId"],
        index,
        page_limit(query.get("limit"), INLINE_SERVERS, MAX_PAGE),
        query.get("nextToken"),
        table,
    )
    rows: List[Dict[str, Any]] = [
        {k: v for k, v in row.items() if k != "waveIndex"}
        for row in page["servers"]
    ]
    wave = dict((record.get("waves") or [])[index])
    wave["servers"] = rows
    view = wave_view(wave)
    if not rows:
        view["servers"] = []  # not the planned ids: this page is empty
    for key in ("serverCount", "serverCounts"):
        if wave.get(key) is not None:
            view[key] = wave[key]
    answer: Dict[str, Any] = {
        "executionId": record["executionId"],
        "status": record.get("status"),
        "waves": [view],
    }
    if page.get("nextToken"):
        answer["nextToken"] = page["nextToken"]
    return answer
