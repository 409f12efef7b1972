"""Fault injection for tests: make a writer die or fail at a named point.

``VNSEARCH_FAULT=POINT[:ACTION]`` in the environment of a writing command makes
it, on reaching ``POINT``:

- ``kill`` (the default): SIGKILL itself, as the OOM killer or a power cut would;
- ``enospc``: raise ``OSError(ENOSPC)``, as a full disk would;
- ``hang``: sleep until killed, as a stuck process would.

Points: ``after-commit`` (Whoosh has committed an update or delete, MANIFEST.json
is not yet rewritten), ``before-toc`` (a commit's segment files are written,
its table of contents is not) and ``subwriter-start`` (a sub-writer process of a
parallel build has started; with ``hang`` the build can only end by a kill, so a
test can kill it while its sub-writers are alive, however fast the machine).
Unset, it costs one dictionary lookup per point.
Tests use it to aim at a window that timing alone hits only now and then
(a kill between commit and manifest: 1 in 4 aimed kills, issue 15).
"""

from __future__ import annotations

import errno
import os
import signal
import time

__all__ = ["ENV", "POINTS", "fault"]

ENV = "VNSEARCH_FAULT"
POINTS = ("after-commit", "before-toc", "subwriter-start")


def fault(point: str) -> None:
    """Die or fail here if ``VNSEARCH_FAULT`` names this point."""
    spec = os.environ.get(ENV)
    if not spec:
        return
    name, _, action = spec.partition(":")
    if name != point:
        return
    if action in ("", "kill"):
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "enospc":
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), f"{ENV}={spec}")
    elif action == "hang":
        while True:
            time.sleep(3600)
