"""Benchmark 7: the host screen's first paint over vtui's SSH tunnel to a lab host
(real libvirtd and sshd in a network namespace), in the running Textual app.

  volumes tab   a pool of N volumes: from opening the tab to its N names drawn (one
                listing call), then to every row's details (one XML read per volume
                plus every guest's disks, several at a time)
  networks tab  M defined networks: from opening the tab to its M rows drawn (names,
                state, autostart: four listing calls, what virsh net-list shows),
                then to every row's bridge, mode and subnets (their XML, 16 reads at
                a time), then to their attached guests
  virsh         the same listings by `virsh -t` on an open qemu+ssh connection
                (vol-list --details, net-list --all), interleaved, for scale

The app reaches lab-a as users do: its own SSH tunnel, served by the app's event loop,
through a relay with TCP_NODELAY like ssh's own connections (bench/networks.py).
Target (issue 12): first paint under 0.5 s for 1,000 volumes and for 100 networks.
Needs root (the lab's namespaces).

    .venv/bin/python bench/host_screen.py [--volumes 1000] [--networks 100] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.networks import define_networks, ssh_config, undefine_networks  # noqa: E402
from tests.lab.hosts import Lab  # noqa: E402
from tests.lab.pools import make_pool, pool_path, remove_pool  # noqa: E402

from vtui.app import VtuiApp  # noqa: E402
from vtui.core import eventloop  # noqa: E402
from vtui.core.fleet import Fleet  # noqa: E402
from vtui.core.fleet.targets import add_target  # noqa: E402
from vtui.core.host import Host, HostStatus  # noqa: E402
from vtui.core.storage import refresh_pool  # noqa: E402
from vtui.screens.host import HostScreen  # noqa: E402
from vtui.screens.host.networks import NetworksSection  # noqa: E402
from vtui.screens.host.volumes import VolumesSection  # noqa: E402

MiB = 1024 * 1024
STEP = 0.002  # seconds between looks at the screen


def make_volumes(lab: Lab, count: int) -> str:
    """A dir pool of `count` 1 MiB files, made behind libvirt's back (then refreshed)."""
    pool = make_pool(lab["a"].uri, "bench-screen")
    directory = lab["a"].dir / "var-lib-libvirt" / Path(pool_path(pool)).name
    for i in range(count):
        with open(directory / f"vol-{i:05d}.img", "wb") as f:
            f.truncate(MiB)
    return pool


def virsh_warm(uri: str, command: str) -> float:
    """One listing on an open connection, as virsh times it (-t)."""
    out = subprocess.run(
        ["virsh", "-t", "-c", uri], input=command + "\n", capture_output=True, text=True, check=True
    ).stdout
    return float(re.findall(r"\(Time: ([\d.]+) ms\)", out)[-1]) / 1000


async def until(predicate: Callable[[], bool], timeout: float = 30.0) -> float:
    """Seconds until predicate() holds, looked at every STEP (the app runs meanwhile)."""
    began = time.perf_counter()
    while not predicate():
        if time.perf_counter() - began > timeout:
            raise SystemExit("the screen did not show it within 30 s")
        await asyncio.sleep(STEP)
    return time.perf_counter() - began


async def open_tab(app: VtuiApp, host: Host, tab: str, prepare=None) -> HostScreen:
    screen = HostScreen(host, tab)
    if prepare is not None:
        prepare(screen)
    await app.push_screen(screen)
    return screen


async def volumes_round(app: VtuiApp, host: Host, pool: str, count: int) -> tuple[float, float]:
    def choose(screen: HostScreen) -> None:
        section = screen.sections["volumes"]
        assert isinstance(section, VolumesSection)
        section.pool = pool  # as if chosen in the pools tab

    began = time.perf_counter()
    screen = await open_tab(app, host, "volumes", choose)
    section = screen.sections["volumes"]
    assert isinstance(section, VolumesSection)
    await until(lambda: section.is_mounted and section.table.row_count == count)
    await asyncio.sleep(0)  # let the frame with them be drawn
    names = time.perf_counter() - began
    await until(lambda: len(section.volumes) == count)
    details = time.perf_counter() - began
    await app.pop_screen()
    return names, details


