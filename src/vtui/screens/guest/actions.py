"""What each key of the guest details screen does: ask (a form), plan (the core),
review (diff, virsh, scope), apply, show the result. Run as workers of the screen."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from vtui.core import storage
from vtui.core.errors import VtuiError
from vtui.core.guests import config as gc
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.guest.form import Field, FormScreen
from vtui.screens.guest.review import ReviewScreen

if TYPE_CHECKING:
    from vtui.screens.guest.screen import GuestScreen


def refused(screen: GuestScreen) -> bool:
    """A read-only connection: every change is refused, with the reason."""
    if screen.host.readonly:
        screen.notify(
            f"cannot change {screen.guest_name}: the connection to {screen.host.name} is read-only",
            severity="warning",
        )
        return True
    return screen.config is None


async def ask(
    screen: GuestScreen, title: str, fields: list[Field], note: str = ""
) -> dict[str, Any] | None:
    return await screen.app.push_screen_wait(FormScreen(title, fields, note=note))


async def review_apply(screen: GuestScreen, plan: gc.Plan) -> None:
    """The review dialog, then the change; the screen shows the guest as it is after."""
    scope = await screen.app.push_screen_wait(ReviewScreen(plan))
    if scope is None:
        return
    if plan.loses:
        answer = await screen.app.push_screen_wait(
            ConfirmScreen(
                plan.title.capitalize(), "This deletes, for good:", yes="Delete", items=[plan.loses]
            )
        )
        if not answer or not answer[0]:
            return
    try:
        done = await gc.apply(screen.host, plan, scope)
    except VtuiError as exc:
        screen.notify(str(exc), severity="error", timeout=12)
        return
    waits = f"; waits for a restart: {'; '.join(done.pending)}" if done.pending else ""
    screen.notify(f"{plan.title}: done ({scope.value}){waits}", timeout=8)
    screen.show(done.config)


async def plan_and_review(
    screen: GuestScreen, make: Callable[[], gc.Plan | Awaitable[gc.Plan]]
) -> None:
    """make() the plan (a refusal of the answers is said, not raised), then review it."""
    try:
        made = make()
        plan = await made if inspect.isawaitable(made) else made
    except VtuiError as exc:  # BadInput, BadAnswer, a storage refusal
        screen.notify(str(exc), severity="warning", timeout=10)
        return
    await review_apply(screen, plan)


def _int(text: str, what: str) -> int | None:
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        raise gc.BadInput(f"{what}: {text!r} is not a whole number") from None


def _kib(text: str, what: str) -> int | None:
    """MiB as a plain number, or a size with its unit (2G, 512M)."""
    if not text:
        return None
    if text.isdigit():
        return int(text) * 1024
    try:
        return storage.parse_size(text) // 1024
    except VtuiError:
        raise gc.BadInput(f"{what}: {text!r} is not a size (like 2048, 2G or 512M)") from None


def _changed(new: int | None, old: int) -> int | None:
    return None if new == old else new


# -- overview ----------------------------------------------------------------------------
async def edit_title(screen: GuestScreen) -> None:
    if refused(screen) or screen.config is None:
        return
    view = screen.config.shown
    answers = await ask(
        screen,
        f"Title and description of {view.name}",
        [
            Field("title", "Title", view.title),
            Field("description", "Description", view.description),
        ],
    )
    if answers is not None:
        await plan_and_review(
            screen,
            lambda: gc.plan_metadata(
                screen.config, title=answers["title"], description=answers["description"]
            ),
        )


# -- cpu, memory, boot, disk and NIC properties -----------------------------------------
async def edit(screen: GuestScreen, section: str) -> None:
    if refused(screen) or screen.config is None:
        return
    config = screen.config
    if section == "cpu":
        cpu = (config.persistent_view or config.shown).cpu
        answers = await ask(
            screen,
            f"vCPUs of {config.name}",
            [
                Field("count", "vCPUs", str(config.vcpus_live or cpu.vcpus)),
                Field("maximum", "Maximum", str(cpu.vcpus_max)),
            ],
            note="Live, a running guest gets vCPUs up to its maximum; the maximum itself changes from the next start.",
        )
        if answers is not None:
            await plan_and_review(screen, lambda: _cpu(config, answers, cpu))
    elif section == "memory":
        memory = (config.persistent_view or config.shown).memory
        answers = await ask(
            screen,
            f"Memory of {config.name}",
            [
                Field(
                    "current",
                    "Memory (MiB)",
                    str((config.memory_live_kib or memory.current_kib) // 1024),
                ),
                Field("maximum", "Maximum (MiB)", str(memory.maximum_kib // 1024)),
            ],
            note="Plain numbers are MiB; 2G, 1536M work too. Live, the balloon gives or takes memory.",
        )
        if answers is not None:
            await plan_and_review(screen, lambda: _memory(config, answers, memory))
    elif section == "boot":
        await _boot(screen, config)
    elif section == "disks":
        await _disk_properties(screen, config)
    elif section == "nics":
        await _nic_properties(screen, config)


async def _cpu(config: gc.GuestConfig, answers: dict[str, Any], cpu: gc.CpuView) -> gc.Plan:
    count = _int(answers["count"], "vCPUs")
    maximum = _changed(_int(answers["maximum"], "maximum"), cpu.vcpus_max)
    return gc.plan_vcpus(config, count=count, maximum=maximum)


async def _memory(
    config: gc.GuestConfig, answers: dict[str, Any], memory: gc.MemoryView
) -> gc.Plan:
    current = _kib(answers["current"], "memory")
    maximum = _changed(_kib(answers["maximum"], "maximum"), memory.maximum_kib)
    return gc.plan_memory(config, current_kib=current, maximum_kib=maximum)


async def _boot(screen: GuestScreen, config: gc.GuestConfig) -> None:
    boot = (config.persistent_view or config.shown).boot
    order = ",".join(boot.order)
    if boot.device_order:
        order = ",".join(dev.split(" ", 1)[-1] for _n, dev in boot.device_order)
    answers = await ask(
        screen,
        f"How {config.name} boots",
        [
            Field(
                "order",
                "Boot order",
                order,
                hint="hd,cdrom,network,fd or disks/MACs: vda,52:54:...",
            ),
            Field("menu", "Boot menu", bool(boot.menu), check=True),
            Field("timeout", "Menu timeout ms", str(boot.menu_timeout_ms or "")),
            Field("kernel", "Kernel", boot.kernel),
            Field("initrd", "Initrd", boot.initrd),
            Field("cmdline", "Command line", boot.cmdline),
            Field("dtb", "DTB", boot.dtb),
        ],
        note="Persistent: the guest boots this way from its next start.",
    )
    if answers is None:
        return
    await plan_and_review(
        screen,
        lambda: gc.plan_boot(
            config,
            order=[o for o in answers["order"].split(",")],
            menu=answers["menu"],
            menu_timeout_ms=_int(answers["timeout"], "menu timeout") if answers["menu"] else None,
            kernel=answers["kernel"],
            initrd=answers["initrd"],
            cmdline=answers["cmdline"],
            dtb=answers["dtb"],
        ),
    )


async def _disk_properties(screen: GuestScreen, config: gc.GuestConfig) -> None:
    target = screen.selected("disks")
    disk = config.shown.disk(target) if target else None
    if disk is None:
        screen.notify("no disk selected", severity="warning")
        return
    answers = await ask(
        screen,
        f"Disk {target} of {config.name}",
        [
            Field("bus", "Bus", disk.bus, choices=gc.DISK_BUSES),
            Field("cache", "Cache", disk.cache or "default", choices=gc.CACHE_MODES),
            Field("readonly", "Read-only", disk.readonly, check=True),
            Field("shareable", "Shareable", disk.shareable, check=True),
        ],
        note="Persistent only: QEMU cannot change these in a running guest.",
    )
    if answers is None:
        return
    await plan_and_review(
        screen,
        lambda: gc.plan_disk_properties(
            config,
            disk.target,
            bus=answers["bus"] or None,
            cache=None if answers["cache"] == (disk.cache or "default") else answers["cache"],
            readonly=None if answers["readonly"] == disk.readonly else answers["readonly"],
            shareable=None if answers["shareable"] == disk.shareable else answers["shareable"],
        ),
    )


async def _nic_properties(screen: GuestScreen, config: gc.GuestConfig) -> None:
    mac = screen.selected("nics")
    nic = config.shown.nic(mac) if mac else None
    if nic is None:
        screen.notify("no network interface selected", severity="warning")
        return
    source = nic.source.split(" (")[0]
    answers = await ask(
        screen,
        f"Interface {nic.mac} of {config.name}",
        [
            Field(
                "kind", "Type", nic.type if nic.type in gc.NIC_KINDS else "", choices=gc.NIC_KINDS
            ),
            Field(
                "source", "Source", source, hint="network name, bridge, or host interface (macvtap)"
            ),
            Field("mode", "macvtap mode", "bridge", choices=gc.MACVTAP_MODES),
            Field(
                "model",
                "Model",
                nic.model,
                choices=tuple(dict.fromkeys((*gc.NIC_MODELS, nic.model))),
            ),
            Field("mac", "MAC", nic.mac),
        ],
        note="A new MAC alone is its own change (persistent only).",
    )
    if answers is None:
        return

    async def make() -> gc.Plan:
        if answers["mac"] and answers["mac"].lower() != nic.mac.lower():
            return gc.plan_nic_properties(config, nic.mac, new_mac=answers["mac"])
        moved = answers["kind"] and (answers["kind"], answers["source"]) != (nic.type, source)
        return gc.plan_nic_properties(
            config,
            nic.mac,
            kind=answers["kind"] if moved else None,
            source=answers["source"] if moved else None,
            mode=answers["mode"] or "bridge",
            model=answers["model"] if answers["model"] != nic.model else None,
        )

    await plan_and_review(screen, make)


# -- adding and removing -----------------------------------------------------------------
async def remove(screen: GuestScreen, section: str) -> None:
    if refused(screen) or screen.config is None:
        return
    config, key = screen.config, screen.selected(section)
    if key is None:
        screen.notify("nothing selected", severity="warning")
        return
    if section == "disks":
        disk = config.shown.disk(key)
        volume = None
        if disk is not None and not disk.removable:
            try:
                volume = await gc.volume_of(screen.host, disk)
            except VtuiError:
                volume = None
        delete = False
        if volume is not None:
            answer = await screen.app.push_screen_wait(
                ConfirmScreen(
                    f"Remove disk {key} from {config.name}",
                    f"The disk leaves the guest. Its volume {volume.name} (pool {volume.pool}) stays, unless:",
                    yes="Remove",
                    option=f"Also delete volume {volume.name} and all the data on it",
                    items=[volume.path],
                )
            )
            if not answer or not answer[0]:
                return
            delete = answer[1]
        await plan_and_review(
            screen, lambda: gc.plan_remove_disk(screen.host, config, key, delete_volume=delete)
        )
    elif section == "nics":
        await plan_and_review(screen, lambda: gc.plan_remove_nic(config, key))
    elif section == "devices":
        await plan_and_review(screen, lambda: gc.plan_remove_device(config, key))
    elif section == "hostdevs":
        await plan_and_review(screen, lambda: gc.plan_detach_hostdev(config, key))


async def media(screen: GuestScreen, *, eject: bool) -> None:
    if refused(screen) or screen.config is None:
        return
    config, target = screen.config, screen.selected("disks")
    disk = config.shown.disk(target) if target else None
    if disk is None or not disk.removable:
        screen.notify("select a CD-ROM or floppy drive first", severity="warning")
        return
    path = ""
    if not eject:
        answers = await ask(
            screen,
            f"Media for {disk.target} of {config.name}",
            [Field("path", "Image", disk.source, hint="/var/lib/libvirt/images/install.iso")],
            note="A path on the host (an ISO image). Empty ejects.",
        )
        if answers is None:
            return
        path = answers["path"]
    await plan_and_review(screen, lambda: gc.plan_change_media(config, disk.target, path))


async def resize(screen: GuestScreen) -> None:
    if refused(screen) or screen.config is None:
        return
    config, target = screen.config, screen.selected("disks")
    if target is None:
        screen.notify("no disk selected", severity="warning")
        return
    size = config.block_sizes.get(target)
    answers = await ask(
        screen,
        f"Grow disk {target} of {config.name}",
        [
            Field(
                "size",
                "New size",
                "",
                hint=f"now {gc.human_bytes(size.capacity) if size else '?'}: e.g. 40G",
            )
        ],
        note="A running guest's disk grows live (blockresize); a stopped guest's volume is resized.",
    )
    if answers is None:
        return

    async def make() -> gc.Plan:
        return await gc.plan_resize_disk(
            screen.host, config, target, storage.parse_size(answers["size"])
        )

    await plan_and_review(screen, make)


async def link(screen: GuestScreen) -> None:
    if refused(screen) or screen.config is None:
        return
    mac = screen.selected("nics")
    nic = screen.config.shown.nic(mac) if mac else None
    if nic is None:
        screen.notify("no network interface selected", severity="warning")
        return
    await plan_and_review(screen, lambda: gc.plan_link(screen.config, nic.mac, up=not nic.link_up))


async def apply_xml(screen: GuestScreen) -> None:
    from vtui.screens.guest.xml_view import XmlView

    if refused(screen) or screen.config is None:
        return
    view = screen.query_one(XmlView)
    if not view.edited:
        screen.notify("the XML is as libvirt has it: edit it first", severity="warning")
        return
    await plan_and_review(screen, lambda: gc.plan_full_xml(screen.config, view.area.text))
