"""Benchmark 5: a fleet of 50 hosts x 200 guests, each reached through its own SSH
tunnel (vtui's core/ssh.py), then the same with 100 ms of added one-way latency.

The lab's host "a" runs sshd and a libvirtd that serves the test driver: every
fleet host is `test+ssh://bench-a/<generated host file>`, a separate SSH connection,
forwarded socket and libvirt connection, from host b's network namespace over the
lab's veth. Latency comes from bench/delay_relay.py as the ssh ProxyCommand (this
kernel has no netem); without it, vtui connects straight. Needs root (namespaces).

    .venv/bin/python bench/fleet.py [--hosts 50] [--guests 200] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from fleetgen import write_host  # noqa: E402
from tests.lab.hosts import Lab, thread_in_netns  # noqa: E402

from vtui.core.fleet import Fleet  # noqa: E402
from vtui.core.fleet.fleet import BACKGROUND_NUMBERS_EVERY  # noqa: E402
from vtui.core.fleet.targets import add_target  # noqa: E402
from vtui.core.host import Change  # noqa: E402

INTERVAL = 2.0


def ssh_config(lab: Lab, path: Path, delay: float) -> Path:
    a, b = lab["a"], lab["b"]
    # From b's netns over the veth to a. Without added latency vtui's own sockets are
    # made there (see main), as on a real network that costs the client nothing. With
    # it, a relay per connection is the delay line (this kernel has no netem): a bare
    # Python (-S -I: no site-packages) so fifty of them starting at once do not eat the
    # CPU the fleet is measured with.
    proxy = (
        f"  ProxyCommand nsenter --net={b.netns_path} {sys.executable} -S -I "
        f"{ROOT / 'bench/delay_relay.py'} {delay} {a.ip} 22\n"
        if delay
        else ""
    )
    path.write_text(
        f"Host bench-a\n  HostName {a.ip}\n  User root\n"
        f"  IdentityFile {lab.client_key}\n  UserKnownHostsFile {lab.known_hosts}\n" + proxy
    )
    return path


def thread_cpu() -> dict[str, float]:
    """CPU seconds of this process's threads, by role (the asyncio loop is where the
    SSH connections and the forwarded sockets are served). From schedstat, the time
    each thread ran to the nanosecond: stat's tick-based times missed about a quarter
    of the 200 worker threads' brief runs (their sum fell short of getrusage's)."""
    names = {t.native_id: t.name for t in threading.enumerate()}
    roles: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for tid in os.listdir("/proc/self/task"):
        try:
            stat = Path(f"/proc/self/task/{tid}/stat").read_text()
        except OSError:
            continue  # (the thread ended)
        try:
            ran = int(Path(f"/proc/self/task/{tid}/schedstat").read_text().split()[0]) / 1e9
        except OSError:  # a kernel without schedstat, or the thread ended: ticks
            fields = stat[stat.rfind(")") + 2 :].split()
            ran = (int(fields[11]) + int(fields[12])) / tick
        comm = stat[stat.find("(") + 1 : stat.rfind(")")]  # (libvirt's loop is a C thread)
        name = names.get(int(tid), comm)
        if int(tid) == os.getpid():
            role = "asyncio loop (SSH, forwarding, merging samples)"
        elif name.startswith("virt-"):
            role = "host worker threads (libvirt calls, applying samples)"
        elif name == "libvirt-events":
            role = "libvirt event thread (keepalives, events)"
        else:
            role = "other threads"
        roles[role] = roles.get(role, 0.0) + ran
    return roles


def processes():
    """(pid, name, stat fields after the name) of every process, from /proc."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        yield (
            int(pid),
            stat[stat.find("(") + 1 : stat.rfind(")")],
            stat[stat.rfind(")") + 2 :].split(),
        )


def ssh_children_cpu() -> float:
    """CPU seconds of the ssh clients this process started (OpenSSH transport): part
    of vtui's cost, though not in its own threads."""
    tick = os.sysconf("SC_CLK_TCK")
    return sum(
        (int(fields[11]) + int(fields[12])) / tick
        for _pid, name, fields in processes()
        if name == "ssh" and int(fields[1]) == os.getpid()
    )


