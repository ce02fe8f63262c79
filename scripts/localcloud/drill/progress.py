"""Live progress of an execution: per wave, per server, a progress bar.

``ProgressView.update(details, elapsed)`` takes ``get_execution_details``
output. On a terminal it redraws a block in place (plain ANSI); otherwise
it prints one line per change, so logs and CI stay readable.
"""

from __future__ import annotations

import re
import shutil
import sys
from typing import Any, TextIO

from .graph import after_text, running_text

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """``text`` without ANSI escape codes."""
    return _ANSI.sub("", text)


def visible_len(text: str) -> int:
    """Printed width of ``text`` (escape codes excluded)."""
    return len(strip_ansi(text))


# Weight of a server's progress by its phase (unknown phases count half).
PHASE_WEIGHT = {
    "pending": 0.0,
    "start": 0.05,
    "started": 0.05,
    "snapshot": 0.2,
    "conversion": 0.45,
    "launch": 0.8,
    "launching": 0.8,
    "launched": 1.0,
    "failed": 1.0,
}
DONE = {"LAUNCHED", "FAILED", "TERMINATED"}
WAVE_DONE = {"COMPLETED", "FAILED", "CANCELLED"}
COLORS = {
    "COMPLETED": "32",
    "LAUNCHED": "32",
    "FAILED": "31",
    "CANCELLED": "33",
    "PAUSED": "33",
    "STARTED": "36",
    "IN_PROGRESS": "36",
    "RUNNING": "36",
}


def clock_text(seconds: float | None) -> str:
    """``H:MM:SS`` of a duration (``-`` when unknown)."""
    if seconds is None:
        return "-"
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def server_fraction(server: dict[str, Any]) -> float:
    """0..1: how far one server is, from its status and phase."""
    status = str(server.get("status") or "PENDING").upper()
    if status in DONE:
        return 1.0
    phase = str(server.get("phase") or "").lower()
    if status == "PENDING" and not phase:
        return 0.0
    return PHASE_WEIGHT.get(phase, 0.5)


def wave_fraction(wave: dict[str, Any]) -> float:
    """0..1 for one wave (a finished wave is 1)."""
    status = str(wave.get("status") or "PENDING").upper()
    if status in WAVE_DONE:
        return 1.0
    servers = wave.get("servers") or []
    if not servers:
        return 0.05 if status == "STARTED" else 0.0
    return sum(server_fraction(s) for s in servers) / len(servers)


def overall_fraction(details: dict[str, Any]) -> float:
    """0..1 over all waves of an execution."""
    waves = details.get("waves") or []
    if not waves:
        return 0.0
    return sum(wave_fraction(w) for w in waves) / len(waves)


def bar(fraction: float, width: int = 30) -> str:
    """``[#####-----]  50%``."""
    fraction = min(1.0, max(0.0, fraction))
    filled = int(round(fraction * width))
    return f"[{'#' * filled}{'-' * (width - filled)}] {fraction:4.0%}"


