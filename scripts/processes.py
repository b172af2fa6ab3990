"""Processes the scripts start and stop by PID: whether one still runs."""

from __future__ import annotations

import contextlib
import os


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
