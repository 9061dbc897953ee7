"""Start-up as a user sees it: the `vtui` command in a terminal (a pty, 80x24) from
exec until its screen shows the first guest row, beside `virsh list --all` of the same
host in the same rounds (the ratio), and `virsh uri` (opening the host alone: libvirtd
reading the generated test-driver file, which a real host has done long before).

The host is a generated test-driver host with N guests served by the lab's libvirtd
(tests/lab; needs root), reached over its unix socket and, for vtui, also over SSH
(the lab's sshd; the ProxyCommand is bench/delay_relay.py with no delay).

    .venv/bin/python bench/startup.py [--guests 1000] [--rounds 5] [--against SRC] [--demo]

--demo starts `vtui --demo` instead (33 guests, opened at once inside the process, as a
local qemu:///system is), where the app's own start-up is all there is to wait for.

--against SRC also times another checkout's vtui (its src/ directory, run by this
venv's Python; copy the built _domstats module into it) in the same rounds: an A/B of
a change on this noisy machine.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

import pyte

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fleetgen import write_host  # noqa: E402
from tests.lab.hosts import Lab  # noqa: E402

VTUI = str(ROOT / ".venv/bin/vtui")
FIRST_ROW = "vm-00000"  # the first guest by name (fleetgen's names)


class Terminal(pyte.Screen):
    """A screen that answers the program's queries as a terminal does (vtui asks for the
    device attributes to choose how to draw pictures; a terminal that never answers
    costs it a one-second wait)."""

    def __init__(self, fd: int):
        super().__init__(80, 24)
        self.fd = fd

    def write_process_input(self, data: str) -> None:
        os.write(self.fd, data.encode())


def first_row_seconds(
    argv: list[str], env: dict, timeout: float = 60.0, first_row: str = FIRST_ROW
) -> tuple[float, float]:
    """Seconds from exec to a screen whose table shows the first guest, and how long
    `q` then takes to end the program."""
    began = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:  # the child: the program, in the pty's terminal
        os.execve(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    screen = Terminal(fd)
    stream = pyte.ByteStream(screen)
    shown = quit_s = None
    try:
        while time.perf_counter() - began < timeout:
            ready, _, _ = select.select([fd], [], [], 0.01)
            if not ready:
                continue
            try:
                stream.feed(os.read(fd, 65536))
            except OSError:
                break
            if any(line.startswith(first_row) for line in screen.display):
                shown = time.perf_counter() - began
                break
        if shown is None:
            raise RuntimeError(f"no guest row within {timeout:.0f} s: {' '.join(argv)}")
        os.write(fd, b"q")
        asked = time.perf_counter()
        while True:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    os.read(fd, 65536)
                except OSError:
                    pass
            done, _status = os.waitpid(pid, os.WNOHANG)
            if done:
                quit_s = time.perf_counter() - asked
                pid = 0
                break
            if time.perf_counter() - asked > 20:
                break
    finally:
        if pid:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
        os.close(fd)
    return shown, quit_s if quit_s is not None else float("nan")


def run_from(src: Path) -> str:
    where = str(src.resolve())
    return f"import sys; sys.path.insert(0, {where!r}); from vtui.cli import main; sys.exit(main())"


def seconds(argv: list[str], env: dict) -> float:
    began = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--against", metavar="SRC", help="another checkout's src/ to compare")
    parser.add_argument("--demo", action="store_true", help="the demo host instead")
    args = parser.parse_args()
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="vtui-bench-") as tmp:
        a = lab["a"]
        home = Path(tmp) / "home"
        home.mkdir()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(home),  # no saved hosts, settings or keys of the machine's user
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
        }
        path = write_host(lab.root, args.guests)
        local = f"test+unix://{path}?socket={a.socket}"
        cfg = lab.root / "bench_startup_ssh_config"
        relay = f"{sys.executable} -S -I {ROOT / 'bench/delay_relay.py'} 0 {a.ip} 22"
        lab.write_ssh_config(cfg, lambda _host: relay)
        ssh_args = ["--ssh-config", str(cfg), f"test+ssh://{a.hostname}{path}"]
        commands = [("vtui", [VTUI])]
        if args.against:  # both run the same way: python -c, each with its own src/
            commands = [
                (who, [sys.executable, "-c", run_from(src)])
                for who, src in (("this", ROOT / "src"), ("against", Path(args.against)))
            ]
        targets = [("local socket", ["-c", local]), ("over SSH", ssh_args)]
        first_row = FIRST_ROW
        if args.demo:
            from vtui.core.uri import demo_uri

            local, first_row = demo_uri(), "ci-runner-01"  # (the first demo guest by name)
            targets = [("local socket", ["--demo"])]  # (named so for the ratio below)
        rows: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for (who, program), (how, extra) in (
                (command, target) for command in commands for target in targets
            ):
                name, argv = f"{who}, {how}", [*program, *extra]
                shown, quit_s = first_row_seconds(argv, env, first_row=first_row)
                rows.setdefault(name, []).append(shown)
                rows.setdefault(f"{name}: quit", []).append(quit_s)
            rows.setdefault("virsh list --all", []).append(
                seconds(["virsh", "-r", "-c", local, "list", "--all"], env)
            )
            rows.setdefault("virsh uri (opening the host)", []).append(
                seconds(["virsh", "-r", "-c", local, "uri"], env)
            )

        med = statistics.median
        what = "the demo host" if args.demo else f"{args.guests} guests"
        print(f"{what}, {args.rounds} rounds, 80x24 terminal (medians)")
        for name, values in rows.items():
            print(f"  {name:34} {med(values):5.2f} s  ({min(values):.2f}-{max(values):.2f})")
        mine = rows.get("vtui, local socket") or rows["this, local socket"]
        ratios = sorted(v / w for v, w in zip(mine, rows["virsh list --all"], strict=True))
        print(
            f"  vtui's first row / virsh list --all, same round: median {med(ratios):.2f}x "
            f"({ratios[0]:.2f}-{ratios[-1]:.2f}x)"
        )


if __name__ == "__main__":
    main()
