"""Per-server phase history, observed while polling an execution.

Times are simulated seconds since the drill started (``t = wall elapsed
x speed``: the local cloud's clock is linear). ``refine_with_job_logs``
replaces the sampled boundaries with the DRS job log's exact ones when the
execution-handler's ``get_execution_job_logs`` answer carries them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterator

FINAL = {"LAUNCHED", "FAILED", "TERMINATED"}
# Waves that have not started (issue 17: waiting for approval, or never
# to start because a wave they depend on failed).
NOT_STARTED = {"PENDING", "WAITING_APPROVAL", "SKIPPED"}
# DRS job log events -> (phase started, phase ended)
LOG_PHASES = {
    "SNAPSHOT_START": ("snapshot", "pending"),
    "SNAPSHOT_END": (None, "snapshot"),
    "CONVERSION_START": ("conversion", None),
    "CONVERSION_END": (None, "conversion"),
    "LAUNCH_START": ("launch", None),
}


def phase_label(server: dict[str, Any]) -> str | None:
    """The phase a server is in; ``None`` once it is final."""
    status = str(server.get("status") or "PENDING").upper()
    if status in FINAL:
        return None
    phase = str(server.get("phase") or "").strip().lower()
    if phase in ("launched", "completed", "failed"):
        return None
    return phase or ("pending" if status == "PENDING" else "in_progress")


class PhaseRecorder:
    """Record, per server, ``[phase, start, end]`` segments and outcomes."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = float(speed)
        self.segments: dict[str, list[list[Any]]] = {}
        self.outcome: dict[str, tuple[str, float]] = {}
        self.wave_of: dict[str, int] = {}
        self.wave_seen: dict[int, list[float | None]] = {}
        self.pauses: list[list[float | None]] = []

    def observe(self, details: dict[str, Any], elapsed_wall: float) -> None:
        """Take one sample of ``get_execution_details``."""
        now = elapsed_wall * self.speed
        paused = str(details.get("status")) == "PAUSED"
        if paused and (not self.pauses or self.pauses[-1][1] is not None):
            self.pauses.append([now, None])
        elif not paused and self.pauses and self.pauses[-1][1] is None:
            self.pauses[-1][1] = now
        for wave in details.get("waves") or []:
            number = int(wave.get("waveNumber") or 0)
            status = str(wave.get("status") or "PENDING").upper()
            seen = self.wave_seen.setdefault(number, [None, None])
            if status in NOT_STARTED:
                continue  # servers listed ahead of their wave's start
            if seen[0] is None:
                seen[0] = now
            if status in ("COMPLETED", "FAILED", "CANCELLED"):
                if seen[1] is None:
                    seen[1] = now
            for server in wave.get("servers") or []:
                self._server(number, server, now)

    def _server(self, wave: int, server: dict[str, Any], now: float) -> None:
        sid = str(server.get("sourceServerId") or "?")
        self.wave_of[sid] = wave
        segments = self.segments.setdefault(sid, [])
        is_open = bool(segments) and segments[-1][2] is None
        label = phase_label(server)
        if is_open and segments[-1][0] == label:
            return
        if is_open:
            segments[-1][2] = now
        if label is not None:
            segments.append([label, now, None])
        elif sid not in self.outcome:
            status = str(server.get("status") or "").upper()
            self.outcome[sid] = (status, now)

    def close(self, elapsed_wall: float) -> None:
        """End every open segment (the drill is over)."""
        now = elapsed_wall * self.speed
        if self.pauses and self.pauses[-1][1] is None:
            self.pauses[-1][1] = now
        for segments in self.segments.values():
            if segments and segments[-1][2] is None:
                segments[-1][2] = now

    def launch_offset(self, sid: str) -> float | None:
        """When a server was seen LAUNCHED (sim seconds), if it was."""
        status, when = self.outcome.get(sid, ("", None))
        return when if status == "LAUNCHED" else None


def _log_items(value: Any) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        if "event" in value and "logDateTime" in value:
            yield value
            return
        for item in value.values():
            yield from _log_items(item)
    elif isinstance(value, list):
        for item in value:
            yield from _log_items(item)


