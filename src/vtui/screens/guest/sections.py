"""What each section of the guest details screen says, as text built from the core's
GuestConfig. Everything from libvirt or the guest is taken literally (Content)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from textual.content import Content

from vtui.core.guests.config import (
    Addresses,
    AgentInfo,
    DiskView,
    GuestConfig,
    human_bytes,
    human_kib,
)
from vtui.core.units import size, uptime

SECTIONS = (
    ("overview", "Overview"),
    ("performance", "Performance"),
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("boot", "Boot"),
    ("disks", "Disks"),
    ("nics", "Network"),
    ("devices", "Devices"),
    ("hostdevs", "Host devices"),
    ("xml", "XML"),
)
LABEL = 13  # cells of the label column


def _row(label: str, value: object, note: str = "") -> Content:
    parts: list[Content | tuple[str, str] | str] = [(f"{label:<{LABEL}}", "dim"), str(value)]
    if note:
        parts.append((f"  {note}", "dim"))
    return Content.assemble(*parts)


def _join(lines: Iterable[Content]) -> Content:
    return Content("\n").join(list(lines))


def pending_lines(config: GuestConfig, section: str) -> list[Content]:
    return [Content.styled(f"⟳ {p.text}", "yellow") for p in config.pending if p.section == section]


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def overview(
    config: GuestConfig, addresses: Addresses | None, agent: tuple[AgentInfo | None, str] | None
) -> Content:
    view = config.shown
    state = config.state + (f" ({config.reason})" if config.reason else "")
    lines = pending_lines(config, "overview")
    lines += [
        _row("Name", view.name),
        _row("UUID", view.uuid),
        _row("State", state),
        _row("Uptime", uptime(config.started_at, time.time()) if config.active else "-"),
        _row(
            "Persistent",
            _yes(config.persistent),
            "" if config.persistent else "transient: gone when it stops",
        ),
        _row("Autostart", _yes(config.autostart)),
        _row("Title", view.title or "-"),
        _row("Description", (view.description or "-").replace("\n", " / ")),
        _row(
            "Hypervisor",
            view.hypervisor or "-",
            f"{view.os_type} {view.arch} {view.machine}".strip(),
        ),
        _row("Emulator", view.emulator or "-"),
        _row("Firmware", view.boot.firmware or "default (BIOS)"),
    ]
    lines.append(Content(""))
    if not config.active:
        lines.append(_row("Addresses", "-", "not running"))
    elif addresses is None:
        lines.append(_row("Addresses", "asking..."))
    elif not addresses.addresses:
        lines.append(_row("Addresses", "none found", addresses.note))
    else:
        lines.append(Content.styled(f"IP addresses (from the {addresses.source})", "bold"))
        for found in addresses.addresses:
            lines.append(Content(f"  {found.interface:<10} {found.mac:<18} {found.address}"))
    lines += _agent(config, agent)
    if view.unknown:
        lines.append(Content(""))
        lines.append(Content.styled("Other settings (shown as libvirt has them)", "bold"))
        for raw in view.unknown:
            lines += [Content(f"  {line}") for line in raw.splitlines()]
    return _join(lines)


def _agent(config: GuestConfig, agent: tuple[AgentInfo | None, str] | None) -> list[Content]:
    if not config.active or agent is None:
        return []
    info, why = agent
    if info is None:
        return [_row("Guest agent", "none", why)]
    lines = [Content(""), Content.styled("Guest agent", "bold")]
    os_text = " ".join(x for x in (info.os_name, info.os_version) if x)
    if os_text:
        lines.append(_row("  OS", os_text, info.kernel))
    if info.hostname:
        lines.append(_row("  Hostname", info.hostname))
    if info.timezone:
        lines.append(_row("  Time zone", info.timezone))
    for fs in info.filesystems:
        usage = ""
        if fs.total_bytes:
            usage = f"{human_bytes(fs.used_bytes or 0)} of {human_bytes(fs.total_bytes)} used"
        devices = ",".join(fs.devices)
        lines.append(Content(f"  {fs.mountpoint:<12} {fs.fstype:<6} {usage} {devices}".rstrip()))
    if info.users:
        lines.append(_row("  Users", ", ".join(info.users)))
    return lines


def _both(config: GuestConfig, live: object, persistent: object) -> str:
    """'4 now, 8 from the next start' when they differ, else the one value."""
    if config.live is None or config.persistent_view is None or live == persistent:
        return str(live if config.live is not None else persistent)
    return f"{live} now · {persistent} from the next start"


def cpu(config: GuestConfig) -> Content:
    live = config.live.cpu if config.live else None
    saved = config.persistent_view.cpu if config.persistent_view else None
    view = config.shown.cpu
    lines = pending_lines(config, "cpu")
    online = config.vcpus_live if config.vcpus_live is not None else (live.vcpus if live else None)
    lines += [
        _row("vCPUs", _both(config, online, saved.vcpus if saved else None)),
        _row(
            "Maximum",
            _both(config, live.vcpus_max if live else None, saved.vcpus_max if saved else None),
        ),
        _row("Topology", view.topology or "default (one socket per vCPU)"),
        _row("Mode", view.mode or "default", view.model),
        _row(
            "Placement",
            view.placement or "default",
            f"host CPUs {view.cpuset}" if view.cpuset else "",
        ),
    ]
    if view.pins or view.emulator_pin:
        lines.append(Content(""))
        lines.append(Content.styled("Pinning (vCPU -> host CPUs)", "bold"))
        lines += [Content(f"  vCPU {vcpu:<4} {cpus}") for vcpu, cpus in view.pins]
        if view.emulator_pin:
            lines.append(Content(f"  emulator  {view.emulator_pin}"))
    lines.append(Content(""))
    lines.append(Content.styled("e: change vCPUs (and the maximum)", "dim"))
    return _join(lines)


def memory(config: GuestConfig) -> Content:
    live = config.live.memory if config.live else None
    saved = config.persistent_view.memory if config.persistent_view else None
    view = config.shown.memory
    lines = pending_lines(config, "memory")
    lines.append(
        _row(
            "Maximum",
            _both(
                config,
                human_kib(live.maximum_kib) if live else None,
                human_kib(saved.maximum_kib) if saved else None,
            ),
        )
    )
    if live is not None:
        now = config.memory_live_kib or live.current_kib
        lines.append(_row("Balloon now", human_kib(now), "what the running guest has"))
    if saved is not None:
        lines.append(
            _row(
                "At start",
                human_kib(saved.current_kib),
                "the persistent definition's current memory",
            )
        )
    lines += [
        _row(
            "Balloon",
            view.balloon or "default",
            "no live changes" if view.balloon == "none" else "",
        ),
        _row("Hot-plug max", human_kib(view.hotplug_max_kib) if view.hotplug_max_kib else "-"),
        _row("Huge pages", _yes(view.hugepages)),
        Content(""),
        Content.styled("e: change memory (balloon live, or the definition) and the maximum", "dim"),
    ]
    return _join(lines)


def boot(config: GuestConfig) -> Content:
    view = config.shown.boot
    saved = config.persistent_view.boot if config.persistent_view else view
    lines = pending_lines(config, "boot")
    order = ", ".join(saved.order) or "-"
    if saved.device_order:
        order = ", ".join(f"{n}. {dev}" for n, dev in saved.device_order)
    lines += [
        _row("Boot order", order, "per device" if saved.device_order else ""),
        _row(
            "Boot menu",
            "-" if saved.menu is None else ("on" if saved.menu else "off"),
            f"{saved.menu_timeout_ms} ms" if saved.menu and saved.menu_timeout_ms else "",
        ),
        _row(
            "Firmware",
            saved.firmware or "default (BIOS)",
            "secure boot" if saved.secure_boot else "",
        ),
        _row("Loader", saved.loader or "-", saved.loader_type),
        _row("NVRAM", saved.nvram or "-"),
        Content(""),
        Content.styled("Direct kernel boot", "bold"),
        _row("  Kernel", saved.kernel or "-"),
        _row("  Initrd", saved.initrd or "-"),
        _row("  Cmdline", saved.cmdline or "-"),
        _row("  DTB", saved.dtb or "-"),
        Content(""),
        Content.styled("e: change the boot order, menu, kernel (persistent: next start)", "dim"),
    ]
    return _join(lines)


def disk_rows(config: GuestConfig) -> list[tuple[str, list[str]]]:
    rows = []
    for disk in config.shown.disks:
        found = config.block_sizes.get(disk.target)
        rows.append(
            (
                disk.target,
                [
                    disk.target,
                    disk.device,
                    disk.bus,
                    size(found.capacity) if found else "-",
                    disk.source or "(empty)",
                ],
            )
        )
    return rows


def disk_summary(config: GuestConfig, disk: DiskView) -> Content:
    """One line of what the table leaves out: format, cache, use on the host, flags."""
    found = config.block_sizes.get(disk.target)
    parts = [f"{disk.target}: {disk.type} {disk.device} on {disk.bus}", disk.format or "format ?"]
    parts.append(f"cache {disk.cache or 'default'}")
    if found:
        parts.append(
            f"{human_bytes(found.capacity)}, {human_bytes(found.allocation)} used on the host"
        )
    parts += [
        flag for flag, on in (("read-only", disk.readonly), ("shareable", disk.shareable)) if on
    ]
    return Content.styled(", ".join(parts), "bold")


def nic_rows(config: GuestConfig) -> list[tuple[str, list[str]]]:
    return [
        (
            nic.mac,
            [
                nic.mac,
                nic.type,
                nic.source,
                nic.model or "-",
                "up" if nic.link_up else "down",
                nic.target_dev or "-",
            ],
        )
        for nic in config.shown.nics
    ]


def device_rows(config: GuestConfig) -> list[tuple[str, list[str]]]:
    return [(d.key, [d.kind, d.summary]) for d in config.shown.devices]


def hostdev_rows(config: GuestConfig) -> list[tuple[str, list[str]]]:
    return [
        (h.key, [h.kind, h.address, "yes" if h.managed else "no"]) for h in config.shown.hostdevs
    ]
