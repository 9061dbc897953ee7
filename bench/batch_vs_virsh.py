"""Benchmark: vtui's batch commands against virsh, side by side, on the lab's two hosts
over SSH (tests/lab: private libvirtd + sshd in namespaces, TCG guests). Needs root.

Both reach the hosts the same way: OpenSSH with one ssh config (virsh through a
wrapper that adds `-F`, vtui through `--ssh-config`), the same ProxyCommand, a private
HOME. The ProxyCommand is bench/delay_relay.py with no delay, whose socket has
TCP_NODELAY as OpenSSH's own TCP socket does once a session starts: the tests' bash
relay (--bash-relay) has Nagle's algorithm on, and every SSH session after the first
on one connection then waits about 40 ms for a delayed ACK (47 against 12 ms for a
second session through an OpenSSH master, measured), which no direct connection does.
Each round runs every pair interleaved (vtui, virsh, then the other way round in the
next round), and prints both times and their ratio; the summary gives the median and
range of each ratio. Targets (issue 18): list and actions at most 1.5x virsh;
migrate at most virsh + 0.5 s, pre-flight checks included. A command that acts on a
running guest starts once that guest is idle.

    .venv/bin/python bench/batch_vs_virsh.py [--rounds 5] [--only list,actions,migrate]
        [--bash-relay]
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import libvirt  # noqa: E402
from tests.lab.hosts import Lab  # noqa: E402
from tests.lab.images import ensure_guest_image, guest_xml  # noqa: E402

VTUI = str(ROOT / ".venv/bin/vtui")
VIRSH = "virsh"


def timed(argv: list[str], env: dict) -> float:
    began = time.perf_counter()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    took = time.perf_counter() - began
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {shlex.join(argv)}\n{proc.stderr}")
    return took


class Bench:
    def __init__(self, lab: Lab, home: Path, ssh_config: str):
        self.lab = lab
        wrapper = home / "ssh-lab"
        wrapper.write_text(f'#!/bin/sh\nexec ssh -F {shlex.quote(ssh_config)} "$@"\n')
        wrapper.chmod(0o700)
        self.env = {**os.environ, "HOME": str(home)}
        self.env.pop("SSH_AUTH_SOCK", None)
        self.vtui_opts = ["--ssh-config", ssh_config]
        self.uri = {
            name: f"qemu+ssh://lab-{name}/system?command={wrapper}&no_tty=1" for name in "ab"
        }
        self.results: dict[str, list[tuple[float, float]]] = {}

    def vtui(self, *args: str) -> float:
        return timed([VTUI, *args, *self.vtui_opts], self.env)

    def virsh(self, host: str, *args: str) -> float:
        return timed([VIRSH, "-q", "-c", self.uri[host], *args], self.env)

    def pair(self, label: str, ours, theirs, round_no: int) -> None:
        """Both, in alternating order from round to round."""
        if round_no % 2:
            b, a = theirs(), ours()
        else:
            a, b = ours(), theirs()
        self.results.setdefault(label, []).append((a, b))
        print(f"  {label:<34} vtui {a:6.3f} s  virsh {b:6.3f} s  ratio {a / b:5.2f}", flush=True)

    def summary(self) -> None:
        print("\nsummary (median, [min - max] over the rounds)")
        for label, runs in self.results.items():
            ratios = [a / b for a, b in runs]
            diffs = [a - b for a, b in runs]
            ours = [a for a, _ in runs]
            theirs = [b for _, b in runs]
            print(
                f"  {label:<34} vtui {statistics.median(ours):.3f} s "
                f"[{min(ours):.3f}-{max(ours):.3f}]  virsh {statistics.median(theirs):.3f} s "
                f"[{min(theirs):.3f}-{max(theirs):.3f}]  ratio {statistics.median(ratios):.2f} "
                f"[{min(ratios):.2f}-{max(ratios):.2f}]  difference "
                f"{statistics.median(diffs):+.3f} s [{min(diffs):+.3f}-{max(diffs):+.3f}]"
            )


def define(uri: str, name: str, kernel: str, initrd: str, start: bool) -> None:
    conn = libvirt.open(uri)
    try:
        dom = conn.defineXML(guest_xml(name, kernel, initrd))
        if start:
            dom.create()
    finally:
        conn.close()


class Guests:
    """Puts a guest into the state a timed step starts from, through libvirt directly
    (never timed), so both tools time the same transition."""

    def __init__(self, lab: Lab):
        self.conns = {h.name: libvirt.open(h.uri) for h in lab}

    def dom(self, name: str, host: str = "a") -> libvirt.virDomain:
        return self.conns[host].lookupByName(name)

    def state(self, name: str) -> int:
        return self.dom(name).state()[0]

    def ready(self, name: str, want: str) -> None:
        dom, state = self.dom(name), self.state(name)
        running, paused = libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_PAUSED
        if want == "off" and state in (running, paused):
            dom.destroy()
        elif want in ("running", "paused") and state not in (running, paused):
            dom.create()
        state = self.state(name)
        if want == "running" and state == paused:
            dom.resume()
        elif want == "paused" and state == running:
            dom.suspend()
        if want == "running":
            self.idle(name)

    def idle(self, name: str, most: float = 0.1, limit: float = 15.0) -> None:
        """Until the guest uses under `most` of a core: a TCG guest the start step has
        just booted runs on the same two cores as the commands timed next, and would
        take its CPU from whichever of them runs while it boots."""
        dom, deadline = self.dom(name), time.monotonic() + limit
        while time.monotonic() < deadline:
            before, began = dom.info()[4], time.monotonic()
            time.sleep(0.25)
            if (dom.info()[4] - before) / 1e9 / (time.monotonic() - began) < most:
                return

    def on(self, name: str) -> str:
        for host, conn in self.conns.items():
            try:
                conn.lookupByName(name)
                return host
            except libvirt.libvirtError:
                continue
        raise SystemExit(f"{name} is on no host")

    def move_to(self, name: str, host: str) -> None:
        src = self.on(name)
        if src != host:
            flags = (
                libvirt.VIR_MIGRATE_LIVE
                | libvirt.VIR_MIGRATE_PERSIST_DEST
                | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
            )
            self.dom(name, src).migrate3(self.conns[host], {}, flags)


def nodelay_relay(host) -> str:
    # a bare Python (-S -I): it starts about as fast as the bash relay
    return f"{sys.executable} -S -I {ROOT / 'bench/delay_relay.py'} 0 {host.ip} 22"


def run(rounds: int, only: set[str], bash_relay: bool = False) -> None:
    # An installed vtui has its modules compiled to bytecode; a checkout run with
    # PYTHONDONTWRITEBYTECODE (as here) would compile them again on every call.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)  # errors are handled here
    kernel, initrd = ensure_guest_image()
    with Lab() as lab, tempfile.TemporaryDirectory(prefix="vtui-bench-home-") as home:
        ssh_config = lab.ssh_config
        if not bash_relay:
            ssh_config = str(Path(home) / "ssh_config")
            lab.write_ssh_config(Path(ssh_config), nodelay_relay)
        relay = "the tests' bash relay" if bash_relay else "bench/delay_relay.py, no delay"
        print(f"ProxyCommand: {relay}", flush=True)
        b = Bench(lab, Path(home), ssh_config)
        # a few guests on each host, as a small server has: running and shut off
        for host in lab:
            for i in range(3):
                define(host.uri, f"bench-{host.name}{i}", kernel, initrd, start=i == 0)
        define(lab["a"].uri, "bench-act", kernel, initrd, start=False)
        define(lab["a"].uri, "bench-move", kernel, initrd, start=True)
        guests = Guests(lab)
        time.sleep(3)  # let the TCG guests boot (their CPU would skew the first timings)
        act, move = "bench-act", "bench-move"

        def step(state: str, tool, *args: str):
            def timed_step() -> float:
                guests.ready(act, state)
                return tool(*args)

            return timed_step

        for r in range(rounds):
            print(f"round {r + 1}/{rounds}", flush=True)
            if "list" in only:
                b.pair(
                    "list (one host)",
                    lambda: b.vtui("list", "lab-a"),
                    lambda: b.virsh("a", "list", "--all"),
                    r,
                )
                b.pair(
                    "list --json (one host)",
                    lambda: b.vtui("list", "lab-a", "--json"),
                    lambda: b.virsh("a", "list", "--all"),
                    r,
                )
                b.pair(
                    "list (two hosts; virsh: one each)",
                    lambda: b.vtui("list", "lab-a", "lab-b"),
                    lambda: b.virsh("a", "list", "--all") + b.virsh("b", "list", "--all"),
                    r,
                )
            if "actions" in only:
                for action, before in (
                    ("start", "off"),
                    ("suspend", "running"),
                    ("resume", "paused"),
                    ("destroy", "running"),
                ):
                    b.pair(
                        action,
                        step(before, b.vtui, action, act, "--host", "lab-a"),
                        step(before, b.virsh, "a", action, act),
                        r,
                    )
            if "migrate" in only:
                for src, dst in (("a", "b"), ("b", "a")):

                    def ours(s=src, d=dst) -> float:
                        guests.move_to(move, s)
                        return b.vtui(
                            "migrate", move, "--host", f"lab-{s}", "--to", f"lab-{d}", "--live"
                        )

                    def theirs(s=src, d=dst) -> float:
                        guests.move_to(move, s)
                        return b.virsh(
                            s,
                            "migrate",
                            "--live",
                            "--persistent",
                            "--undefinesource",
                            move,
                            b.uri[d],
                        )

                    b.pair(f"migrate --live {src} -> {dst}", ours, theirs, r)
        b.summary()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="list,actions,migrate")
    parser.add_argument(
        "--bash-relay", action="store_true", help="reach the hosts through the tests' bash relay"
    )
    args = parser.parse_args()
    run(args.rounds, set(args.only.split(",")), args.bash_relay)


if __name__ == "__main__":
    main()
