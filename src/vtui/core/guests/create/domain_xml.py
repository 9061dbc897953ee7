"""The new guest's domain XML, built with lxml from a plan (devices from devices.py).

`domain_xml(plan)` is the definition libvirt keeps. A network install adds
`install_xml(plan)`: the same guest booting the installer's kernel once; it is
started with that, while the definition (booting its disk) stays for every start
after it."""

from __future__ import annotations

from lxml import etree

from vtui.core.guests.create.answers import CUSTOM_CPU, EFI
from vtui.core.guests.create.plan import INITRD_FILE, KERNEL_FILE, GuestPlan
from vtui.core.guests.devices import (
    cdrom_element,
    channel_element,
    controller_element,
    disk_element,
    graphics_element,
    input_element,
    interface_element,
    memballoon_element,
    rng_element,
    serial_console_elements,
    video_element,
)

LIBOSINFO_NS = "http://libosinfo.org/xmlns/libvirt/domain/1.0"


def _text(parent: etree._Element, tag: str, text: str, **attrs: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attrs)
    element.text = text
    return element


def _metadata(domain: etree._Element, plan: GuestPlan) -> None:
    """The OS, as virt-install and virt-manager record it (they show it)."""
    if not plan.os.osinfo_id:
        return
    metadata = etree.SubElement(domain, "metadata")
    info = etree.SubElement(
        metadata, f"{{{LIBOSINFO_NS}}}libosinfo", nsmap={"libosinfo": LIBOSINFO_NS}
    )
    etree.SubElement(info, f"{{{LIBOSINFO_NS}}}os", id=plan.os.osinfo_id)


def _os(domain: etree._Element, plan: GuestPlan, install: bool) -> None:
    answers = plan.answers
    os_elem = etree.SubElement(domain, "os")
    if answers.firmware == EFI:
        os_elem.set("firmware", "efi")
        if answers.secure_boot:
            firmware = etree.SubElement(os_elem, "firmware")
            etree.SubElement(firmware, "feature", enabled="yes", name="secure-boot")
            etree.SubElement(firmware, "feature", enabled="yes", name="enrolled-keys")
    type_attrs = {"arch": plan.arch} if plan.arch else {}
    if plan.machine:
        type_attrs["machine"] = plan.machine
    _text(os_elem, "type", "hvm", **type_attrs)
    if install:
        kernel, initrd = plan.volume(KERNEL_FILE), plan.volume(INITRD_FILE)
        _text(os_elem, "kernel", kernel.path if kernel else "")
        _text(os_elem, "initrd", initrd.path if initrd else "")
        if plan.install_cmdline:
            _text(os_elem, "cmdline", plan.install_cmdline)
    elif plan.kernel:
        _text(os_elem, "kernel", plan.kernel)
        if plan.initrd:
            _text(os_elem, "initrd", plan.initrd)
        if plan.cmdline:
            _text(os_elem, "cmdline", plan.cmdline)
    if not (install or plan.kernel):
        for device in plan.boot:
            etree.SubElement(os_elem, "boot", dev=device)


def _features_and_cpu(domain: etree._Element, plan: GuestPlan) -> None:
    answers = plan.answers
    if plan.arch in ("x86_64", "i686", ""):
        features = etree.SubElement(domain, "features")
        etree.SubElement(features, "acpi")
        etree.SubElement(features, "apic")
        if answers.secure_boot:
            etree.SubElement(features, "smm", state="on")  # Secure Boot needs it
    if answers.cpu_mode == CUSTOM_CPU:
        cpu = etree.SubElement(domain, "cpu", mode="custom", match="exact")
        _text(cpu, "model", answers.cpu_model, fallback="forbid")
    elif answers.cpu_mode:
        etree.SubElement(domain, "cpu", mode=answers.cpu_mode)
    if plan.domain_type in ("kvm", "qemu"):
        clock = etree.SubElement(
            domain, "clock", offset="localtime" if plan.os.family == "winnt" else "utc"
        )
        etree.SubElement(clock, "timer", name="rtc", tickpolicy="catchup")
        etree.SubElement(clock, "timer", name="pit", tickpolicy="delay")
        etree.SubElement(clock, "timer", name="hpet", present="no")


def _devices(domain: etree._Element, plan: GuestPlan) -> None:
    answers, models = plan.answers, plan.models
    devices = etree.SubElement(domain, "devices")
    if plan.emulator:
        _text(devices, "emulator", plan.emulator)
    for disk in plan.disks:
        if disk.device == "cdrom":
            devices.append(cdrom_element(disk.target, disk.bus, path=disk.path))
        else:
            devices.append(
                disk_element(
                    disk.target,
                    disk.bus,
                    path=disk.path,
                    format=disk.format,
                    source_type=disk.source_type,
                )
            )
    if any(d.bus == "scsi" for d in plan.disks):
        devices.append(controller_element("scsi", model="virtio-scsi"))
    if plan.interface is not None:
        i = plan.interface
        devices.append(interface_element(i.kind, i.source, model=i.model, mac=i.mac))
    devices.extend(serial_console_elements())
    if answers.guest_agent and models.agent_channel:
        devices.append(channel_element())
    if answers.graphics != "none":
        devices.append(graphics_element(answers.graphics))
        devices.append(video_element(models.video))
        devices.append(input_element("tablet", "usb"))
    if answers.rng and models.rng:
        devices.append(rng_element())
    devices.append(memballoon_element(models.balloon))


def build_domain(plan: GuestPlan, *, install: bool = False, uuid: str = "") -> etree._Element:
    """The domain element; `install`: the installer's first boot, `uuid`: the one
    libvirt gave the definition (the first boot must be the same guest)."""
    answers = plan.answers
    domain = etree.Element("domain", type=plan.domain_type or "kvm")
    _text(domain, "name", answers.name)
    if uuid or answers.uuid:
        _text(domain, "uuid", uuid or answers.uuid)
    if answers.title:
        _text(domain, "title", answers.title)
    if answers.description:
        _text(domain, "description", answers.description)
    _metadata(domain, plan)
    memory_kib = str(answers.memory // 1024)
    _text(domain, "memory", memory_kib, unit="KiB")
    _text(domain, "currentMemory", memory_kib, unit="KiB")
    _text(domain, "vcpu", str(answers.vcpus), placement="static")
    _os(domain, plan, install)
    _features_and_cpu(domain, plan)
    _text(domain, "on_poweroff", "destroy")
    # the installer's reboot ends its boot; the next start boots the installed disk
    _text(domain, "on_reboot", "destroy" if install else "restart")
    _text(domain, "on_crash", "destroy")
    _devices(domain, plan)
    return domain


def domain_xml(plan: GuestPlan) -> str:
    """The definition libvirt keeps for the guest."""
    return etree.tostring(build_domain(plan), pretty_print=True, encoding="unicode")


def install_xml(plan: GuestPlan, uuid: str = "") -> str | None:
    """A network install's first boot (the installer's kernel), or None."""
    if not plan.installs_from_tree:
        return None
    root = build_domain(plan, install=True, uuid=uuid)
    return etree.tostring(root, pretty_print=True, encoding="unicode")
