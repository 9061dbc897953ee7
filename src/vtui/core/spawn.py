"""Child processes (ssh ProxyCommands, OpenSSH, graphical viewers) started without
copying the app.

uvloop starts a child with fork(): the kernel copies the page tables of the whole
process and the loop waits for the child's exec. In an app holding 10,000 guests that
took 4-16 ms of the event loop per child (bench/spawn.py), and a fleet behind a
ProxyCommand starts one per host at once: 50 hosts held the loop for 0.8 s of its
1.6 CPU-s until every host's rows were shown. subprocess.Popen uses vfork(), which
copies nothing: about 0.2 ms, whatever the app's size.

A Child offers the part of asyncio.subprocess.Process that vtui uses. Its exit is
noticed through a pidfd watched by the loop (Linux 5.3), or else by a thread that waits
for it; signals go through the pidfd too, so a reused pid is never signalled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import Sequence

PIPE, DEVNULL = subprocess.PIPE, subprocess.DEVNULL


class Child:
    def __init__(self, popen: subprocess.Popen, loop: asyncio.AbstractEventLoop):
        self._popen = popen
        self._loop = loop
        self._exited: asyncio.Future[int] = loop.create_future()
        self._pidfd: int | None = None
        self.stdout: asyncio.StreamReader | None = None
        self.stderr: asyncio.StreamReader | None = None

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._exited.result() if self._exited.done() else None

    def _watch_exit(self) -> None:
        try:
            pidfd = os.pidfd_open(self.pid)
        except (AttributeError, OSError):  # an old kernel, or a sandbox that forbids it
            waiting = self._loop.run_in_executor(None, self._popen.wait)
            waiting.add_done_callback(self._waited)
            return
        self._pidfd = pidfd
        self._loop.add_reader(pidfd, self._reap)

    def _reap(self) -> None:
        """The pidfd is readable: the child has exited and is a zombie until waited for."""
        pidfd, self._pidfd = self._pidfd, None
        if pidfd is None:
            return
        self._loop.remove_reader(pidfd)
        os.close(pidfd)
        try:
            _pid, status = os.waitpid(self.pid, 0)
            code = os.waitstatus_to_exitcode(status)
        except ChildProcessError:  # reaped by someone else: its status is lost
            code = 255
        self._popen.returncode = code  # (Popen must not wait for it again)
        self._set_exited(code)

    def _waited(self, done: asyncio.Future[int]) -> None:
        if not done.cancelled() and done.exception() is None:
            self._set_exited(done.result())

    def _set_exited(self, code: int) -> None:
        if not self._exited.done():
            self._exited.set_result(code)

    async def wait(self) -> int:
        return await asyncio.shield(self._exited)

    async def communicate(self) -> tuple[bytes, bytes]:
        """Read stdout and stderr to their end (b"" for one that is not a PIPE), then
        wait."""

        async def drain(stream: asyncio.StreamReader | None) -> bytes:
            return b"" if stream is None else await stream.read()

        out, err = await asyncio.gather(drain(self.stdout), drain(self.stderr))
        await self.wait()
        return out, err

    def send_signal(self, sig: int) -> None:
        """Raises ProcessLookupError once the child has exited (as asyncio's does)."""
        if self._exited.done():
            raise ProcessLookupError(self.pid)
        if self._pidfd is not None:
            signal.pidfd_send_signal(self._pidfd, sig)
        else:
            self._popen.send_signal(sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


async def spawn(
    argv: Sequence[str],
    *,
    stdin: int = DEVNULL,
    stdout: int = DEVNULL,
    stderr: int = DEVNULL,
    start_new_session: bool = False,
) -> Child:
    """Start argv. stdin is DEVNULL or a file descriptor; stdout and stderr may also be
    PIPE, read through the Child's stream of that name. Raises OSError as Popen does."""
    if stdin == PIPE:
        raise ValueError("spawn() does not write to a child's stdin")
    loop = asyncio.get_running_loop()
    popen = subprocess.Popen(
        list(argv),
        stdin=stdin,
        stdout=stdout,
        stderr=stderr,
        start_new_session=start_new_session,
    )
    child = Child(popen, loop)
    child._watch_exit()
    if popen.stdout is not None:
        child.stdout = _stream(loop, popen.stdout)
    if popen.stderr is not None:
        child.stderr = _stream(loop, popen.stderr)
    return child


def _stream(loop: asyncio.AbstractEventLoop, pipe) -> asyncio.StreamReader:
    """A StreamReader fed from the pipe by the loop. (Not connect_read_pipe: uvloop's
    closes the descriptor, then the file object closes the same number again.)"""
    fd = pipe.fileno()
    os.set_blocking(fd, False)
    reader = asyncio.StreamReader(loop=loop)

    def readable() -> None:
        try:
            data = os.read(fd, 65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            reader.feed_data(data)
        else:  # end of file: the child closed it (or exited)
            loop.remove_reader(fd)
            pipe.close()
            reader.feed_eof()

    loop.add_reader(fd, readable)
    return reader
