"""Benchmark: listing 100 virtual networks of a lab host over the SSH tunnel with
vtui's core, side by side with `virsh net-list --all` over qemu+ssh, interleaved.

The lab's host "a" gets N defined (not started) networks, each with its own /28 in
10.78.128.0/17. vtui reaches it the way users do (its own SSH tunnel; the ssh config relays with
TCP_NODELAY, as ssh's own TCP connection would, see ssh_config());
virsh goes through ssh too (qemu+ssh://lab-a/system, same config, virt-ssh-helper on
the other end). Printed per round, then medians:

  first paint   list_networks(guests=False): what the networks tab needs to draw
  full          list_networks(guests=True, leases=True): plus attached guests, leases
  cold          connect a new Host over a new tunnel + first paint (like a virsh run)
  virsh         `virsh -c qemu+ssh://lab-a/system net-list --all` (its own connect)

Needs root (the lab's namespaces). Target (issue 12): first paint under 0.5 s.

    .venv/bin/python bench/networks.py [--networks 100] [--rounds 5] [--delay 0.025]
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import libvirt
from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.lab.hosts import Lab  # noqa: E402

from vtui.core import eventloop  # noqa: E402
from vtui.core.fleet import Fleet  # noqa: E402
from vtui.core.fleet.targets import add_target  # noqa: E402
from vtui.core.networks import list_networks  # noqa: E402

SUBNETS = ipaddress.ip_network("10.78.128.0/17").subnets(new_prefix=28)


def ssh_config(lab: Lab, path: Path, delay: float) -> Path:
    """The lab's ssh config for lab-a, but relayed by bench/delay_relay.py (no delay):
    it sets TCP_NODELAY as ssh does on its own TCP connections. (The lab's bash relay
    does not, and Nagle then stalls asyncssh's small packets for up to 40 ms each.)"""
    a = lab["a"]
    relay = f"nsenter --net={a.netns_path} {sys.executable} {ROOT / 'bench/delay_relay.py'}"
    path.write_text(
        f"Host lab-a\n  HostName {a.ip}\n  User root\n"
        f"  IdentityFile {lab.client_key}\n  IdentitiesOnly yes\n"
        f"  UserKnownHostsFile {lab.known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
        f"  StrictHostKeyChecking yes\n  BatchMode yes\n  LogLevel ERROR\n"
        f"  ProxyCommand {relay} {delay} {a.ip} 22\n"
    )
    return path


def network_xml(index: int, subnet: ipaddress.IPv4Network) -> str:
    root = etree.Element("network")
    etree.SubElement(root, "name").text = f"bench-net-{index:04d}"
    hosts = list(subnet.hosts())
    ip = etree.SubElement(root, "ip", address=str(hosts[0]), prefix=str(subnet.prefixlen))
    etree.SubElement(etree.SubElement(ip, "dhcp"), "range", start=str(hosts[1]), end=str(hosts[-1]))
    return etree.tostring(root, encoding="unicode")


def define_networks(uri: str, count: int) -> list[str]:
    conn = libvirt.open(uri)
    try:
        names = []
        for index, subnet in zip(range(count), SUBNETS):
            names.append(conn.networkDefineXML(network_xml(index, subnet)).name())
        return names
    finally:
        conn.close()


def undefine_networks(uri: str, names: list[str]) -> None:
    conn = libvirt.open(uri)
    try:
        for name in names:
            try:
                conn.networkLookupByName(name).undefine()
            except libvirt.libvirtError:
                pass
    finally:
        conn.close()


def virsh_list(uri: str) -> tuple[float, int]:
    began = time.perf_counter()
    out = subprocess.run(
        ["virsh", "-q", "-c", uri, "net-list", "--all"], capture_output=True, text=True, check=True
    ).stdout
    return time.perf_counter() - began, len(out.strip().splitlines())


async def timed_list(host, **kwargs) -> tuple[float, int]:
    began = time.perf_counter()
    networks = await list_networks(host, **kwargs)
    return time.perf_counter() - began, len(networks)


async def cold_list(config: str) -> tuple[float, int]:
    began = time.perf_counter()
    fleet = Fleet(interval=3600)
    host = add_target(fleet, "lab-a", ssh_config=config)
    try:
        failures = await fleet.connect_all()
        if failures:
            raise SystemExit(f"cannot connect: {failures[0]}")
        networks = await list_networks(host, guests=False)
        return time.perf_counter() - began, len(networks)
    finally:
        await fleet.close()


async def run(config: str, count: int, rounds: int, virsh_uri: str) -> None:
    fleet = Fleet(interval=3600)
    host = add_target(fleet, "lab-a", ssh_config=config)
    failures = await fleet.connect_all()
    if failures:
        raise SystemExit(f"cannot connect: {failures[0]}")
    host.paused = True
    results: dict[str, list[float]] = {"first paint": [], "full": [], "cold": [], "virsh": []}
    try:
        await list_networks(host)  # warm: imports, first XML parse
        for n in range(rounds):
            row = {}
            for label, measure in (
                ("first paint", lambda: timed_list(host, guests=False)),
                ("full", lambda: timed_list(host, guests=True, leases=True)),
                ("cold", lambda: cold_list(config)),
                ("virsh", lambda: asyncio.to_thread(virsh_list, virsh_uri)),
            ):
                seconds, listed = await measure()
                if listed != count:
                    raise SystemExit(f"{label} listed {listed} networks, not {count}")
                results[label].append(seconds)
                row[label] = seconds
            print(
                f"round {n + 1}: " + "  ".join(f"{k} {v * 1000:7.1f} ms" for k, v in row.items()),
                flush=True,
            )
    finally:
        await fleet.close()
    medians = {k: statistics.median(v) for k, v in results.items()}
    print(f"\n{count} networks over SSH, median of {rounds} interleaved rounds:")
    for label, value in medians.items():
        print(f"  {label:<12} {value * 1000:8.1f} ms")
    virsh = medians["virsh"]
    print(f"  first paint / virsh net-list: {medians['first paint'] / virsh:.2f}x")
    print(f"  cold (connect + first paint) / virsh net-list: {medians['cold'] / virsh:.2f}x")
    target = "met" if medians["first paint"] < 0.5 else "MISSED"
    print(f"  target first paint < 500 ms: {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--delay", type=float, default=0.0, help="one-way latency added by the relay (s)"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vtui-bench-"))
    try:
        with Lab() as lab:
            # ssh reads the passwd home's config, not $HOME's: virsh gets an ssh wrapper
            # that names the lab's config (libvirt's command= URI parameter)
            config = ssh_config(lab, work / "ssh_config", args.delay)
            wrapper = work / "ssh"
            wrapper.write_text(f'#!/bin/sh\nexec ssh -F {config} "$@"\n')
            wrapper.chmod(0o755)
            virsh_uri = f"qemu+ssh://lab-a/system?command={wrapper}"
            uri = lab["a"].uri
            names = define_networks(uri, args.networks)
            print(f"lab up in {lab.up_seconds:.1f} s; {len(names)} networks defined", flush=True)
            try:
                eventloop.run(run(str(config), len(names), args.rounds, virsh_uri))
            finally:
                undefine_networks(uri, names)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
