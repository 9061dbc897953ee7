"""What waits for a restart: where a running guest's persistent definition differs
from what it runs with now, in words ("vCPUs: 1 now, 2 from the next start").

Compared field by field, not as text: a live definition always carries runtime
details (aliases, addresses, the host side of a NIC, a VNC port) that are no change.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from vtui.core.guests.config.model import DomainView, PendingChange
from vtui.core.guests.config.words import human_kib

# Other devices whose one-line summary carries no runtime detail: a difference in it
# is a real change. (A serial port's pty path or a VNC port differs at every start.)
STABLE_SUMMARIES = frozenset(
    {"video", "sound", "watchdog", "rng", "tpm", "input", "filesystem", "controller", "memballoon"}
)
# The memory a running guest has now (its balloon) is not compared: it is what the
# guest's balloon driver reached, which moves by itself and may never reach the target
# (no driver). The sections show both numbers instead.


def _line(section: str, what: str, now: Any, then: Any) -> PendingChange:
    return PendingChange(
        section, f"{what}: {now or 'none'} now, {then or 'none'} from the next start"
    )


def _fields(
    section: str, live: object, persistent: object, names: dict[str, str]
) -> Iterator[PendingChange]:
    for attr, label in names.items():
        now, then = getattr(live, attr), getattr(persistent, attr)
        if now != then:
            yield _line(section, label, now, then)


def _keyed(
    section: str,
    label: str,
    live: dict[str, Any],
    persistent: dict[str, Any],
    describe: Callable[[Any], str],
) -> Iterator[PendingChange]:
    for key in persistent.keys() - live.keys():
        yield PendingChange(section, f"{label} {key}: added, from the next start")
    for key in live.keys() - persistent.keys():
        yield PendingChange(section, f"{label} {key}: removed, from the next start")
    for key in live.keys() & persistent.keys():
        now, then = describe(live[key]), describe(persistent[key])
        if now != then:
            yield PendingChange(section, f"{label} {key}: {now} now, {then} from the next start")


def _disk(d) -> str:
    flags = [
        x for x in ("read-only" if d.readonly else "", "shareable" if d.shareable else "") if x
    ]
    parts = [d.source or "(empty)", d.bus, d.format, f"cache {d.cache}" if d.cache else "", *flags]
    return ", ".join(p for p in parts if p)


def _nic(n) -> str:
    return ", ".join(p for p in (f"{n.type} {n.source}", n.model, f"link {n.link or 'up'}") if p)


def pending_changes(
    live: DomainView | None, persistent: DomainView | None
) -> tuple[PendingChange, ...]:
    if live is None or persistent is None:
        return ()
    found: list[PendingChange] = []
    found += _fields("overview", live, persistent, {"title": "title", "description": "description"})
    cpu_names = {"vcpus": "vCPUs", "vcpus_max": "maximum vCPUs", "mode": "CPU mode"}
    cpu_names |= {"model": "CPU model", "topology": "topology"}
    found += _fields("cpu", live.cpu, persistent.cpu, cpu_names)
    mem_now, mem_then = live.memory, persistent.memory
    if mem_now.maximum_kib != mem_then.maximum_kib:
        found.append(
            _line(
                "memory",
                "maximum memory",
                human_kib(mem_now.maximum_kib),
                human_kib(mem_then.maximum_kib),
            )
        )
    boot_names = {"order": "boot order", "menu": "boot menu", "kernel": "kernel"}
    boot_names |= {"initrd": "initrd", "cmdline": "kernel command line", "firmware": "firmware"}
    found += _fields("boot", live.boot, persistent.boot, boot_names)
    found += _keyed(
        "disks",
        "disk",
        {d.target: d for d in live.disks},
        {d.target: d for d in persistent.disks},
        _disk,
    )
    found += _keyed(
        "nics",
        "interface",
        {n.mac: n for n in live.nics},
        {n.mac: n for n in persistent.nics},
        _nic,
    )
    found += _devices(live, persistent)
    live_hd = {f"{h.kind} {h.address}": h for h in live.hostdevs}
    persistent_hd = {f"{h.kind} {h.address}": h for h in persistent.hostdevs}
    found += _keyed("hostdevs", "host device", live_hd, persistent_hd, lambda h: "")
    return tuple(found)


def _devices(live: DomainView, persistent: DomainView) -> Iterator[PendingChange]:
    def counted(view: DomainView) -> Counter:
        return Counter(
            (d.kind, d.summary if d.kind in STABLE_SUMMARIES else "") for d in view.devices
        )

    now, then = counted(live), counted(persistent)
    for (kind, summary), count in sorted((then - now).items()):
        what = f"{kind} {summary}".strip()
        yield PendingChange(
            "devices", f"{what}: added, from the next start" + (f" (x{count})" if count > 1 else "")
        )
    for (kind, summary), count in sorted((now - then).items()):
        what = f"{kind} {summary}".strip()
        yield PendingChange(
            "devices",
            f"{what}: removed, from the next start" + (f" (x{count})" if count > 1 else ""),
        )
