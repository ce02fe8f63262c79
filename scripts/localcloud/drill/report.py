"""The drill report: per wave and per server, the measured RTO, failures.

Times in the report are simulated seconds since the drill started
(``t``), with the record's own timestamps kept as given. ``summary_text``
renders the tables printed at the end of a drill.
"""

from __future__ import annotations

from typing import Any

from .graph import after_text, graph_summary
from .phases import PhaseRecorder
from .progress import clock_text

SERVER_FIELDS = (
    "sourceServerId",
    "hostname",
    "status",
    "phase",
    "recoveryInstanceId",
    "instanceId",
    "privateIp",
    "launchTime",
)


def _server_entry(
    server: dict[str, Any],
    recorder: PhaseRecorder,
    hostnames: dict[str, str],
) -> dict[str, Any]:
    sid = str(server.get("sourceServerId") or "?")
    entry = {k: server.get(k) for k in SERVER_FIELDS}
    entry["hostname"] = entry["hostname"] or hostnames.get(sid) or sid
    entry["launchedAt"] = recorder.launch_offset(sid)
    entry["phases"] = [
        {"phase": p, "start": s, "end": e}
        for p, s, e in recorder.segments.get(sid, [])
    ]
    if server.get("error") or server.get("statusReason"):
        entry["error"] = server.get("error") or server.get("statusReason")
    return entry


def _wave_entry(
    wave: dict[str, Any],
    recorder: PhaseRecorder,
    hostnames: dict[str, str],
    ends: dict[str, float],
) -> dict[str, Any]:
    number = int(wave.get("waveNumber") or 0)
    start, end = recorder.wave_seen.get(number, [None, None])
    servers = [
        _server_entry(s, recorder, hostnames)
        for s in wave.get("servers") or []
    ]
    # The record sees a wave start on its next poll; the job log's first
    # event of its servers is when DRS really started it.
    firsts = [s["phases"][0]["start"] for s in servers if s["phases"]]
    if firsts and start is not None:
        start = min([start] + firsts)
    # Likewise it is seen COMPLETED a sample after its last server was
    # seen LAUNCHED (at speed 60 a sample is up to a simulated minute):
    # the next wave's first job-log event could otherwise come before
    # this wave's end.
    launched = [s["launchedAt"] for s in servers if s["launchedAt"]]
    if wave.get("status") == "COMPLETED" and end is not None and launched:
        if len(launched) == len(servers):
            end = min(end, max(launched))
    # Exact when the job log has it: the wave's last job's JOB_END (a
    # sample sees the last launch up to a follow interval late, more
    # than a wave boundary now takes).
    jobs = [str(j) for j in wave.get("jobIds") or []]
    if wave.get("status") == "COMPLETED" and jobs and end is not None:
        if all(j in ends for j in jobs):
            end = min(end, max(ends[j] for j in jobs))
    return {
        "waveNumber": number,
        "waveName": wave.get("waveName"),
        "status": wave.get("status"),
        "jobId": wave.get("jobId"),
        "region": wave.get("region"),
        "accountId": wave.get("accountId"),
        "startTime": wave.get("startTime"),
        "endTime": wave.get("endTime"),
        "start": start,
        "end": end,
        "duration": None if start is None or end is None else end - start,
        "servers": servers,
    }


