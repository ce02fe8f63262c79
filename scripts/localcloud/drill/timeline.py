"""``timeline.png``: the waves on top, side by side when they ran
together (one lane per overlap, not one row per time slice), the
critical path outlined; below, one horizontal bar per server, colored by
phase (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .graph import lanes

PHASE_COLORS = {
    "pending": "#c7c7c7",
    "start": "#c7c7c7",
    "snapshot": "#6baed6",
    "conversion": "#9e9ac8",
    "launch": "#fd8d3c",
    "in_progress": "#fdd0a2",
}
OTHER_COLOR = "#bcbd22"
LAUNCHED_COLOR = "#2ca02c"
FAILED_COLOR = "#d62728"
WAVE_COLORS = ("#dbe9f6", "#e5f5e0", "#fdeacc", "#efe3f5")
CRITICAL_COLOR = "#b2182b"


def _rows(report: dict[str, Any]) -> list[tuple[dict, dict]]:
    return [
        (wave, server)
        for wave in report["waves"]
        for server in wave["servers"]
    ]


def _wave_bands(ax: Any, report: dict[str, Any], minutes: float) -> int:
    """Draw the waves as bands in lanes (rows 0..n-1); return n."""
    spans = {
        w["waveNumber"]: (w["start"], w["end"])
        for w in report["waves"]
        if w["start"] is not None
    }
    placed = lanes(spans)
    critical = set((report.get("graph") or {}).get("criticalPath") or [])
    for index, wave in enumerate(report["waves"]):
        number = wave["waveNumber"]
        if number not in placed:
            continue
        start, end = spans[number]
        end = end if end is not None else start
        on_path = number in critical
        ax.barh(
            placed[number],
            max(end - start, 1.0) / minutes,
            left=start / minutes,
            height=0.7,
            color=WAVE_COLORS[index % len(WAVE_COLORS)],
            edgecolor=CRITICAL_COLOR if on_path else "#666666",
            linewidth=2.2 if on_path else 0.8,
        )
        ax.text(
            start / minutes,
            placed[number],
            f" W{number} {wave['waveName'] or ''} ({wave['status']})",
            fontsize=8,
            va="center",
            color=CRITICAL_COLOR if on_path else "#222222",
        )
    return max(placed.values(), default=-1) + 1


def _graph_title(report: dict[str, Any]) -> str:
    graph = report.get("graph") or {}
    if not graph.get("makespanSeconds"):
        return ""
    return (
        f" - makespan {graph['makespanSeconds'] / 60:.1f} min, critical"
        f" path {graph['criticalPathSeconds'] / 60:.1f} min"
    )


def render_timeline(report: dict[str, Any], path: str | Path) -> Path:
    """Draw the report's timeline into ``path`` (PNG); return the path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    rows = _rows(report)
    minutes = 60.0
    band_lanes = len({w["waveNumber"] for w in report["waves"]})
    height = max(3.0, 0.42 * (len(rows) + band_lanes + 1) + 2.0)
    fig, ax = plt.subplots(figsize=(11, height), dpi=110)
    # Waves on top (lanes 0..n-1), a gap, then one row per server.
    top = _wave_bands(ax, report, minutes)
    first = top + 1 if top else 0
    seen_phases: list[str] = []
    for y, (_wave, server) in enumerate(rows, start=first):
        for seg in server["phases"]:
            if seg["end"] is None:
                continue
            color = PHASE_COLORS.get(seg["phase"], OTHER_COLOR)
            if seg["phase"] not in seen_phases:
                seen_phases.append(seg["phase"])
            ax.barh(
                y,
                (seg["end"] - seg["start"]) / minutes,
                left=seg["start"] / minutes,
                color=color,
                edgecolor="white",
                height=0.6,
            )
        end = max(
            [s["end"] for s in server["phases"] if s["end"] is not None] or [0]
        )
        status = server.get("status")
        if status in ("LAUNCHED", "FAILED", "TERMINATED"):
            ax.plot(
                end / minutes,
                y,
                marker="*" if status != "FAILED" else "X",
                markersize=11,
                color=FAILED_COLOR if status == "FAILED" else LAUNCHED_COLOR,
            )
    for pause in report.get("pauses") or []:
        if pause["end"] is None:
            continue
        ax.axvspan(
            pause["start"] / minutes,
            pause["end"] / minutes,
            facecolor="none",
            edgecolor="#999999",
            hatch="//",
            lw=0,
            zorder=0,
        )
        if pause["end"] - pause["start"] < 90:
            continue  # too narrow for a label; the hatch shows it
        ax.text(
            (pause["start"] + pause["end"]) / 2 / minutes,
            -0.75,
            "paused",
            fontsize=8,
            ha="center",
            va="top",
            color="#555555",
        )
    ax.set_xlim(left=0)
    ax.set_yticks(list(range(top)) + list(range(first, first + len(rows))))
    ax.set_yticklabels(
        ["waves"] * top
        + [
            f"W{w['waveNumber']} {s['hostname']}"
            + (" (skipped)" if w.get("status") == "SKIPPED" else "")
            for w, s in rows
        ],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_ylim(first + len(rows) - 0.4, -1.0)
    ax.set_xlabel("simulated minutes since drill start")
    rto = report["rto"]["simulatedSeconds"]
    ax.set_title(
        f"{report.get('planName')} - {report.get('executionType')} "
        f"{report.get('status')}"
        + (f" - RTO {rto / minutes:.1f} min" if rto else "")
        + _graph_title(report),
        fontsize=10,
    )
    handles = [
        Patch(color=PHASE_COLORS.get(p, OTHER_COLOR), label=p)
        for p in seen_phases
    ]
    handles += [
        Patch(color=LAUNCHED_COLOR, label="launched"),
        Patch(color=FAILED_COLOR, label="failed"),
    ]
    if (report.get("graph") or {}).get("criticalPath"):
        handles.append(
            Patch(
                facecolor="white",
                edgecolor=CRITICAL_COLOR,
                linewidth=2,
                label="critical path",
            )
        )
    fig.legend(
        handles=handles,
        loc="lower center",
        fontsize=8,
        ncol=len(handles),
        frameon=False,
    )
    ax.grid(axis="x", color="#eeeeee")
    ax.set_axisbelow(True)
    # Room at the bottom for the legend (about 0.45 inch).
    fig.tight_layout(rect=(0, 0.45 / height, 1, 1))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
