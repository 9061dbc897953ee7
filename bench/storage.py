"""Benchmark 6: storage over vtui's SSH tunnel to a lab host (real libvirtd and sshd in
a network namespace, reached through the lab's ProxyCommand), side by side with the
peers an operator would use.

  0. The round trip of one small libvirt call through the tunnel.
  1. Listing a pool of N volumes: vtui.core.storage.list_volumes against
     `virsh vol-list --details` over qemu+ssh (both on an open connection, interleaved;
     virsh times its own command with -t), plus each one cold (connect included).
  2. Upload of the same non-sparse file: vtui.core.storage.start_upload against `scp`
     of that file to the same host, interleaved, several rounds (target: >= 70%).

Needs root (the lab's namespaces).

    .venv/bin/python bench/storage.py [--volumes 1000] [--size-mib 256] [--rounds 5]
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.hosts import Lab  # noqa: E402
from tests.lab.pools import make_pool, pool_path, remove_pool  # noqa: E402

from vtui.core import eventloop  # noqa: E402
from vtui.core.fleet import Fleet  # noqa: E402
from vtui.core.fleet.targets import add_target  # noqa: E402
from vtui.core.host import Host  # noqa: E402
from vtui.core.storage import (  # noqa: E402
    Transfers,
    delete_volume,
    list_volumes,
    refresh_pool,
    start_upload,
    volume_names,
)

MiB = 1024 * 1024


def ssh_wrapper(lab: Lab, workdir: Path) -> Path:
    """libvirt's ssh transport runs `ssh`; this one reads the lab's config."""
    path = workdir / "ssh-lab"
    path.write_text(f'#!/bin/sh\nexec ssh -F {lab.ssh_config} "$@"\n')
    path.chmod(0o755)
    return path


def virsh_uri(wrapper: Path) -> str:
    return f"qemu+ssh://lab-a/system?command={wrapper}"


def virsh_warm(uri: str, pool: str, rounds: int) -> list[float]:
    """One virsh process, one connection, `rounds` listings timed by virsh itself."""
    script = "".join(f"vol-list --pool {pool} --details\n" for _ in range(rounds))
    out = subprocess.run(
        ["virsh", "-t", "-c", uri], input=script, capture_output=True, text=True, check=True
    ).stdout
    return [float(ms) / 1000 for ms in re.findall(r"\(Time: ([\d.]+) ms\)", out)]


def virsh_cold(uri: str, pool: str) -> float:
    began = time.perf_counter()
    subprocess.run(
        ["virsh", "-c", uri, "vol-list", "--pool", pool, "--details"],
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - began


async def bench_round_trip(host: Host, calls: int = 300) -> None:
    """The floor under every listing: one small libvirt call through the tunnel."""
    conn = host.require_conn()

    def calls_in_a_row() -> float:
        began = time.perf_counter()
        for _ in range(calls):
            conn.getLibVersion()
        return (time.perf_counter() - began) / calls

    each = await host.call(calls_in_a_row)
    print(f"one libvirt call through the SSH tunnel (round trip): {each * 1000:.2f} ms")


async def bench_listing(lab: Lab, host: Host, uri: str, count: int, rounds: int) -> None:
    pool = make_pool(lab["a"].uri, "bench-list")
    try:
        directory = lab["a"].dir / "var-lib-libvirt" / Path(pool_path(pool)).name
        for i in range(count):  # files made behind libvirt's back, then one refresh
            with open(directory / f"vol-{i:05d}.img", "wb") as f:
                f.truncate(MiB)
        await refresh_pool(host, pool)
        assert len(await list_volumes(host, pool)) == count
        ours: list[float] = []
        theirs: list[float] = []
        names: list[float] = []
        for _ in range(rounds):
            began = time.perf_counter()
            await volume_names(host, pool)
            names.append(time.perf_counter() - began)
            began = time.perf_counter()
            await list_volumes(host, pool)
            ours.append(time.perf_counter() - began)
            theirs += await asyncio.to_thread(virsh_warm, uri, pool, 1)
        cold_virsh = [await asyncio.to_thread(virsh_cold, uri, pool) for _ in range(3)]
        cold_vtui = []
        for _ in range(3):
            fleet = Fleet(interval=3600)
            fresh = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
            began = time.perf_counter()
            await fleet.connect_all()
            await list_volumes(fresh, pool)
            cold_vtui.append(time.perf_counter() - began)
            await fleet.close()
        o, t = statistics.median(ours), statistics.median(theirs)
        print(f"listing {count} volumes over the SSH tunnel ({rounds} rounds, medians):")
        print(
            f"  open connection: vtui list_volumes {o * 1000:.0f} ms (with the guests using "
            f"each), virsh vol-list --details {t * 1000:.0f} ms; vtui/virsh {o / t:.2f}"
        )
        print(
            f"  names only (volume_names, what a view can paint first): "
            f"{statistics.median(names) * 1000:.0f} ms"
        )
        print(
            f"  cold (connect + list): vtui {statistics.median(cold_vtui):.2f} s, virsh "
            f"{statistics.median(cold_virsh):.2f} s "
        )
    finally:
        remove_pool(lab["a"].uri, pool)


async def vtui_upload(host: Host, pool: str, path: Path, name: str) -> float:
    began = time.perf_counter()
    transfer = await start_upload(host, pool, str(path), name=name, jobs=Transfers())
    await transfer.wait()
    elapsed = time.perf_counter() - began
    await delete_volume(host, pool, name)
    return elapsed


def scp_upload(lab: Lab, path: Path, remote: str) -> float:
    began = time.perf_counter()
    subprocess.run(["scp", "-q", "-F", lab.ssh_config, str(path), f"lab-a:{remote}"], check=True)
    elapsed = time.perf_counter() - began
    subprocess.run(["ssh", "-F", lab.ssh_config, "lab-a", "rm", "-f", remote], check=True)
    return elapsed


async def bench_upload(lab: Lab, host: Host, size_mib: int, rounds: int, workdir: Path) -> None:
    pool = make_pool(lab["a"].uri, "bench-upload")
    path = workdir / "upload.bin"
    with open(path, "wb") as f:  # random: nothing to compress, no holes to skip
        for _ in range(size_mib):
            f.write(os.urandom(MiB))
    try:
        size = size_mib * MiB
        ours: list[float] = []
        theirs: list[float] = []
        print(f"upload of {size_mib} MiB (not sparse) through the SSH tunnel, {rounds} rounds:")
        for i in range(rounds):
            remote = f"{pool_path(pool)}/scp-{i}.bin"
            first_scp = i % 2 == 1  # alternate who goes first
            if first_scp:
                theirs.append(await asyncio.to_thread(scp_upload, lab, path, remote))
            ours.append(await vtui_upload(host, pool, path, f"vtui-{i}.bin"))
            if not first_scp:
                theirs.append(await asyncio.to_thread(scp_upload, lab, path, remote))
            print(
                f"  round {i + 1}: vtui {size / ours[-1] / MiB:.0f} MiB/s, scp "
                f"{size / theirs[-1] / MiB:.0f} MiB/s, vtui/scp {theirs[-1] / ours[-1]:.2f}"
            )
        o, t = statistics.median(ours), statistics.median(theirs)
        print(
            f"  median: vtui {size / o / MiB:.0f} MiB/s, scp {size / t / MiB:.0f} MiB/s, "
            f"vtui/scp {t / o:.2f} (target >= 0.70)"
        )
    finally:
        remove_pool(lab["a"].uri, pool)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volumes", type=int, default=1000)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip", choices=("listing", "upload"), action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vtui-bench-") as tmp, Lab() as lab:
        workdir = Path(tmp)
        os.environ["HOME"] = str(workdir)  # never the machine's ~/.ssh
        os.environ.pop("SSH_AUTH_SOCK", None)
        fleet = Fleet(interval=3600)
        host = add_target(fleet, "lab-a", ssh_config=lab.ssh_config)
        failures = await fleet.connect_all()
        if failures:
            raise SystemExit(f"cannot connect: {failures[0]}")
        try:
            await bench_round_trip(host)
            if "listing" not in args.skip:
                uri = virsh_uri(ssh_wrapper(lab, workdir))
                await bench_listing(lab, host, uri, args.volumes, args.rounds)
            if "upload" not in args.skip:
                await bench_upload(lab, host, args.size_mib, args.rounds, workdir)
        finally:
            await fleet.close()


if __name__ == "__main__":
    eventloop.run(main())