def failures(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The failed waves and servers, each with a reason."""
    found = []
    for wave in report["waves"]:
        bad = [s for s in wave["servers"] if s.get("status") == "FAILED"]
        for server in bad:
            found.append(
                {
                    "waveNumber": wave["waveNumber"],
                    "waveName": wave["waveName"],
                    "sourceServerId": server["sourceServerId"],
                    "hostname": server["hostname"],
                    "reason": server.get("error") or "launch FAILED",
                }
            )
        if wave.get("status") == "FAILED" and not bad:
            found.append(
                {
                    "waveNumber": wave["waveNumber"],
                    "waveName": wave["waveName"],
                    "reason": "wave FAILED",
                }
            )
    return found


def build_report(
    details: dict[str, Any],
    recorder: PhaseRecorder,
    *,
    speed: float,
    wall_seconds: float,
    paused_wall_seconds: float = 0.0,
    hostnames: dict[str, str] | None = None,
    started_at: str | None = None,
    depends: dict[int, list[int]] | None = None,
    job_ends: dict[str, float] | None = None,
) -> dict[str, Any]:
    """The report of a finished (or stopped) execution; with the plan's
    graph (``depends``: waveNumber -> waves it waits for), its makespan
    and critical path (``graph``); ``job_ends``: jobId -> its JOB_END
    (``phases.job_ends``)."""
    hostnames = hostnames or {}
    waves = [
        _wave_entry(w, recorder, hostnames, job_ends or {})
        for w in details.get("waves") or []
    ]
    launches = [
        s["launchedAt"]
        for w in waves
        for s in w["servers"]
        if s["launchedAt"] is not None
    ]
    last = max(launches) if launches else None
    ends = [w["end"] for w in waves if w["status"] == "COMPLETED"]
    if last is not None and ends and len(ends) == len(waves):
        # Every wave ended: the last end (exact from the job log where it
        # has it) rather than a launch seen a sample late.
        last = min(last, max(e for e in ends if e is not None))
    report = {
        "executionId": details.get("executionId"),
        "planId": details.get("planId"),
        "planName": details.get("planName"),
        "executionType": details.get("executionType"),
        "status": details.get("status"),
        "statusReason": details.get("statusReason"),
        "errorCode": details.get("errorCode"),
        "startedAt": started_at,
        "speed": speed,
        "rto": {
            "simulatedSeconds": None if last is None else round(last, 1),
            "wallSeconds": None if last is None else round(last / speed, 1),
            "pausedWallSeconds": round(paused_wall_seconds, 1),
            "serversLaunched": len(launches),
        },
        "wallSeconds": round(wall_seconds, 1),
        "pauses": [{"start": a, "end": b} for a, b in recorder.pauses],
        "waves": waves,
    }
    report["failures"] = failures(report)
    if depends:
        report["graph"] = graph_summary(
            depends, {w["waveNumber"]: (w["start"], w["end"]) for w in waves}
        )
        # A wave's duration excludes its wait for approval; the makespan
        # includes the time the execution was paused.
        report["graph"]["pausedSeconds"] = round(
            sum(
                p["end"] - p["start"]
                for p in report["pauses"]
                if p["end"] is not None
            ),
            1,
        )
    return report


def graph_text(graph: dict[str, Any]) -> str:
    """One line: makespan, critical path bound and chain, their ratio."""
    chain = " -> ".join(f"W{n}" for n in graph["criticalPath"]) or "-"
    ratio = graph.get("ratio")
    return (
        f"Makespan {clock_text(graph['makespanSeconds'])} simulated;"
        f" critical path {clock_text(graph['criticalPathSeconds'])}"
        f" ({chain}); sum of waves {clock_text(graph['sumOfWavesSeconds'])}"
        + (f"; makespan / critical path {ratio:.3f}" if ratio else "")
        + ("" if not graph["linear"] else " (linear plan)")
        + (
            f"; the makespan includes {clock_text(graph['pausedSeconds'])}"
            " paused"
            if graph.get("pausedSeconds")
            else ""
        )
    )


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return [line.rstrip() for line in lines]


def summary_text(report: dict[str, Any]) -> str:
    """The end-of-drill tables: waves, servers, RTO, failures."""
    waves = [
        [
            "wave",
            "name",
            "after",
            "status",
            "servers",
            "start",
            "end",
            "duration",
        ]
    ]
    depends = (report.get("graph") or {}).get("dependsOnWaves") or {}
    servers = [
        [
            "wave",
            "server",
            "status",
            "recovery instance",
            "IP",
            "launched at (sim)",
            "EC2 launch time",
        ]
    ]
    for wave in report["waves"]:
        waves.append(
            [
                str(wave["waveNumber"]),
                str(wave["waveName"] or ""),
                after_text(depends.get(str(wave["waveNumber"]))),
                str(wave["status"] or ""),
                str(len(wave["servers"])),
                clock_text(wave["start"]),
                clock_text(wave["end"]),
                clock_text(wave["duration"]),
            ]
        )
        for server in wave["servers"]:
            servers.append(
                [
                    str(wave["waveNumber"]),
                    str(server["hostname"]),
                    str(server["status"] or ""),
                    str(server.get("recoveryInstanceId") or "-"),
                    str(server.get("privateIp") or "-"),
                    clock_text(server["launchedAt"]),
                    str(server.get("launchTime") or "-"),
                ]
            )
    rto = report["rto"]
    lines = [
        f"Execution {report['executionId']} ({report['executionType']}): "
        f"{report['status']}",
        "",
        *_table(waves),
        "",
        *_table(servers),
        "",
        f"RTO (start -> last launch): {clock_text(rto['simulatedSeconds'])}"
        f" simulated, {clock_text(rto['wallSeconds'])} wall at speed "
        f"{report['speed']:g}; pause held {rto['pausedWallSeconds']}s wall;"
        f" drill wall time {report['wallSeconds']}s",
    ]
    if report.get("graph"):
        lines.append(graph_text(report["graph"]))
    for failure in report["failures"]:
        lines.append(
            f"FAILED: wave {failure['waveNumber']} "
            f"({failure['waveName']}): "
            + (
                f"server {failure['hostname']} "
                f"({failure['sourceServerId']}): "
                if failure.get("sourceServerId")
                else ""
            )
            + failure["reason"]
        )
    return "\n".join(lines)
