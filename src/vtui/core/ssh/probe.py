"""Why an SSH login timed out: nothing answered, or something that is not an SSH
server did (a web server, a `yes | nc`). A second, brief look at the port tells which,
so the user is not sent hunting for a firewall when the port is simply wrong.

Plain asyncio: both the app's own SSH layer and the batch commands' OpenSSH route use it.
"""

from __future__ import annotations

import asyncio

LOOK_SECONDS = 2.0


async def not_ssh_reason(host: str, port: int, wait: float = LOOK_SECONDS) -> str | None:
    """`port N answers, but not as an SSH server (it sent '...')` when what answers at
    host:port greets with something else than an SSH banner; None when nothing answers
    there (or an SSH server does: the timeout was something else)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), wait)
    except (OSError, TimeoutError):
        return None
    try:
        first = await asyncio.wait_for(reader.read(80), wait)
    except (OSError, TimeoutError):
        first = b""
    finally:
        writer.close()
    if first and not first.startswith(b"SSH-"):
        shown = first.decode("ascii", "replace").split("\n")[0][:40]
        return f"port {port} answers, but not as an SSH server (it sent {shown!r})"
    return None