def machine_busy_cpu() -> float:
    """CPU seconds all cores of this machine spent busy so far (/proc/stat): during the
    connect phase the simulated servers (sshd, the relays, libvirtd reading 50 host
    files) share the cores with vtui, so its connect time says little on its own."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    ticks = [int(f) for f in fields]
    idle = ticks[3] + ticks[4]  # idle, iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def servers_cpu() -> dict[str, float]:
    """CPU seconds so far of the simulated servers' processes, by kind (their own and
    their reaped children's: sshd's per-login processes), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    kinds: dict[str, float] = {}
    for pid, name, fields in processes():
        if name == "sshd":
            kind = "sshd (logins, channels)"
        elif name == "libvirtd":
            kind = "libvirtd (opening the host files, answering)"
        elif _is_relay(pid):
            kind = "relays (the simulated network)"
        else:
            continue
        kinds[kind] = kinds.get(kind, 0.0) + sum(int(f) for f in fields[11:15]) / tick
    return kinds


def _is_relay(pid: int) -> bool:
    try:
        return b"delay_relay" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False


def own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime + ssh_children_cpu()


async def run_fleet(
    lab: Lab,
    files: list[Path],
    delay: float,
    seconds: float,
    openssh: bool = False,
    focus: bool = True,
) -> None:
    cfg = ssh_config(lab, lab.root / f"bench_ssh_config_{delay}", delay)
    fleet = Fleet(interval=INTERVAL, readonly=True)
    for f in files:
        add_target(fleet, f"test+ssh://bench-a{f}", ssh_config=str(cfg), openssh=openssh)
    samples: dict[str, list[float]] = {name: [] for name in fleet.hosts}
    durations: list[float] = []  # every sample's, not only each host's last
    rows_at: dict[str, float] = {}
    # CPU of vtui and of the machine when the last host's rows were shown (the rest
    # of the connect phase is details: facts, the test driver's vCPUs and memory)
    at_rows: list[float] = []
    servers_at_rows: dict[str, float] = {}

    def on_change(change: Change) -> None:
        if change.guests and change.host.name not in rows_at:
            rows_at[change.host.name] = time.monotonic()  # its rows are on screen
            if len(rows_at) == len(fleet.hosts):
                at_rows.extend((own_cpu() - own0, machine_busy_cpu() - busy0))
                servers_at_rows.update(servers_cpu())
        if change.host_changed and not change.event and not change.error:
            samples[change.host.name].append(time.monotonic())
            durations.append(change.host.sample_seconds)

    fleet.subscribe(on_change)
    if focus:  # as the TUI does: the selected guest's host is the one looked at
        fleet.focus(next(iter(fleet.hosts.values())))
    t0, own0, busy0, servers0 = time.monotonic(), own_cpu(), machine_busy_cpu(), servers_cpu()
    failures = await fleet.connect_all()
    own_connect, busy_connect = own_cpu() - own0, machine_busy_cpu() - busy0
    for failure in failures[:3]:
        print(f"  failed: {failure}", flush=True)
    connect = time.monotonic() - t0
    rows = [at - t0 for at in rows_at.values()]
    guests = sum(len(h.guests) for h in fleet.hosts.values())
    for s in samples.values():
        s.clear()
    durations.clear()
    # loop lag: how late a 10 ms ticker runs = how long a key would wait
    lags: list[float] = []

    async def ticker():
        loop = asyncio.get_running_loop()
        while True:
            due = loop.time() + 0.01
            await asyncio.sleep(0.01)
            lags.append(loop.time() - due)

    # CPU first, alone: the lag ticker below wakes the loop 100 times a second
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    threads0 = thread_cpu()
    children0 = ssh_children_cpu()
    w0, machine0 = time.monotonic(), machine_busy_cpu()
    await asyncio.sleep(seconds)
    r1, machine = resource.getrusage(resource.RUSAGE_SELF), machine_busy_cpu() - machine0
    threads1 = thread_cpu()
    children = ssh_children_cpu() - children0
    elapsed = time.monotonic() - w0
    tick = asyncio.create_task(ticker())
    await asyncio.sleep(min(seconds, 10.0))
    tick.cancel()
    gaps = [b - a for s in samples.values() for a, b in zip(s, s[1:])]
    rounds = min(sum(1 for t in s if w0 <= t <= w0 + elapsed) for s in samples.values())
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime) + children
    numbers = (
        f"one host every sample, the others every {BACKGROUND_NUMBERS_EVERY}"
        if focus
        else "every host every sample"
    )
    print(
        f"latency +{delay * 1000:.0f} ms each way: {len(fleet.hosts)} hosts, {guests} guests, "
        f"{len(failures)} failed; host numbers of {numbers}; "
        f"rows of every host shown within {max(rows, default=0):.1f} s "
        f"(median host {statistics.median(rows) if rows else 0:.1f} s); everything (facts, "
        f"vCPUs and memory of the test driver's guests) in {connect:.1f} s"
    )
    print(
        f"  connect phase: vtui {own_connect:.1f} CPU-s, the whole machine "
        f"{busy_connect:.1f} CPU-s busy of {(os.cpu_count() or 1) * connect:.1f} "
        f"({os.cpu_count()} cores x {connect:.1f} s): the rest is the simulated servers"
    )
    if at_rows:
        print(
            f"  until every host's rows were shown: vtui {at_rows[0]:.1f} CPU-s, the whole "
            f"machine {at_rows[1]:.1f} CPU-s busy, of which "
            + ", ".join(
                f"{kind} {used - servers0.get(kind, 0.0):.1f}"
                for kind, used in sorted(servers_at_rows.items())
            )
        )
    print(
        f"  per-host sample: median {statistics.median(durations) * 1000:.0f} ms, "
        f"max {max(durations) * 1000:.0f} ms; interval between a host's samples: median "
        f"{statistics.median(gaps):.2f} s, max {max(gaps):.2f} s (target {INTERVAL:.1f} s); "
        f"fewest rounds of any host in {elapsed:.0f} s: {rounds}"
    )
    print(
        f"  CPU {cpu * 60 / elapsed:.1f} CPU-s/min; event-loop lag median "
        f"{statistics.median(lags) * 1000:.1f} ms, p99 "
        f"{sorted(lags)[int(len(lags) * 0.99)] * 1000:.1f} ms, max {max(lags) * 1000:.1f} ms"
    )
    # the simulated network and servers share the cores with vtui: how busy they all were
    print(f"    {machine * 60 / elapsed:5.2f} CPU-s/min  the whole machine, busy")
    for role, cpu_s in sorted(threads1.items(), key=lambda kv: -kv[1]):
        used = cpu_s - threads0.get(role, 0.0)
        print(f"    {used * 60 / elapsed:5.2f} CPU-s/min  {role}")
    if openssh:
        print(f"    {children * 60 / elapsed:5.2f} CPU-s/min  ssh client processes")
    for failure in failures[:3]:
        print(f"  failed: {failure}")
    await fleet.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hosts", type=int, default=50)
    parser.add_argument("--guests", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--delays", default="0,0.1", help="added one-way latencies in seconds (comma list)"
    )
    parser.add_argument(
        "--openssh",
        action="store_true",
        help="reach the hosts with OpenSSH (libvirt's ssh transport) instead of vtui's own SSH",
    )
    parser.add_argument(
        "--no-focus",
        action="store_true",
        help="every host reads its own CPU and memory every sample (as batch commands "
        "do); by default one host is looked at, as in the TUI",
    )
    args = parser.parse_args()
    with Lab() as lab:
        # one sshd stands in for 50 servers: let it take 50 handshakes at once
        a = lab["a"]
        config = a.dir / "sshd_config"
        config.write_text(config.read_text() + "MaxStartups 200\nMaxSessions 200\n")
        a.stop_sshd()
        a.start_sshd()
        files = [write_host(lab.root, args.guests, prefix=f"h{i:02d}") for i in range(args.hosts)]
        for delay in (float(d) for d in args.delays.split(",")):
            # (the loop's thread makes the sockets; threads it starts inherit the netns)
            direct = thread_in_netns(lab["b"].netns_path) if not delay else nullcontext()
            with direct:
                await run_fleet(
                    lab, files, delay, args.seconds, args.openssh, focus=not args.no_focus
                )


if __name__ == "__main__":
    from vtui.core import eventloop, gctune

    gctune.tune()  # as the vtui command does at start
    eventloop.run(main())  # the app's loop