def parse_time(value: Any) -> float | None:
    """Epoch seconds of an ISO string or number (``None`` if neither)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(
            str(value).replace("Z", "+00:00")
        ).timestamp()
    except ValueError:
        return None


LIVE_PHASE = {
    "SNAPSHOT_START": "snapshot",
    "CONVERSION_START": "conversion",
    "LAUNCH_START": "launch",
}


def current_phases(job_logs: Any) -> dict[str, str]:
    """Source server id -> the phase its latest job log event started."""
    latest: dict[str, tuple[float, str]] = {}
    for item in _log_items(job_logs):
        sid = (item.get("eventData") or {}).get("sourceServerID")
        phase = LIVE_PHASE.get(item["event"])
        when = parse_time(item.get("logDateTime"))
        if sid and phase and when is not None:
            if sid not in latest or when >= latest[sid][0]:
                latest[sid] = (when, phase)
    return {sid: phase for sid, (_, phase) in latest.items()}


def with_phases(details: dict[str, Any], phases: dict[str, str]) -> None:
    """Fill ``phase`` of in-progress servers that the record leaves out."""
    for wave in details.get("waves") or []:
        for server in wave.get("servers") or []:
            sid = server.get("sourceServerId")
            if not server.get("phase") and sid in phases:
                status = str(server.get("status") or "").upper()
                if status not in FINAL:
                    server["phase"] = phases[sid]


def failure_reasons(job_logs: Any) -> dict[str, str]:
    """Source server id -> the job log's reason for a failed launch."""
    reasons = {}
    for item in _log_items(job_logs):
        data = item.get("eventData") or {}
        if item["event"] in ("LAUNCH_FAILED", "CONVERSION_FAIL"):
            sid = data.get("sourceServerID")
            if sid:
                reasons[sid] = data.get("rawError") or item["event"]
    return reasons


def with_reasons(details: dict[str, Any], reasons: dict[str, str]) -> None:
    """Give failed servers without an ``error`` the job log's reason."""
    for wave in details.get("waves") or []:
        for server in wave.get("servers") or []:
            sid = server.get("sourceServerId")
            if server.get("status") == "FAILED" and sid in reasons:
                server.setdefault("error", reasons[sid])


def server_elapsed(
    recorder: "PhaseRecorder", sid: str, now: float
) -> float | None:
    """Simulated seconds a server has been (or was) recovering."""
    segments = recorder.segments.get(sid)
    if not segments:
        return None
    _, end = recorder.outcome.get(sid, ("", None))
    return (end if end is not None else now) - segments[0][1]


def job_ends(job_logs: Any, sim_zero: float) -> dict[str, float]:
    """jobId -> its ``JOB_END`` (simulated seconds since ``sim_zero``)
    from a ``get_execution_job_logs`` answer: DRS's own moment, where
    the record's is seen a sample later."""
    ends: dict[str, float] = {}
    for log in (job_logs or {}).get("jobLogs") or []:
        for item in log.get("items") or []:
            when = parse_time(item.get("logDateTime"))
            if item.get("event") == "JOB_END" and when is not None:
                ends[str(log.get("jobId"))] = when - sim_zero
    return ends


def refine_with_job_logs(
    recorder: PhaseRecorder, job_logs: Any, sim_zero: float
) -> int:
    """Replace sampled phase boundaries by the job log's exact ones.

    ``sim_zero`` is the simulated epoch of the drill start. Returns how
    many servers were refined (those whose log has every phase start).
    """
    starts: dict[str, dict[str, float]] = {}
    for item in _log_items(job_logs):
        data = item.get("eventData") or {}
        sid = data.get("sourceServerID")
        when = parse_time(item.get("logDateTime"))
        if not sid or when is None or item["event"] not in LOG_PHASES:
            continue
        starts.setdefault(sid, {})[item["event"]] = when - sim_zero
    refined = 0
    for sid, events in starts.items():
        segments = recorder.segments.get(sid)
        needed = ("SNAPSHOT_START", "CONVERSION_START", "LAUNCH_START")
        if not segments or not all(e in events for e in needed):
            continue
        first = segments[0][1]
        _, end = recorder.outcome.get(sid, ("", segments[-1][2]))
        points = [
            ("pending", first, events["SNAPSHOT_START"]),
            ("snapshot", events["SNAPSHOT_START"], events["CONVERSION_START"]),
            ("conversion", events["CONVERSION_START"], events["LAUNCH_START"]),
            ("launch", events["LAUNCH_START"], end),
        ]
        recorder.segments[sid] = [
            [phase, start, stop]
            for phase, start, stop in points
            if stop is None or stop > start
        ]
        refined += 1
    return refined
