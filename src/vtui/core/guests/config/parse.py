"""Domain XML -> DomainView, tolerantly: what libvirt gives is read as far as it is
understood, and the rest is kept as raw XML. Nothing in a well-formed document that
libvirt accepted can make this fail (a number that is not one reads as unknown)."""

from __future__ import annotations

from lxml import etree

from vtui.core.guests.config.model import BootView, CpuView, DomainView, MemoryView
from vtui.core.guests.config.parse_devices import parse_devices

# Top-level elements the sections show; any other is listed raw under "unknown".
KNOWN_TOP = frozenset(
    {
        "name",
        "uuid",
        "title",
        "description",
        "metadata",
        "memory",
        "currentMemory",
        "maxMemory",
        "memoryBacking",
        "vcpu",
        "vcpus",
        "cputune",
        "cpu",
        "os",
        "devices",
        "features",
        "clock",
        "on_poweroff",
        "on_reboot",
        "on_crash",
        "pm",
        "resource",
        "seclabel",
        "numatune",
        "iothreads",
        "sysinfo",
        "idmap",
        "genid",
    }
)
_SCALE = {"b": 1, "bytes": 1, "k": 1024, "kib": 1024, "kb": 1000, "m": 1024**2, "mib": 1024**2}
_SCALE |= {"mb": 1000**2, "g": 1024**3, "gib": 1024**3, "gb": 1000**3, "t": 1024**4, "tib": 1024**4}
_SCALE |= {"tb": 1000**4}


def parse_root(xml: str) -> etree._Element:
    """The domain element of libvirt's XML (raises lxml's XMLSyntaxError if malformed)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    return etree.fromstring(xml.encode(), parser)


def raw(elem: etree._Element) -> str:
    """An element as XML text, without the whitespace that followed it."""
    copy = etree.fromstring(etree.tostring(elem))
    copy.tail = None
    etree.indent(copy, space="  ")
    return etree.tostring(copy, encoding="unicode").strip()


def number(text: str | None) -> int | None:
    try:
        return int(str(text).strip(), 0) if text is not None else None
    except ValueError:
        return None


def kib_of(elem: etree._Element | None) -> int | None:
    """A libvirt size element (<memory unit='MiB'>2048</memory>) in KiB."""
    if elem is None:
        return None
    value = number(elem.text)
    if value is None:
        return None
    scale = _SCALE.get(elem.get("unit", "KiB").lower(), 1024)
    return value * scale // 1024


def parse_domain(root: etree._Element) -> DomainView:
    os_type = root.find("os/type")
    disks, nics, devices, hostdevs = parse_devices(root.find("devices"))
    return DomainView(
        name=root.findtext("name", ""),
        uuid=root.findtext("uuid", ""),
        title=root.findtext("title", ""),
        description=root.findtext("description", ""),
        hypervisor=root.get("type", ""),
        os_type=(os_type.text or "").strip() if os_type is not None else "",
        arch=os_type.get("arch", "") if os_type is not None else "",
        machine=os_type.get("machine", "") if os_type is not None else "",
        emulator=root.findtext("devices/emulator", "").strip(),
        cpu=parse_cpu(root),
        memory=parse_memory(root),
        boot=parse_boot(root),
        disks=disks,
        nics=nics,
        devices=devices,
        hostdevs=hostdevs,
        unknown=tuple(
            raw(child)
            for child in root
            if isinstance(child.tag, str) and child.tag not in KNOWN_TOP
        ),
    )


def parse_cpu(root: etree._Element) -> CpuView:
    vcpu = root.find("vcpu")
    maximum = number(vcpu.text) if vcpu is not None else None
    maximum = maximum or 0
    current = number(vcpu.get("current")) if vcpu is not None else None
    cpu = root.find("cpu")
    topology = cpu.find("topology") if cpu is not None else None

    def topo(key: str) -> int | None:
        return number(topology.get(key)) if topology is not None else None

    pins = []
    for pin in root.iterfind("cputune/vcpupin"):
        vcpu_id = number(pin.get("vcpu"))
        if vcpu_id is not None:
            pins.append((vcpu_id, pin.get("cpuset", "")))
    emulator_pin = root.find("cputune/emulatorpin")
    return CpuView(
        vcpus=current if current is not None else maximum,
        vcpus_max=maximum,
        placement=vcpu.get("placement", "") if vcpu is not None else "",
        cpuset=vcpu.get("cpuset", "") if vcpu is not None else "",
        mode=cpu.get("mode", "custom" if cpu.find("model") is not None else "")
        if cpu is not None
        else "",
        model=cpu.findtext("model", "").strip() if cpu is not None else "",
        sockets=topo("sockets"),
        dies=topo("dies"),
        cores=topo("cores"),
        threads=topo("threads"),
        pins=tuple(sorted(pins)),
        emulator_pin=emulator_pin.get("cpuset", "") if emulator_pin is not None else "",
    )


def parse_memory(root: etree._Element) -> MemoryView:
    maximum = kib_of(root.find("memory")) or 0
    current = kib_of(root.find("currentMemory"))
    balloon = root.find("devices/memballoon")
    return MemoryView(
        maximum_kib=maximum,
        current_kib=current if current is not None else maximum,
        hotplug_max_kib=kib_of(root.find("maxMemory")),
        hugepages=root.find("memoryBacking/hugepages") is not None,
        balloon=balloon.get("model", "") if balloon is not None else "",
    )


def _attr(elem: etree._Element | None, key: str) -> str:
    return elem.get(key, "?") if elem is not None else "?"


def _device_boot_order(root: etree._Element) -> tuple[tuple[int, str], ...]:
    found = []
    for dev in root.iterfind("devices/*"):
        if not isinstance(dev.tag, str):
            continue
        boot = dev.find("boot")
        order = number(boot.get("order")) if boot is not None else None
        if order is None:
            continue
        if dev.tag == "disk":
            name = f"disk {_attr(dev.find('target'), 'dev')}"
        elif dev.tag == "interface":
            name = f"interface {_attr(dev.find('mac'), 'address')}"
        else:
            name = dev.tag
        found.append((order, name))
    return tuple(sorted(found))


def parse_boot(root: etree._Element) -> BootView:
    os_elem = root.find("os")
    if os_elem is None:
        return BootView(device_order=_device_boot_order(root))
    menu = os_elem.find("bootmenu")
    loader = os_elem.find("loader")
    firmware = os_elem.get("firmware", "")
    if not firmware and loader is not None:
        firmware = "efi" if loader.get("type") == "pflash" else "bios"
    secure = loader is not None and loader.get("secure") == "yes"
    secure |= os_elem.find("firmware/feature[@name='secure-boot'][@enabled='yes']") is not None
    return BootView(
        order=tuple(b.get("dev", "") for b in os_elem.iterfind("boot")),
        device_order=_device_boot_order(root),
        menu=None if menu is None else menu.get("enable") == "yes",
        menu_timeout_ms=number(menu.get("timeout")) if menu is not None else None,
        kernel=os_elem.findtext("kernel", "").strip(),
        initrd=os_elem.findtext("initrd", "").strip(),
        cmdline=os_elem.findtext("cmdline", "").strip(),
        dtb=os_elem.findtext("dtb", "").strip(),
        firmware=firmware,
        loader=(loader.text or "").strip() if loader is not None else "",
        loader_type=loader.get("type", "") if loader is not None else "",
        secure_boot=secure,
        nvram=os_elem.findtext("nvram", "").strip(),
    )
