"""Pre-flight checks about the destination host itself: same hypervisor, versions,
machine type, CPU model, CPUs and NUMA nodes the guest is pinned to, huge pages and
memory (free, and how committed the host is afterwards)."""

from __future__ import annotations

import libvirt

from vtui.core.migration.check import FAIL, PASS, WARN, Check
from vtui.core.migration.guest_config import cpu_list
from vtui.core.migration.inspect_destination import Destination
from vtui.core.migration.inspect_source import Source
from vtui.core.migration.options import MigrationOptions
from vtui.core.units import kib


def _version(number: int) -> str:
    return f"{number // 1000000}.{number // 1000 % 1000}.{number % 1000}"


def identity_checks(
    src: Source, dst: Destination, dst_name: str, name: str, options: MigrationOptions
) -> list[Check]:
    checks = []
    if src.host.uuid and src.host.uuid == dst.host.uuid:
        checks.append(
            Check(
                "hypervisor",
                FAIL,
                "source and destination are the same host",
                "pick another destination (hosts need distinct host UUIDs)",
            )  # fmt: skip
        )
    elif src.host.driver != dst.host.driver:
        checks.append(
            Check(
                "hypervisor",
                FAIL,
                f"source runs {src.host.driver}, {dst_name} runs {dst.host.driver}",
                "migrate between hosts of the same hypervisor",
            )
        )
    else:
        checks.append(Check("hypervisor", PASS, f"both {src.host.driver}"))
    same_uuid, same_name = dst.same_uuid, dst.same_name
    if same_uuid is not None and same_uuid[0] == name and not same_uuid[1] and options.live:
        checks.append(
            Check(
                "name",
                WARN,
                f"{dst_name} has a stopped definition of {name}; the migrated guest replaces it",
                "nothing, if that definition is an old copy of this guest",
            )
        )
    elif same_name is not None:
        state = "running" if same_name[1] else "defined"
        checks.append(
            Check(
                "name",
                FAIL,
                f"{dst_name} already has a guest called {name} ({state})",
                f"rename or remove the one on {dst_name}",
            )
        )
    elif same_uuid is not None:
        checks.append(
            Check(
                "name",
                FAIL,
                f"{dst_name} already has a guest with this UUID ({same_uuid[0]})",
                f"remove {same_uuid[0]} from {dst_name}, or give one of them a new UUID",
            )
        )
    else:
        checks.append(Check("name", PASS, f"no guest called {name} or with its UUID on {dst_name}"))
    return checks


def version_checks(src: Source, dst: Destination, src_name: str, dst_name: str) -> list[Check]:
    checks = []
    hypervisor = src.host.driver or "hypervisor"
    for what, ours, theirs in (
        ("libvirt", src.host.libvirt_version, dst.host.libvirt_version),
        (hypervisor, src.host.hypervisor_version, dst.host.hypervisor_version),
    ):
        name = f"{what} version"
        if not ours or not theirs:
            checks.append(Check(name, WARN, f"{dst_name} or {src_name} does not tell its {what}",
                                "compare the versions by hand"))  # fmt: skip
        elif theirs < ours:
            checks.append(
                Check(
                    name,
                    FAIL,
                    f"{dst_name} has {what} {_version(theirs)}, older than {_version(ours)} "
                    f"on {src_name}: it may not know this guest's devices or machine type",
                    f"upgrade {what} on {dst_name}",
                )
            )
        else:
            relation = "same as" if theirs == ours else "newer than"
            checks.append(
                Check(name, PASS, f"{_version(theirs)} on {dst_name}, {relation} {src_name}")
            )
    return checks


def machine_check(src: Source, dst: Destination, dst_name: str) -> Check:
    cfg, caps = src.config, dst.caps
    what = f"{cfg.arch or 'its architecture'}, machine {cfg.machine or 'default'}"
    if caps.error:
        if "machine" in caps.error:
            fix = f"upgrade QEMU on {dst_name}, or change the guest's machine type"
        elif "binary" in caps.error or "emulator" in caps.error:
            fix = f"install {cfg.emulator or 'its emulator'} on {dst_name}"
        else:
            fix = f"check QEMU on {dst_name}"
        return Check("machine type", FAIL, f"{dst_name} cannot run {what}: {caps.error}", fix)
    return Check("machine type", PASS, f"{dst_name} runs {what} ({cfg.emulator})")


