"""Pre-flight checks: whether a migration can run, each a pass/warn/fail line.

The checks only read (see inspect_hosts.py for what and how): guest and host facts on
both sides, libvirt's CPU comparison, and which disk paths exist on the destination.
"""

from __future__ import annotations

import asyncio
import posixpath
from dataclasses import dataclass

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host, HostStatus
from vtui.core.migration.inspect_hosts import Destination, Source, read_destination, read_source
from vtui.core.migration.options import MigrationOptions, peer_uri
from vtui.core.model import Guest
from vtui.core.units import kib, size

REACH_TIMEOUT = 5.0  # seconds the destination gets to answer one call
INSPECT_TIMEOUT = 30.0  # seconds either host gets to answer all our questions


# -- the result of one check ------------------------------------------------------------

PASS, WARN, FAIL = "pass", "warn", "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One pre-flight result: a name, pass/warn/fail, one line for the user and, for a
    warning or a failure, what to do about it in a few words."""

    name: str
    status: str
    message: str
    fix: str = ""

    @property
    def line(self) -> str:
        return f"{self.name}: {self.message}"


def failures(checks: list[Check]) -> list[Check]:
    return [c for c in checks if c.status == FAIL]


# -- turning facts into checks ------------------------------------------------------------
def _state_check(src: Source, options: MigrationOptions) -> Check:
    running = (libvirt.VIR_DOMAIN_RUNNING, libvirt.VIR_DOMAIN_BLOCKED, libvirt.VIR_DOMAIN_PAUSED)
    if src.job_active:
        return Check("guest state", FAIL, "another job (e.g. a migration) is running on it")
    if options.live:
        if src.state in running:
            paused = src.state == libvirt.VIR_DOMAIN_PAUSED
            return Check(
                "guest state",
                PASS,
                "paused (stays paused on the destination)" if paused else "running",
            )
        return Check(
            "guest state",
            FAIL,
            "not running: live migration needs a running or "
            "paused guest (choose offline for a stopped one)",
        )
    if src.state not in (libvirt.VIR_DOMAIN_SHUTOFF, libvirt.VIR_DOMAIN_CRASHED):
        return Check(
            "guest state",
            FAIL,
            "running: offline migration moves a stopped guest (shut it down, or choose live)",
        )
    if not src.persistent:
        return Check("guest state", FAIL, "transient: it has no definition to move offline")
    if src.managed_save:
        return Check(
            "guest state",
            FAIL,
            "has a saved memory state (managed save) that cannot "
            "move: start it and migrate live, or discard the saved state",
        )
    return Check("guest state", PASS, "shut off, persistent")


def _memory_check(src: Source, dst: Destination, dst_name: str) -> Check:
    need = src.memory_kib
    have = dst.available_kib
    if have is None:
        return Check("memory", WARN, f"{dst_name} does not report its free memory")
    text = f"needs {kib(need)}, {dst_name} has {kib(have)} available"
    if have < need:
        return Check("memory", FAIL, text)
    if have - need < dst.total_kib // 20:
        return Check("memory", WARN, text + " (leaves less than 5%)")
    return Check("memory", PASS, text)


def _cpu_check(src: Source, dst: Destination, src_name: str, dst_name: str) -> Check:
    if src.cpu_xml is None:
        if src.domain_type == "qemu":
            return Check("cpu", PASS, "emulated (TCG) guest with the default CPU model")
        return Check("cpu", PASS, "no CPU model pinned (hypervisor default)")
    if src.cpu_mode in ("host-passthrough", "maximum"):
        if src.host_cpu == dst.host_cpu:
            return Check(
                "cpu", PASS, f"{src.cpu_mode} between identical host CPUs ({src.host_cpu})"
            )
        return Check(
            "cpu",
            WARN,
            f"{src.cpu_mode}: {src_name} has {src.host_cpu}, {dst_name} "
            f"has {dst.host_cpu}; the guest may fail after moving",
        )
    model = src.cpu_model or src.cpu_mode
    if dst.cpu_result is None:
        return Check("cpu", WARN, f"cannot compare CPU model {model}: {dst.cpu_error}")
    if dst.cpu_result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
        return Check("cpu", FAIL, f"{dst_name} cannot provide the guest's CPU ({model})")
    return Check("cpu", PASS, f"{dst_name} provides the guest's CPU ({model})")


def _storage_checks(
    src: Source, dst: Destination, dst_name: str, options: MigrationOptions
) -> list[Check]:
    copying = options.live and options.copy_storage != "none"
    checks = []
    for item in src.items:
        if item.kind == "network":
            checks.append(Check(item.name, PASS, f"network disk {item.path} (shared)"))
            continue
        present, why = dst.presence.get(item.path, (None, "not checked"))
        if present:
            if copying and item.copyable:
                checks.append(
                    Check(
                        item.name,
                        WARN,
                        f"{item.path} exists on {dst_name} and "
                        "will be overwritten by the copy (never copy shared storage)",
                    )
                )
            else:
                checks.append(Check(item.name, PASS, f"{item.path} present on {dst_name}"))
        elif present is None:
            checks.append(Check(item.name, WARN, f"cannot check {item.path} on {dst_name}: {why}"))
        elif copying and item.copyable:
            directory = posixpath.dirname(item.path)
            pool = dst.pools.get(directory)
            if pool:
                checks.append(
                    Check(
                        item.name,
                        PASS,
                        f"{item.path} will be copied into pool {pool} on {dst_name}",
                    )
                )
            else:
                checks.append(
                    Check(
                        item.name,
                        FAIL,
                        f"{item.path} is missing on {dst_name}, and "
                        f"copying it needs an active storage pool at {directory} "
                        "there",
                    )
                )
        elif copying:
            checks.append(
                Check(
                    item.name,
                    FAIL,
                    f"{item.path} is missing on {dst_name} "
                    "(read-only disks and boot files are never copied)",
                )
            )
        else:
            checks.append(
                Check(
                    item.name,
                    FAIL,
                    f"{item.path} is missing on {dst_name}: "
                    "choose copy storage, or use storage both hosts share",
                )
            )
    if not checks:
        checks.append(Check("storage", PASS, "no disks"))
    return checks


def _identity_checks(
    src: Source, dst: Destination, dst_name: str, name: str, options: MigrationOptions
) -> list[Check]:
    checks = []
    if src.host_uuid and src.host_uuid == dst.host_uuid:
        checks.append(Check("hypervisor", FAIL, "source and destination are the same host"))
    elif src.driver != dst.driver:
        checks.append(
            Check("hypervisor", FAIL, f"source runs {src.driver}, {dst_name} runs {dst.driver}")
        )
    else:
        checks.append(Check("hypervisor", PASS, f"both {src.driver}"))
    if (
        dst.same_uuid is not None
        and dst.same_uuid[0] == name
        and not dst.same_uuid[1]
        and options.live
    ):
        checks.append(
            Check(
                "name",
                WARN,
                f"{dst_name} has a stopped definition of {name}; the migrated guest replaces it",
            )
        )
    elif dst.same_name is not None:
        state = "running" if dst.same_name[1] else "defined"
        checks.append(
            Check("name", FAIL, f"{dst_name} already has a guest called {name} ({state})")
        )
    elif dst.same_uuid is not None:
        checks.append(
            Check(
                "name", FAIL, f"{dst_name} already has a guest with this UUID ({dst.same_uuid[0]})"
            )
        )
    else:
        checks.append(Check("name", PASS, f"no guest called {name} or with its UUID on {dst_name}"))
    return checks


async def _reach(dst: Host) -> Check:
    if dst.status is not HostStatus.CONNECTED or dst.conn is None:
        why = f": {dst.error}" if dst.error else ""
        return Check("destination", FAIL, f"{dst.name} is {dst.status.value}{why}")
    if dst.readonly:
        return Check("destination", FAIL, f"the connection to {dst.name} is read-only")
    conn = dst.conn
    try:
        alive = await asyncio.wait_for(dst.call(conn.getLibVersion), REACH_TIMEOUT)
    except TimeoutError:
        return Check(
            "destination", FAIL, f"{dst.name} does not answer within {REACH_TIMEOUT:.0f} s"
        )
    except libvirt.libvirtError as exc:
        return Check("destination", FAIL, f"{dst.name} does not answer: {libvirt_message(exc)}")
    facts = dst.facts
    driver = facts.driver if facts else ""
    return Check(
        "destination",
        PASS,
        f"{dst.name} answers ({driver} libvirt {alive // 1000000}.{alive // 1000 % 1000})",
    )


async def _inspect(host: Host, role: str, checks: list[Check], fn, *args):
    """fn(conn, *args) in host's threads, bounded; None (and a failed check) on error."""
    try:
        return await asyncio.wait_for(host.call(fn, host.require_conn(), *args), INSPECT_TIMEOUT)
    except VtuiError as exc:
        checks.append(Check(role, FAIL, exc.message))
    except TimeoutError:
        checks.append(
            Check(role, FAIL, f"{host.name} did not answer within {INSPECT_TIMEOUT:.0f} s")
        )
    except libvirt.libvirtError as exc:
        checks.append(Check(role, FAIL, f"cannot inspect {host.name}: {libvirt_message(exc)}"))
    return None


