"""Pre-flight checks: whether a migration can run, each a pass/warn/fail line with the
fix in a few words.

They only read (inspect_source.py, inspect_destination.py): the guest's definition and
state on the source, and on the destination everything it must provide: the same
hypervisor, no clashing guest, versions no older, the machine type (domain
capabilities), the CPU model, the CPUs and NUMA nodes pinned to, huge pages, memory
and the commitment afterwards, the firmware, every network and bridge, every disk,
backing file, boot file and pool (with room for a copy). The topics are in
checks_host.py, checks_devices.py, checks_network.py and checks_storage.py.
"""

from __future__ import annotations

import asyncio

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host, HostStatus
from vtui.core.migration.check import FAIL, PASS, WARN, Check, failures
from vtui.core.migration.checks_devices import (
    device_checks,
    firmware_checks,
    snapshot_check,
    state_check,
)
from vtui.core.migration.checks_host import (
    cpu_check,
    hugepages_check,
    identity_checks,
    machine_check,
    memory_check,
    pinning_checks,
    version_checks,
)
from vtui.core.migration.checks_network import network_checks
from vtui.core.migration.checks_storage import storage_checks
from vtui.core.migration.inspect_destination import Destination, read_destination
from vtui.core.migration.inspect_source import Source, read_source
from vtui.core.migration.options import MigrationOptions, peer_uri
from vtui.core.model import Guest
from vtui.core.units import size

__all__ = ["FAIL", "PASS", "WARN", "Check", "failures", "preflight"]

REACH_TIMEOUT = 5.0  # seconds the destination gets to answer one call
INSPECT_TIMEOUT = 30.0  # seconds either host gets to answer all our questions


async def _reach(dst: Host) -> Check:
    if dst.status is not HostStatus.CONNECTED or dst.conn is None:
        why = f": {dst.error}" if dst.error else ""
        return Check("destination", FAIL, f"{dst.name} is {dst.status.value}{why}",
                     f"reconnect {dst.name}, or pick another host")  # fmt: skip
    if dst.readonly:
        return Check("destination", FAIL, f"the connection to {dst.name} is read-only",
                     "connect it without --readonly")  # fmt: skip
    conn = dst.conn
    try:
        version = await asyncio.wait_for(dst.call(conn.getLibVersion), REACH_TIMEOUT)
    except TimeoutError:
        return Check("destination", FAIL, f"{dst.name} does not answer within "
                     f"{REACH_TIMEOUT:.0f} s", "check the host and its libvirtd")  # fmt: skip
    except libvirt.libvirtError as exc:
        return Check("destination", FAIL, f"{dst.name} does not answer: "
                     f"{libvirt_message(exc)}", "check the host and its libvirtd")  # fmt: skip
    driver = f"{dst.facts.driver} " if dst.facts and dst.facts.driver else ""
    return Check(
        "destination",
        PASS,
        f"{dst.name} answers ({driver}libvirt {version // 1000000}.{version // 1000 % 1000})",
    )


async def _inspect(host: Host, role: str, checks: list[Check], fn, *args):
    """fn(conn, *args) in host's threads, bounded; None (and a failed check) on error."""
    try:
        return await asyncio.wait_for(host.call(fn, host.require_conn(), *args), INSPECT_TIMEOUT)
    except VtuiError as exc:
        checks.append(Check(role, FAIL, exc.message))
    except TimeoutError:
        checks.append(
            Check(
                role,
                FAIL,
                f"{host.name} did not answer within {INSPECT_TIMEOUT:.0f} s",
                "check the host and its libvirtd",
            )  # fmt: skip
        )
    except libvirt.libvirtError as exc:
        checks.append(Check(role, FAIL, f"cannot inspect {host.name}: {libvirt_message(exc)}"))
    return None


def _job_checks(src: Source, src_host: Host, dst_host: Host, options: MigrationOptions):
    checks = []
    if options.peer_to_peer:
        checks.append(Check("peer-to-peer", PASS,
                            f"{src_host.name} connects to {peer_uri(dst_host, options)} "
                            "itself"))  # fmt: skip
    if options.live and options.post_copy:
        checks.append(Check("post-copy", WARN, "after the switch to post-copy, a broken link "
                            "loses the guest on both hosts", "use it on a reliable link "
                            "only"))  # fmt: skip
    if options.live and options.bandwidth_mib:
        eta = src.memory_kib * 1024 / (options.bandwidth_mib * 1024 * 1024)
        if eta > 600:
            checks.append(Check("bandwidth", WARN, f"{size(src.memory_kib * 1024)} at "
                                f"{options.bandwidth_mib} MiB/s takes over {eta / 60:.0f} min",
                                "raise the bandwidth limit"))  # fmt: skip
    return checks


def _all_checks(
    src: Source, dst: Destination, src_host: Host, dst_host: Host, guest: Guest, options
) -> list[Check]:
    s, d, live = src_host.name, dst_host.name, options.live
    checks = identity_checks(src, dst, d, guest.name, options)
    checks += version_checks(src, dst, s, d)
    checks.append(machine_check(src, dst, d))
    checks.append(cpu_check(src, dst, s, d))
    checks += pinning_checks(src, dst, d)
    huge = hugepages_check(src, dst, d, live)
    if huge is not None:
        checks.append(huge)
    checks.append(memory_check(src, dst, d, live))
    checks += firmware_checks(src, dst, d)
    checks += device_checks(src, dst, d, options)
    checks += network_checks(src, dst, d, live)
    checks += storage_checks(src, dst, s, d, options)
    return checks + _job_checks(src, src_host, dst_host, options)


async def preflight(
    src_host: Host, guest: Guest, dst_host: Host, options: MigrationOptions
) -> list[Check]:
    """Every check that can be made before migrating; never changes either host."""
    checks: list[Check] = []
    problems = options.problems()
    checks.append(
        Check("options", FAIL, "; ".join(problems), "change the options")
        if problems
        else Check("options", PASS, options.describe())
    )
    if src_host is dst_host:
        checks.append(Check("destination", FAIL, "source and destination are the same host",
                            "pick another destination"))  # fmt: skip
        return checks
    if src_host.readonly:
        checks.append(Check("source", FAIL, f"the connection to {src_host.name} is read-only",
                            "connect it without --readonly"))  # fmt: skip
        return checks
    # the source's answers and the destination's first one at once: each is a round trip
    src, reach = await asyncio.gather(
        _inspect(src_host, "source", checks, read_source, guest.uuid), _reach(dst_host)
    )
    if src is None:
        return checks
    checks.append(state_check(src, options))
    checks.append(snapshot_check(src))
    checks.append(reach)
    if reach.status == FAIL:
        return checks
    dst = await _inspect(
        dst_host, "destination", checks, read_destination, guest.name, guest.uuid, src, options.live
    )
    if dst is None:
        return checks
    return checks + _all_checks(src, dst, src_host, dst_host, guest, options)
