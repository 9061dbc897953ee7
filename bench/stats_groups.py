"""Benchmark: what each group of the bulk statistics call costs a QEMU host, on the
lab (tests/lab: a private libvirtd in namespaces, TCG guests). Needs root.

vtui samples every host with one getAllDomainStats call; on QEMU each group costs
libvirtd its own reads per guest. Four samples in five leave out the vCPU group
(stats.ACTIVE_GROUPS); this prints what that saves, beside every group alone. Each
round times every set of groups in turn (the order turns each round) and reads the
CPU time libvirtd used meanwhile.

    .venv/bin/python bench/stats_groups.py [--guests 12] [--vcpus 2] [--rounds 6] [--calls 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import libvirt  # noqa: E402
from fleet import processes  # noqa: E402
from tests.lab.hosts import Lab  # noqa: E402
from tests.lab.images import ensure_guest_image, guest_xml  # noqa: E402

from vtui.core.host.stats import ACTIVE_GROUPS, STATS_FLAGS, STATS_GROUPS  # noqa: E402

SETS = {
    "every group (one sample in five)": STATS_GROUPS,
    "ACTIVE_GROUPS (four in five)": ACTIVE_GROUPS,
    "state": libvirt.VIR_DOMAIN_STATS_STATE,
    "cpu-total": libvirt.VIR_DOMAIN_STATS_CPU_TOTAL,
    "balloon": libvirt.VIR_DOMAIN_STATS_BALLOON,
    "vcpu": libvirt.VIR_DOMAIN_STATS_VCPU,
    "interface": libvirt.VIR_DOMAIN_STATS_INTERFACE,
    "block": libvirt.VIR_DOMAIN_STATS_BLOCK,
}
FLAGS = STATS_FLAGS | libvirt.VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE


def libvirtd_pids(netns: str) -> list[int]:
    """The lab host's libvirtd: the one whose network namespace is the host's."""
    want = os.readlink(netns)
    pids = []
    for pid, name, _fields in processes():
        try:
            if name == "libvirtd" and os.readlink(f"/proc/{pid}/ns/net") == want:
                pids.append(pid)
        except OSError:
            continue
    return pids


def cpu_seconds(pids: list[int]) -> float:
    ticks = sum(int(f[11]) + int(f[12]) for pid, _n, f in processes() if pid in pids)
    return ticks / os.sysconf("SC_CLK_TCK")  # utime + stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--guests", type=int, default=12)
    parser.add_argument("--vcpus", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=20, help="bulk calls per set per round")
    args = parser.parse_args()
    libvirt.registerErrorHandler(lambda _ctx, _err: None, None)
    kernel, initrd = ensure_guest_image()
    with Lab({"a": "10.77.0.1"}) as lab:
        host = lab["a"]
        conn = libvirt.open(host.uri)
        for i in range(args.guests):
            xml = guest_xml(f"bench-{i}", kernel, initrd, vcpus=args.vcpus)
            conn.defineXML(xml).create()
        time.sleep(3 + args.guests * 0.3)  # let the TCG guests boot and go idle
        daemons = libvirtd_pids(host.netns_path)
        if not daemons:
            raise SystemExit("the lab host's libvirtd was not found")
        wall: dict[str, list[float]] = {name: [] for name in SETS}
        daemon: dict[str, list[float]] = {name: [] for name in SETS}
        names = list(SETS)
        for r in range(args.rounds):
            for name in names if r % 2 == 0 else reversed(names):
                cpu0, t0 = cpu_seconds(daemons), time.perf_counter()
                for _ in range(args.calls):
                    conn.getAllDomainStats(SETS[name], FLAGS)
                per_call = (time.perf_counter() - t0) / args.calls
                wall[name].append(per_call)
                daemon[name].append((cpu_seconds(daemons) - cpu0) / args.calls)
        conn.close()
    n = args.guests
    print(
        f"{n} running guests of {args.vcpus} vCPUs, {args.rounds} rounds of {args.calls} calls; "
        "median per call [min-max], and per guest"
    )
    for name in SETS:
        w, d = statistics.median(wall[name]), statistics.median(daemon[name])
        print(
            f"  {name:<34} {w * 1e3:6.2f} ms [{min(wall[name]) * 1e3:.2f}-"
            f"{max(wall[name]) * 1e3:.2f}]  {w / n * 1e3:5.2f} ms/guest  "
            f"libvirtd CPU {d * 1e3:6.2f} ms ({d / n * 1e3:.2f} ms/guest)"
        )
    full, active = (statistics.median(wall[k]) for k in names[:2])
    print(f"ACTIVE_GROUPS / every group: {active / full:.2f} of the time per call")


if __name__ == "__main__":
    main()