async def preflight(
    src_host: Host, guest: Guest, dst_host: Host, options: MigrationOptions
) -> list[Check]:
    """Every check that can be made before migrating; never changes either host."""
    checks: list[Check] = []
    problems = options.problems()
    checks.append(
        Check("options", FAIL, "; ".join(problems))
        if problems
        else Check("options", PASS, options.describe())
    )
    if src_host is dst_host:
        checks.append(Check("destination", FAIL, "source and destination are the same host"))
        return checks
    if src_host.readonly:
        checks.append(Check("source", FAIL, f"the connection to {src_host.name} is read-only"))
        return checks
    src = await _inspect(src_host, "source", checks, read_source, guest.uuid)
    if src is None:
        return checks
    checks.append(_state_check(src, options))
    if src.snapshots:
        checks.append(
            Check(
                "snapshots",
                WARN,
                f"has {src.snapshots} snapshot(s): libvirt may refuse to migrate it",
            )
        )
    reach = await _reach(dst_host)
    checks.append(reach)
    if reach.status == FAIL:
        return checks
    dst = await _inspect(
        dst_host, "destination", checks, read_destination, guest.name, guest.uuid, src, options.live
    )
    if dst is None:
        return checks
    checks += _identity_checks(src, dst, dst_host.name, guest.name, options)
    if options.live:
        checks.append(_memory_check(src, dst, dst_host.name))
    checks.append(_cpu_check(src, dst, src_host.name, dst_host.name))
    checks += _storage_checks(src, dst, dst_host.name, options)
    if options.peer_to_peer:
        checks.append(
            Check(
                "peer-to-peer",
                PASS,
                f"{src_host.name} connects to {peer_uri(dst_host, options)} itself",
            )
        )
    if options.live and options.post_copy:
        checks.append(
            Check(
                "post-copy",
                WARN,
                "after the switch to post-copy, a broken link loses the guest on both hosts",
            )
        )
    if options.live and options.bandwidth_mib:
        eta = src.memory_kib * 1024 / (options.bandwidth_mib * 1024 * 1024)
        if eta > 600:
            checks.append(
                Check(
                    "bandwidth",
                    WARN,
                    f"{size(src.memory_kib * 1024)} at "
                    f"{options.bandwidth_mib} MiB/s takes over {eta / 60:.0f} min",
                )
            )
    return checks
