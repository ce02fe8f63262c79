"""Pure helpers: figures from timelines, DynamoDB item size, the JSON
files and the stdout table."""

from __future__ import annotations

import json
import statistics
from base64 import b64decode
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence


def wave_gaps(
    waves: Sequence[Dict[str, Any]], end: Optional[float]
) -> Dict[str, Any]:
    """Orchestration overhead from a run's wave timeline (seconds).

    ``waves`` are ``{"startRecovery", "lastLaunched"}`` in order; gap
    ``i`` = wave ``i+1``'s StartRecovery - wave ``i``'s last LAUNCHED;
    ``toEnd`` = ``end`` - the last wave's last LAUNCHED.
    """
    between = []
    for current, following in zip(waves, waves[1:]):
        if current.get("lastLaunched") is None:
            between.append(None)
            continue
        between.append(
            round(following["startRecovery"] - current["lastLaunched"], 1)
        )
    last = waves[-1].get("lastLaunched") if waves else None
    to_end = None
    if last is not None and end is not None:
        to_end = round(end - last, 1)
    known = [g for g in between if g is not None]
    return {
        "betweenWaves": between,
        "meanBetweenWaves": (
            round(statistics.mean(known), 1) if known else None
        ),
        "toEnd": to_end,
    }


def wall_gaps(gaps: Dict[str, Any], speed: float) -> Dict[str, Any]:
    """:func:`wave_gaps` figures (simulated s) as wall seconds.

    The simulator's clock runs ``speed`` simulated seconds per wall second
    from one anchor, so a simulated interval divided by ``speed`` is the
    wall-clock time the local cloud took for it.
    """

    def wall(value: Optional[float]) -> Optional[float]:
        return None if value is None else round(value / speed, 2)

    return {
        "betweenWaves": [wall(g) for g in gaps["betweenWaves"]],
        "meanBetweenWaves": wall(gaps["meanBetweenWaves"]),
        "toEnd": wall(gaps["toEnd"]),
    }


def _value_size(value: Dict[str, Any]) -> int:
    """Bytes of one DynamoDB attribute value (AWS's sizing rules)."""
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode("utf-8"))
    if kind == "N":
        digits = str(data).lstrip("-").replace(".", "").lstrip("0")
        return (len(digits) + 1) // 2 + 1
    if kind == "B":
        raw = data if isinstance(data, bytes) else b64decode(data)
        return len(raw)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS",):
        return sum(len(s.encode("utf-8")) for s in data)
    if kind in ("NS",):
        return sum(_value_size({"N": n}) for n in data)
    if kind == "L":
        return 3 + sum(_value_size(v) + 1 for v in data)
    if kind == "M":
        return 3 + sum(
            len(k.encode("utf-8")) + _value_size(v) + 1
            for k, v in data.items()
        )
    raise ValueError(f"unknown DynamoDB type {kind}")


def item_size(item: Dict[str, Dict[str, Any]]) -> int:
    """Approximate size in bytes of a DynamoDB item (low-level JSON form):
    attribute names plus values, lists/maps with 3 bytes of overhead and
    1 byte per element, as the DynamoDB developer guide describes."""
    return sum(
        len(name.encode("utf-8")) + _value_size(value)
        for name, value in item.items()
    )


def payload_sizes(events: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Largest state input/output among Step Functions history events
    (``get_execution_history`` items), in bytes, with its event type and
    the state it belongs to (the last state entered)."""
    best = {"bytes": 0, "event": None, "state": None}
    state = None
    for event in events:
        for details in event.values():
            if not isinstance(details, dict):
                continue
            if event.get("type", "").endswith("StateEntered"):
                state = details.get("name", state)
            for field in ("input", "output"):
                text = details.get(field)
                if isinstance(text, str):
                    size = len(text.encode("utf-8"))
                    if size > best["bytes"]:
                        best = {
                            "bytes": size,
                            "event": event.get("type"),
                            "state": details.get("name") or state,
                        }
    return best


def write_results(
    result: Dict[str, Any], out_dir: Path, stamp: str
) -> Dict[str, Path]:
    """``<out_dir>/<stamp>.json`` and ``<out_dir>/latest.json``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, sort_keys=True, default=str) + "\n"
    paths = {
        "run": out_dir / f"{stamp}.json",
        "latest": out_dir / "latest.json",
    }
    for path in paths.values():
        path.write_text(text)
    return paths


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def render_table(rows: List[Sequence[Any]]) -> str:
    """``(benchmark, figure, value)`` rows as an aligned text table."""
    header = ("benchmark", "figure", "value")
    cells = [header] + [tuple(_cell(c) for c in row) for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(2)]
    lines = []
    for i, row in enumerate(cells):
        lines.append(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}")
        if i == 0:
            lines.append(f"{'-' * widths[0]}  {'-' * widths[1]}  {'-' * 5}")
    return "\n".join(lines)
