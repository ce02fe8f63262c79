"""``timeline.png``: one horizontal bar per server, colored by phase,
wave boundaries marked (matplotlib, Agg backend, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def _rows(report: dict[str, Any]) -> list[tuple[dict, dict]]:
    return [
        (wave, server)
        for wave in report["waves"]
        for server in wave["servers"]
    ]


def render_timeline(report: dict[str, Any], path: str | Path) -> Path:
    """Draw the report's timeline into ``path`` (PNG); return the path."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.patches import Patch

    rows = _rows(report)
    height = max(3.0, 0.42 * len(rows) + 2.0)
    fig, ax = plt.subplots(figsize=(11, height), dpi=110)
    minutes = 60.0
    seen_phases: list[str] = []
    for y, (_wave, server) in enumerate(rows):
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
    for index, wave in enumerate(report["waves"]):
        if wave["start"] is None:
            continue
        end = wave["end"] if wave["end"] is not None else wave["start"]
        ax.axvspan(
            wave["start"] / minutes,
            end / minutes,
            color="#f2f2f2" if index % 2 == 0 else "#e6eef7",
            zorder=0,
        )
        ax.axvline(wave["start"] / minutes, color="#444444", lw=0.8)
        ax.text(
            wave["start"] / minutes,
            -0.75,
            f" W{wave['waveNumber']} {wave['waveName'] or ''}",
            fontsize=8,
            va="top",
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
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels(
        [f"W{w['waveNumber']} {s['hostname']}" for w, s in rows],
        fontsize=8,
    )
    ax.invert_yaxis()
    ax.set_ylim(len(rows) - 0.4, -1.0)
    ax.set_xlabel("simulated minutes since drill start")
    rto = report["rto"]["simulatedSeconds"]
    ax.set_title(
        f"{report.get('planName')} - {report.get('executionType')} "
        f"{report.get('status')}"
        + (f" - RTO {rto / minutes:.1f} min" if rto else ""),
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