class ProgressView:
    """Render execution progress to ``stream``.

    ``hostnames`` maps source server id -> hostname (from the setup) for
    records that do not carry one.
    """

    def __init__(
        self,
        stream: TextIO | None = None,
        tty: bool | None = None,
        hostnames: dict[str, str] | None = None,
        speed: float = 1.0,
        label: str = "",
    ) -> None:
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        self.hostnames = dict(hostnames or {})
        self.speed = speed
        self.label = f"{label}: " if label else ""
        self._drawn = 0
        self._last: dict[str, str] = {}
        self._decile = -1
        # sid -> simulated seconds recovering (set by the runner)
        self.elapsed: dict[str, float | None] = {}
        # the plan's graph and the critical path so far (issue 17)
        self.depends: dict[int, list[int]] = {}
        self.critical: set[int] = set()

    # text ---------------------------------------------------------------
    def _color(self, text: str, status: str) -> str:
        code = COLORS.get(status.upper())
        if not self.tty or not code:
            return text
        return f"\x1b[{code}m{text}\x1b[0m"

    def host(self, server: dict[str, Any]) -> str:
        """A server's display name."""
        sid = server.get("sourceServerId", "?")
        return server.get("hostname") or self.hostnames.get(sid) or sid

    def block(self, details: dict[str, Any], elapsed: float) -> list[str]:
        """The lines of the full progress block."""
        status = str(details.get("status", "?"))
        kind = details.get("executionType", "")
        head = (
            f"{details.get('planName', '?')} {kind}"
            f" {str(details.get('executionId', '?'))[:8]} "
            + self._color(f"{status:<10}", status)
            + f" sim {clock_text(elapsed * self.speed)}"
            f" wall {clock_text(elapsed)}"
        )
        lines = [head, bar(overall_fraction(details))]
        running = running_text(details.get("waves") or [])
        if running:
            lines.append(f"  running together: {running}")
        for wave in details.get("waves") or []:
            wstatus = str(wave.get("status") or "PENDING")
            servers = wave.get("servers") or []
            launched = sum(1 for s in servers if s.get("status") == "LAUNCHED")
            lines.append(
                self.wave_mark(wave) + f" Wave {wave.get('waveNumber')} "
                f"{str(wave.get('waveName', ''))[:22]:<22} "
                + self._color(f"{wstatus:<16}", wstatus)
                + f" {launched}/{len(servers)} launched"
                + self.wave_after(wave)
            )
            for server in servers:
                sstatus = str(server.get("status") or "PENDING")
                took = self.elapsed.get(server.get("sourceServerId", ""))
                lines.append(
                    f"      {self.host(server)[:16]:<16} "
                    + self._color(f"{sstatus:<11}", sstatus)
                    + f" {str(server.get('phase') or '-'):<10}"
                    f" {clock_text(took):>8}"
                    f" {server.get('recoveryInstanceId') or ''}"
                )
        return lines

    def wave_mark(self, wave: dict[str, Any]) -> str:
        """``*`` before a wave on the critical path so far."""
        return "*" if wave.get("waveNumber") in self.critical else " "

    def wave_after(self, wave: dict[str, Any]) -> str:
        """`` after W2+W3`` / `` after start`` (plans with a graph)."""
        if not self.depends:
            return ""
        return " after " + after_text(self.depends.get(wave["waveNumber"]))

    def changes(self, details: dict[str, Any]) -> list[str]:
        """Lines describing what changed since the last call."""
        state = {
            "execution": str(details.get("status")),
            # waves side by side: one line whenever the set changes
            "running together": running_text(details.get("waves") or []),
        }
        for wave in details.get("waves") or []:
            number = wave.get("waveNumber")
            state[f"wave {number}"] = str(wave.get("status"))
            for server in wave.get("servers") or []:
                key = f"wave {number} {self.host(server)}"
                state[key] = " ".join(
                    str(v)
                    for v in (server.get("status"), server.get("phase"))
                    if v
                )
        out = [
            f"{key}: {value}"
            for key, value in state.items()
            if value and self._last.get(key) != value
        ]
        self._last = state
        return out

    # output -------------------------------------------------------------
    def update(self, details: dict[str, Any], elapsed: float) -> None:
        """Show the current state (redraw on a TTY, changes otherwise)."""
        if self.tty:
            self.redraw(self.block(details, elapsed))
            return
        stamp = f"[sim {clock_text(elapsed * self.speed)}] {self.label}"
        for line in self.changes(details):
            self.stream.write(f"{stamp}{line}\n")
        fraction = overall_fraction(details)
        if int(fraction * 10) != self._decile:
            self._decile = int(fraction * 10)
            self.stream.write(f"{stamp}{bar(fraction)}\n")
        self.stream.flush()

    def redraw(self, lines: list[str]) -> None:
        """Draw ``lines`` over the previously drawn block (TTY)."""
        if self._drawn:
            self.stream.write(f"\x1b[{self._drawn}F")
        width = shutil.get_terminal_size().columns
        for line in lines:
            # A wrapped line would break the cursor-up count: cut it
            # (escape codes only add width, so cut the visible text).
            if visible_len(line) >= width:
                line = strip_ansi(line)[: width - 1]
            self.stream.write("\x1b[2K" + line + "\n")
        self.stream.write("\x1b[J")
        self._drawn = len(lines)
        self.stream.flush()

    def message(self, text: str) -> None:
        """A line below the block (the block is drawn afresh next time)."""
        if self.tty and self._drawn:
            self._drawn = 0
        self.stream.write(text + "\n")
        self.stream.flush()
