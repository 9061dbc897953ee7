"""Child processes started with vfork (vtui.core.spawn), on the app's loop (uvloop) and
on asyncio's own (batch commands)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

import pytest

from vtui.core import spawn

PY = [sys.executable, "-S", "-c"]


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_exit_status_and_stderr_lines_reach_the_caller():
    child = await spawn.spawn(
        [*PY, "import sys; sys.stderr.write('first\\nsecond\\n'); sys.exit(3)"],
        stderr=spawn.PIPE,
    )
    assert child.stderr is not None and child.stdout is None
    lines = [line async for line in child.stderr]
    assert lines == [b"first\n", b"second\n"]
    assert await child.wait() == 3
    assert child.returncode == 3


async def test_communicate_reads_both_pipes_to_their_end():
    child = await spawn.spawn(
        [*PY, "import sys; print('x' * 200000); sys.stderr.write('err')"],
        stdout=spawn.PIPE,
        stderr=spawn.PIPE,
    )
    out, err = await child.communicate()
    assert out == b"x" * 200000 + b"\n" and err == b"err"
    assert child.returncode == 0


async def test_a_pipe_not_asked_for_reads_as_empty():
    child = await spawn.spawn([*PY, "print('unseen')"])
    assert await child.communicate() == (b"", b"")


async def test_terminate_stops_it_and_a_second_signal_says_it_is_gone():
    child = await spawn.spawn(["sleep", "30"], start_new_session=True)
    assert child.returncode is None
    child.terminate()
    assert await asyncio.wait_for(child.wait(), 5) == -signal.SIGTERM
    with pytest.raises(ProcessLookupError):
        child.kill()


async def test_a_new_session_detaches_it_from_our_process_group():
    child = await spawn.spawn(
        [*PY, "import os; print(os.getsid(0) == os.getpid())"],
        stdout=spawn.PIPE,
        start_new_session=True,
    )
    out, _ = await child.communicate()
    assert out.strip() == b"True"


async def test_the_socket_given_as_stdin_and_stdout_is_the_childs():
    import socket

    ours, theirs = socket.socketpair()
    child = await spawn.spawn(
        [*PY, "import sys; sys.stdout.write(sys.stdin.readline().upper())"],
        stdin=theirs.fileno(),
        stdout=theirs.fileno(),
    )
    theirs.close()
    loop = asyncio.get_running_loop()
    await loop.sock_sendall(ours, b"hello\n")
    assert await asyncio.wait_for(loop.sock_recv(ours, 100), 5) == b"HELLO\n"
    assert await child.wait() == 0
    ours.close()


async def test_a_missing_program_raises_oserror():
    with pytest.raises(OSError):
        await spawn.spawn(["/nonexistent/vtui-no-such-program"])


async def test_no_descriptor_is_left_open_after_many_children():
    before = open_fds()
    for _ in range(20):
        child = await spawn.spawn(
            [*PY, "import sys; sys.stderr.write('e'); print('o')"],
            stdout=spawn.PIPE,
            stderr=spawn.PIPE,
        )
        await child.communicate()
    await asyncio.sleep(0)
    assert open_fds() == before


async def test_without_pidfd_a_thread_waits_for_the_exit(monkeypatch):
    def no_pidfd(_pid):
        raise OSError(38, "Function not implemented")

    monkeypatch.setattr(os, "pidfd_open", no_pidfd)
    child = await spawn.spawn(["sleep", "30"])
    child.kill()
    assert await asyncio.wait_for(child.wait(), 5) == -signal.SIGKILL
    quick = await spawn.spawn([*PY, "raise SystemExit(7)"])
    assert await asyncio.wait_for(quick.wait(), 5) == 7


def test_it_works_on_asyncios_own_loop_too():
    async def run():
        assert not type(asyncio.get_running_loop()).__module__.startswith("uvloop")
        child = await spawn.spawn([*PY, "print('plain')"], stdout=spawn.PIPE)
        return await child.communicate(), child.returncode

    assert asyncio.run(run()) == ((b"plain\n", b""), 0)