def cpu_check(src: Source, dst: Destination, src_name: str, dst_name: str) -> Check:
    cfg = src.config
    if cfg.cpu_xml is None:
        if cfg.domain_type == "qemu":
            return Check("cpu", PASS, "emulated (TCG) guest with the default CPU model")
        return Check("cpu", PASS, "no CPU model pinned (hypervisor default)")
    if cfg.cpu_mode in ("host-passthrough", "maximum"):
        if src.host.cpu_model == dst.host.cpu_model:
            return Check(
                "cpu", PASS, f"{cfg.cpu_mode} between identical host CPUs ({src.host.cpu_model})"
            )
        return Check(
            "cpu",
            WARN,
            f"{cfg.cpu_mode}: {src_name} has {src.host.cpu_model}, {dst_name} "
            f"has {dst.host.cpu_model}; the guest may fail after moving",
            "use a named CPU model both hosts provide (host-model on the older one)",
        )
    model = cfg.cpu_model or cfg.cpu_mode
    if dst.cpu_result is None:
        return Check("cpu", WARN, f"cannot compare CPU model {model}: {dst.cpu_error}",
                     "make sure the destination has that CPU model")  # fmt: skip
    if dst.cpu_result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE:
        return Check(
            "cpu",
            FAIL,
            f"{dst_name} cannot provide the guest's CPU ({model})",
            "give the guest a CPU model both hosts have",
        )
    return Check("cpu", PASS, f"{dst_name} provides the guest's CPU ({model})")


def pinning_checks(src: Source, dst: Destination, dst_name: str) -> list[Check]:
    """CPUs and NUMA nodes the definition names must exist on the destination."""
    cfg, checks = src.config, []
    pins = list(cfg.pinned)
    if cfg.vcpu_cpuset:
        pins.insert(0, ("vCPUs", cfg.vcpu_cpuset))
    have = f"{dst_name} has CPUs {_ranges(dst.cpus)}"
    for what, cpuset in pins:
        try:
            missing = cpu_list(cpuset) - dst.cpus
        except ValueError:
            checks.append(Check("cpu pinning", WARN, f"{what}: cannot read CPU set {cpuset!r}"))
            continue
        if missing:
            checks.append(
                Check(
                    "cpu pinning",
                    FAIL,
                    f"{what} pinned to CPUs {cpuset}; {have}",
                    f"pin to CPUs {dst_name} has (virsh vcpupin/emulatorpin), or unpin",
                )
            )
    if pins and not checks:
        names = ", ".join(f"{w} to {c}" for w, c in pins)
        checks.append(Check("cpu pinning", PASS, f"{names}: {have}"))
    nodes = f"{dst_name} has NUMA node(s) {_ranges(dst.numa_nodes)}"
    for what, nodeset in cfg.numa_nodesets:
        try:
            missing = cpu_list(nodeset) - dst.numa_nodes
        except ValueError:
            missing = set()
        status = FAIL if missing else PASS
        fix = "change the guest's numatune to nodes it has" if missing else ""
        checks.append(Check("numa", status, f"{what} on node(s) {nodeset}; {nodes}", fix))
    return checks


def hugepages_check(src: Source, dst: Destination, dst_name: str, live: bool) -> Check | None:
    cfg = src.config
    if not cfg.hugepages:
        return None
    size = cfg.hugepages[0][0] or dst.default_huge_kib
    need = -(-src.memory_kib // size)  # pages, rounded up
    free = dst.free_pages.get(size, 0)
    text = f"needs {need} free {kib(size)} pages for {kib(src.memory_kib)}; {dst_name} has {free}"
    if free >= need:
        return Check("huge pages", PASS, text)
    fix = f"reserve them on {dst_name} (sysctl vm.nr_hugepages, or hugeadm)"
    if live:
        return Check("huge pages", FAIL, text, fix)
    return Check("huge pages", WARN, text + ": it will not start there yet", fix)


def memory_check(src: Source, dst: Destination, dst_name: str, live: bool) -> Check:
    """Free memory now (a live move needs it at once) and the commitment afterwards."""
    need = src.memory_kib
    ratio = ""
    if dst.total_kib:
        before = dst.committed_kib / dst.total_kib
        after = (dst.committed_kib + need) / dst.total_kib
        ratio = f"; memory commitment on {dst_name} {before:.2f}x -> {after:.2f}x"
    else:
        after = 0.0
    if not live:
        status = WARN if after > 1.0 else PASS
        fix = "start it only where its memory fits" if after > 1.0 else ""
        return Check("memory", status, f"needs {kib(need)} once started{ratio}", fix)
    have = dst.available_kib
    if have is None:
        return Check("memory", WARN, f"{dst_name} does not report its free memory{ratio}",
                     "make sure it has the guest's memory free")  # fmt: skip
    text = f"needs {kib(need)}, {dst_name} has {kib(have)} available{ratio}"
    fix = f"free memory on {dst_name} (stop or move guests), or pick another host"
    if have < need:
        return Check("memory", FAIL, text, fix)
    if have - need < dst.total_kib // 20:
        return Check("memory", WARN, text + " (leaves less than 5%)", fix)
    if after > 1.0:
        return Check("memory", WARN, text + " (overcommitted: guests may swap)", fix)
    return Check("memory", PASS, text)


def _ranges(numbers: set[int]) -> str:
    """{0, 1, 2, 5} -> '0-2,5'."""
    out, ordered = [], sorted(numbers)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out) or "none"
