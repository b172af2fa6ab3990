"""Processes the scripts start and stop by PID: whether one still runs, its log's tail, stopping it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Optional


def alive(pid: int) -> bool:
    """True while `pid` runs; a zombie child of ours (exited, not yet reaped) is reaped and counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(ChildProcessError):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    return True


def tail(path: Path, lines: int = 40) -> str:
    """The last `lines` lines of a log (reading at most its last 64 KiB), for error messages."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 64 * 1024))
            data = f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"
    return "\n".join(data.splitlines()[-lines:])


def terminate(pid: int, timeout: float, popen: Optional[subprocess.Popen] = None) -> None:
    """SIGTERM (servers flush and shut down gracefully), then SIGKILL after `timeout` seconds."""

    def gone() -> bool:
        return popen.poll() is not None if popen is not None else not alive(pid)

    if gone():
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone():
            return
        time.sleep(0.2)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return
    if popen is not None:
        popen.wait(10)
