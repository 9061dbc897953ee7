"""What starting a child process (an ssh ProxyCommand, OpenSSH, a viewer) costs the
event loop, in a process as big as the app with 10,000 guests: uvloop's own
create_subprocess_exec (fork) beside vtui.core.spawn (subprocess.Popen: vfork), and
asyncio's own loop for reference. Each child is started as a ProxyCommand is (a socket
as stdin and stdout, stderr piped, a new session) and runs `sleep`.

    .venv/bin/python bench/spawn.py [--mb 100] [--children 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from vtui.core import eventloop, spawn  # noqa: E402

ARGV = ["sleep", "0.5"]


async def with_loops_own(children: int) -> None:
    for _ in range(children):
        ours, theirs = socket.socketpair()
        proc = await asyncio.create_subprocess_exec(
            *ARGV,
            stdin=theirs.fileno(),
            stdout=theirs.fileno(),
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        theirs.close()
        _PENDING.append((proc.wait(), ours))


async def with_vtui_spawn(children: int) -> None:
    for _ in range(children):
        ours, theirs = socket.socketpair()
        child = await spawn.spawn(
            ARGV,
            stdin=theirs.fileno(),
            stdout=theirs.fileno(),
            stderr=spawn.PIPE,
            start_new_session=True,
        )
        theirs.close()
        _PENDING.append((child.wait(), ours))


_PENDING: list = []


async def measure(how, children: int) -> tuple[float, float]:
    """Milliseconds per child: wall time and the loop thread's CPU while starting them."""
    wall, cpu = time.perf_counter(), time.thread_time()
    await how(children)
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    for wait, sock in _PENDING:
        await wait
        sock.close()
    _PENDING.clear()
    return wall / children * 1000, cpu / children * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100, help="the process's size (the app)")
    parser.add_argument("--children", type=int, default=50, help="one per host of a fleet")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    ballast = [bytearray(4096) for _ in range(args.mb * 256)]
    for page in ballast:
        page[0] = 1  # resident, as the app's guests are
    # the app has worker threads asleep in libvirt calls; they are copied too
    stop = threading.Event()
    for _ in range(8):
        threading.Thread(target=stop.wait, daemon=True).start()

    results: dict[str, list[tuple[float, float]]] = {}
    loops = {"uvloop (the app)": eventloop.new_event_loop, "asyncio": asyncio.new_event_loop}
    for _ in range(args.rounds):
        for loop_name, factory in loops.items():
            for how in (with_loops_own, with_vtui_spawn):
                loop = factory()
                try:
                    result = loop.run_until_complete(measure(how, args.children))
                finally:
                    loop.close()
                results.setdefault(f"{loop_name}: {how.__name__}", []).append(result)
    stop.set()

    print(f"{args.children} children per round, {args.rounds} rounds, process {args.mb} MB")
    for name, rows in results.items():
        wall = statistics.median(r[0] for r in rows)
        cpu = statistics.median(r[1] for r in rows)
        print(f"  {name:38} {wall:6.2f} ms wall, {cpu:5.2f} ms loop CPU per child (median)")
    old = results["uvloop (the app): with_loops_own"]
    new = results["uvloop (the app): with_vtui_spawn"]
    ratios = sorted(o[0] / n[0] for o, n in zip(old, new, strict=True))
    print(
        f"  on the app's loop, uvloop's own / vtui's spawn, wall per child: median "
        f"{statistics.median(ratios):.1f}x (rounds {ratios[0]:.1f}-{ratios[-1]:.1f}x)"
    )


if __name__ == "__main__":
    main()
