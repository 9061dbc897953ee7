"""Adding to a guest: a disk (new volume, existing volume, path, empty CD-ROM), a
network interface, another device (by kind), or a host PCI/USB device."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vtui.core import storage
from vtui.core.errors import VtuiError
from vtui.core.guests import config as gc
from vtui.core.host import list_devices
from vtui.core.networks import list_networks
from vtui.screens.dialogs import ChoiceScreen
from vtui.screens.guest.actions import ask, plan_and_review, refused
from vtui.screens.guest.form import Field

if TYPE_CHECKING:
    from vtui.screens.guest.screen import GuestScreen

NEW, VOLUME, PATH, EMPTY = "new volume", "existing volume", "path", "empty CD-ROM"


async def add(screen: GuestScreen, section: str) -> None:
    if refused(screen) or screen.config is None:
        return
    if section == "disks":
        await add_disk(screen)
    elif section == "nics":
        await add_nic(screen)
    elif section == "devices":
        await add_device(screen)
    elif section == "hostdevs":
        await attach_hostdev(screen)


async def _names(screen: GuestScreen, read) -> list[str]:
    try:
        return await read()
    except VtuiError as exc:
        screen.notify(str(exc), severity="warning")
        return []


async def add_disk(screen: GuestScreen) -> None:
    config = screen.config
    assert config is not None
    pools = await _names(screen, lambda: _active_pools(screen))
    answers = await ask(
        screen,
        f"Add a disk to {config.name}",
        [
            Field("from", "From", NEW, choices=(NEW, VOLUME, PATH, EMPTY)),
            Field("pool", "Pool", pools[0] if pools else "", choices=pools),
            Field(
                "volume",
                "Volume name",
                "",
                hint="new: its name (e.g. data.qcow2); existing: its name",
            ),
            Field("size", "Size (new)", "", hint="e.g. 20G"),
            Field("path", "Path", "", hint="a file or /dev device on the host (From: path)"),
            Field("device", "Device", "disk", choices=("disk", "cdrom")),
            Field("bus", "Bus", "virtio", choices=gc.DISK_BUSES),
            Field("cache", "Cache", "default", choices=gc.CACHE_MODES),
            Field("readonly", "Read-only", False, check=True),
            Field("shareable", "Shareable", False, check=True),
        ],
        note="A running guest takes virtio, scsi and usb disks live; the name (vdb...) is picked for you.",
    )
    if answers is None:
        return
    source = answers["from"]

    async def make() -> gc.Plan:
        spec = gc.NewDisk(
            bus=answers["bus"] or "virtio",
            device="cdrom" if source == EMPTY else (answers["device"] or "disk"),
            path=answers["path"] if source == PATH else "",
            pool=answers["pool"] if source in (NEW, VOLUME) else "",
            volume=answers["volume"] if source in (NEW, VOLUME) else "",
            create_bytes=storage.parse_size(answers["size"]) if source == NEW else None,
            cache=answers["cache"] if answers["cache"] != "default" else "",
            readonly=answers["readonly"],
            shareable=answers["shareable"],
        )
        return await gc.plan_add_disk(screen.host, config, spec)

    await plan_and_review(screen, make)


async def _active_pools(screen: GuestScreen) -> list[str]:
    return [p.name for p in await storage.list_pools(screen.host) if p.active]


async def add_nic(screen: GuestScreen) -> None:
    config = screen.config
    assert config is not None
    networks = await _names(screen, lambda: _network_names(screen))
    answers = await ask(
        screen,
        f"Add a network interface to {config.name}",
        [
            Field("kind", "Type", "network", choices=gc.NIC_KINDS),
            Field(
                "source",
                "Source",
                networks[0] if networks else "",
                hint="network name, bridge or host interface",
            ),
            Field("mode", "macvtap mode", "bridge", choices=gc.MACVTAP_MODES),
            Field("model", "Model", "virtio", choices=gc.NIC_MODELS),
            Field("mac", "MAC", "", hint="empty: a random 52:54:00:... address"),
        ],
        note=f"Networks here: {', '.join(networks) or 'none'}. A bridge is a host bridge (br0); direct is macvtap.",
    )
    if answers is None:
        return
    await plan_and_review(
        screen,
        lambda: gc.plan_add_nic(
            config,
            answers["kind"] or "network",
            answers["source"],
            model=answers["model"] or "virtio",
            mac=answers["mac"],
            mode=answers["mode"] or "bridge",
        ),
    )


async def _network_names(screen: GuestScreen) -> list[str]:
    return [n.name for n in await list_networks(screen.host, guests=False)]


async def add_device(screen: GuestScreen) -> None:
    config = screen.config
    assert config is not None
    choices = [(kind, found.label) for kind, found in gc.ADDABLE.items()]
    kind = await screen.app.push_screen_wait(ChoiceScreen(f"Add to {config.name}", choices))
    if not kind:
        return
    found = gc.ADDABLE[kind]
    answers = await ask(
        screen,
        f"Add a {found.label} to {config.name}",
        [Field(a.name, a.label, a.default, choices=a.choices) for a in found.answers],
    )
    if answers is None:
        return
    await plan_and_review(screen, lambda: gc.plan_add_device(config, kind, answers))


async def attach_hostdev(screen: GuestScreen) -> None:
    config = screen.config
    assert config is not None
    try:
        devices = await list_devices(screen.host, ("pci", "usb"))
    except VtuiError as exc:
        screen.notify(str(exc), severity="warning")
        return
    usable = [d for d in devices if d.assignable]
    if not usable:
        why = "; ".join(sorted({d.not_assignable for d in devices})[:3]) or "none found"
        screen.notify(
            f"{screen.host.name}: no PCI or USB device can be given to a guest ({why})",
            severity="warning",
        )
        return
    choices = [(d.name, f"{d.kind} {d.address} {d.description}") for d in usable]
    chosen = await screen.app.push_screen_wait(ChoiceScreen(f"Give to {config.name}", choices))
    device = next((d for d in usable if d.name == chosen), None)
    if device is not None:
        await plan_and_review(screen, lambda: gc.plan_attach_hostdev(config, device))