async def networks_round(app: VtuiApp, host: Host, count: int) -> tuple[float, float, float]:
    began = time.perf_counter()
    screen = await open_tab(app, host, "networks")
    section = screen.sections["networks"]
    assert isinstance(section, NetworksSection)
    await until(lambda: section.is_mounted and section.table.row_count == count)
    await asyncio.sleep(0)
    rows = time.perf_counter() - began
    await until(
        lambda: (
            len(section.networks) == count and all(n.described for n in section.networks.values())
        )
    )
    await asyncio.sleep(0)
    described = time.perf_counter() - began
    await until(
        lambda: (
            len(section.networks) == count
            and all(n.guests is not None for n in section.networks.values())
        )
    )
    guests = time.perf_counter() - began
    await app.pop_screen()
    return rows, described, guests


async def run(lab: Lab, config: str, virsh_uri: str, args) -> None:
    pool = make_volumes(lab, args.volumes)
    networks = define_networks(lab["a"].uri, args.networks)
    fleet = Fleet(interval=3600)
    host = add_target(fleet, "lab-a", ssh_config=config)
    app = VtuiApp(fleet)
    results: dict[str, list[float]] = {}

    def note(label: str, seconds: float) -> None:
        results.setdefault(label, []).append(seconds)

    try:
        async with app.run_test(size=(80, 24)):
            await until(lambda: host.status is HostStatus.CONNECTED)
            await refresh_pool(host, pool)
            await volumes_round(app, host, pool, args.volumes)  # warm: imports, first parse
            for n in range(args.rounds):
                names, details = await volumes_round(app, host, pool, args.volumes)
                note("volumes: names drawn", names)
                note("volumes: details", details)
                rows, described, guests = await networks_round(app, host, args.networks)
                note("networks: rows drawn", rows)
                note("networks: details", described)
                note("networks: guests", guests)
                cmd = f"vol-list --pool {pool} --details"
                note(
                    "virsh vol-list --details", await asyncio.to_thread(virsh_warm, virsh_uri, cmd)
                )
                note(
                    "virsh net-list --all",
                    await asyncio.to_thread(virsh_warm, virsh_uri, "net-list --all"),
                )
                print(
                    f"round {n + 1}: "
                    + "  ".join(f"{k} {v[-1] * 1000:.0f} ms" for k, v in results.items()),
                    flush=True,
                )
    finally:
        undefine_networks(lab["a"].uri, networks)
        remove_pool(lab["a"].uri, pool)
    medians = {k: statistics.median(v) for k, v in results.items()}
    print(
        f"\nhost screen over the SSH tunnel, {args.volumes} volumes, {args.networks} networks, "
        f"median of {args.rounds} rounds:"
    )
    for label, value in medians.items():
        print(f"  {label:<28} {value * 1000:7.0f} ms")
    for label, peer in (
        ("volumes: names drawn", "virsh vol-list --details"),
        ("networks: rows drawn", "virsh net-list --all"),
    ):
        verdict = "met" if medians[label] < 0.5 else "MISSED"
        print(
            f"  {label}: target < 500 ms {verdict}; {medians[label] / medians[peer]:.2f}x "
            f"{peer} on an open connection"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--volumes", type=int, default=1000)
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vtui-bench-") as tmp, Lab() as lab:
        work = Path(tmp)
        os.environ["HOME"] = str(work)  # never the machine's ~/.ssh
        os.environ.pop("SSH_AUTH_SOCK", None)
        config = ssh_config(lab, work / "ssh_config", 0.0)
        wrapper = work / "ssh"  # virsh's ssh reads the lab's config through this
        wrapper.write_text(f'#!/bin/sh\nexec ssh -F {config} "$@"\n')
        wrapper.chmod(0o755)
        print(f"lab up in {lab.up_seconds:.1f} s", flush=True)
        eventloop.run(run(lab, str(config), f"qemu+ssh://lab-a/system?command={wrapper}", args))


if __name__ == "__main__":
    main()
