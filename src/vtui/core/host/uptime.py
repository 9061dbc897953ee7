"""When did a running guest start? libvirt does not say; QEMU's pid file does.

libvirt writes /run/libvirt/qemu/NAME.pid when it starts a system guest. Locally we
stat it; over SSH one remote command reads every pid file's mtime together with the
host's own clock, so clock skew between the machines does not matter.
"""

from __future__ import annotations

import os
import time

from vtui.core.errors import VtuiError
from vtui.core.uri import is_local

PID_DIR = "/run/libvirt/qemu"
REMOTE_COMMAND = f"date +%s; stat -c '%Y %n' {PID_DIR}/*.pid 2>/dev/null"


def _system_qemu(uri: str) -> bool:
    return uri.startswith("qemu") and uri.split("?")[0].rstrip("/").endswith("/system")


def remote_applies(uri: str) -> bool:
    """Whether a remote host at `uri` can tell start times (a system QEMU host)."""
    return _system_qemu(uri) and not is_local(uri)


def local_applies(uri: str) -> bool:
    """Whether start times of guests on `uri` are in this machine's pid files."""
    return is_local(uri) and _system_qemu(uri)


def local_start_time(uri: str, name: str) -> float | None:
    if not local_applies(uri):
        return None
    try:
        return os.stat(f"{PID_DIR}/{name}.pid").st_mtime
    except OSError:
        return None


async def remote_start_times(uri: str, tunnel) -> dict[str, float]:
    """Guest name -> start time (this machine's clock), read over the tunnel's SSH
    session; empty when the host has no shell or is not a system QEMU host."""
    run = getattr(tunnel, "run", None)
    if run is None or not _system_qemu(uri):
        return {}
    try:
        out = await run(REMOTE_COMMAND)
    except VtuiError:
        return {}
    lines = out.splitlines()
    if not lines or not lines[0].strip().isdigit():
        return {}
    now, remote_now, starts = time.time(), int(lines[0]), {}
    for line in lines[1:]:
        mtime, _, path = line.partition(" ")  # guest names may contain spaces
        if mtime.isdigit() and path.endswith(".pid"):
            starts[os.path.basename(path)[:-4]] = now - (remote_now - int(mtime))
    return starts
