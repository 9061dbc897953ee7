"""The host's devices as libvirt's node-device driver sees them: PCI devices (IOMMU
group, SR-IOV functions), USB devices and network interfaces; which guest uses each;
and detaching a PCI device from its host driver for assignment, and giving it back.

Detaching takes the device away from the host: a disk controller or a network card
the host itself uses is refused unless the caller insists (force=True), after the
UI's confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.host.connection import Host
from vtui.core.host.definitions import GuestDefinition, read_definitions
from vtui.core.host.fanout import fan_out, width_for
from vtui.core.host.guard import call_or_fail, writable_conn

KINDS = ("pci", "usb", "net")
_CAPS = {"pci": "pci", "usb_device": "usb", "net": "net"}
# drivers that hold a device for guests rather than use it
STUB_DRIVERS = frozenset({"vfio-pci", "pci-stub", "pciback", "xen-pciback"})
# PCI base classes, for devices libvirt has no names for
PCI_CLASSES = {
    0x01: "storage controller",
    0x02: "network controller",
    0x03: "display controller",
    0x04: "multimedia controller",
    0x05: "memory controller",
    0x06: "bridge",
    0x07: "communication controller",
    0x08: "system peripheral",
    0x09: "input controller",
    0x0C: "serial bus controller",
    0x0D: "wireless controller",
    0x10: "encryption controller",
    0x11: "signal processing controller",
    0x12: "processing accelerator",
}


@dataclass(slots=True)
class HostDevice:
    name: str  # libvirt's node device name, e.g. pci_0000_03_00_0
    kind: str  # "pci", "usb" or "net"
    parent: str
    address: str  # 0000:03:00.0 (PCI), 001:004 (USB bus:device), eth0 (net)
    driver: str = ""  # host driver bound now ("" none)
    vendor_id: str = ""  # e.g. "0x8086"
    vendor: str = ""  # name, when libvirt knows it
    product_id: str = ""
    product: str = ""
    pci_class: int | None = None  # e.g. 0x020000
    iommu_group: int | None = None
    iommu_peers: tuple[str, ...] = ()  # other PCI addresses in the same IOMMU group
    virtual_functions: tuple[str, ...] = ()  # SR-IOV VFs of this physical function
    max_virtual_functions: int | None = None
    physical_function: str = ""  # the PF's address when this is an SR-IOV VF
    mac: str = ""  # network interfaces
    link_state: str = ""
    link_speed_mbps: int | None = None
    host_uses: tuple[str, ...] = ()  # the host's own disks/interfaces on it ("disk vda")
    used_by: tuple[str, ...] = ()  # guests whose definitions assign it
    used_by_running: tuple[str, ...] = ()  # those of them running now
    not_assignable: str = ""  # why it cannot be given to a guest ("" when it can)
    children: list[str] = field(default_factory=list)  # node device names

    @property
    def detached(self) -> bool:
        """Held by a stub driver (vfio-pci...): ready for guests, not used by the host."""
        return self.driver in STUB_DRIVERS

    @property
    def assignable(self) -> bool:
        return not self.not_assignable

    @property
    def description(self) -> str:
        """Vendor and product names, else what kind of device it is."""
        names = " ".join(n for n in (self.vendor, self.product) if n)
        if names:
            return names
        if self.pci_class is not None:
            return PCI_CLASSES.get(self.pci_class >> 16, "PCI device")
        return {"usb": "USB device", "net": "network interface"}.get(self.kind, self.kind)


async def list_devices(host: Host, kinds: Iterable[str] = KINDS) -> list[HostDevice]:
    """The host's PCI devices, USB devices and network interfaces (or the given kinds),
    sorted by kind then address, with who uses each."""
    kinds = set(kinds)
    unknown = kinds - set(KINDS)
    if unknown:
        raise VtuiError(f"unknown device kind {sorted(unknown)[0]!r} (one of: {', '.join(KINDS)})")
    conn = host.require_conn()
    what = "list the host's devices"
    devices = await call_or_fail(host, what, _read_blocking, conn, width_for(host))
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(
        (d for d in devices if d.kind in kinds),
        key=lambda d: (order[d.kind], d.address),
    )


async def get_device(host: Host, name: str) -> HostDevice:
    """One device by its node device name (read fresh)."""
    for device in await list_devices(host):
        if device.name == name:
            return device
    raise VtuiError(f"no PCI, USB or network device called {name!r} on this host", host=host.name)


async def detach_device(host: Host, name: str, *, force: bool = False) -> HostDevice:
    """Unbind a PCI device from its host driver and hand it to vfio-pci, so a guest can
    have it. Refused for a device the host itself uses (a disk, a live interface on
    it) unless force=True. Returns the device as it is afterwards."""
    what = f"detach {name} from the host"
    conn = writable_conn(host, what)
    device = await get_device(host, name)
    why = detach_refusal(device, force=force)
    if why:
        raise VtuiError(f"cannot {what}: {why}", host=host.name)
    await call_or_fail(host, what, _detach_blocking, conn, name)
    return await get_device(host, name)


async def reattach_device(host: Host, name: str) -> HostDevice:
    """Give a detached PCI device back to its host driver. Refused while a running
    guest has it. Returns the device as it is afterwards."""
    what = f"reattach {name} to the host"
    conn = writable_conn(host, what)
    device = await get_device(host, name)
    why = reattach_refusal(device)
    if why:
        raise VtuiError(f"cannot {what}: {why}", host=host.name)
    await call_or_fail(host, what, _reattach_blocking, conn, name)
    return await get_device(host, name)


def detach_refusal(device: HostDevice, *, force: bool = False) -> str:
    """Why `device` cannot be detached now ("" when it can)."""
    if device.kind != "pci":
        return "only PCI devices are detached from the host (USB devices are passed as they are)"
    if device.detached:
        return f"it is already detached (held by {device.driver})"
    if device.used_by_running:
        return f"running guest {', '.join(device.used_by_running)} has it"
    if device.pci_class is not None and device.pci_class >> 16 == 0x06:
        return "it is a PCI bridge"
    if device.host_uses and not force:
        return f"the host itself uses it ({', '.join(device.host_uses)})"
    return ""


def reattach_refusal(device: HostDevice) -> str:
    if device.kind != "pci":
        return "only PCI devices are reattached to the host"
    if device.used_by_running:
        return f"running guest {', '.join(device.used_by_running)} has it"
    if device.pci_class is not None and device.pci_class >> 16 == 0x06:
        return "it is a PCI bridge (never detached)"
    if device.driver and not device.detached:
        return f"it is not detached (the host's {device.driver} driver has it)"
    return ""


# -- reading (worker threads) ----------------------------------------------------------------
def _detach_blocking(conn: libvirt.virConnect, name: str) -> None:
    conn.nodeDeviceLookupByName(name).detachFlags(None, 0)


def _reattach_blocking(conn: libvirt.virConnect, name: str) -> None:
    conn.nodeDeviceLookupByName(name).reAttach()


def _read_blocking(conn: libvirt.virConnect, width: int) -> list[HostDevice]:
    def read(dev: libvirt.virNodeDevice) -> tuple[str, etree._Element | None]:
        try:
            return dev.name(), etree.fromstring(dev.XMLDesc(0).encode())
        except libvirt.libvirtError as exc:
            if exc.get_error_code() != libvirt.VIR_ERR_NO_NODE_DEVICE:
                raise
            return dev.name(), None  # unplugged since the listing: left out

    read_all = fan_out(read, conn.listAllDevices(0), width)
    devices = build_devices({name: root for name, root in read_all if root is not None})
    mark_users(devices, read_definitions(conn, width))
    return devices


def pci_address(elem: etree._Element) -> str:
    """0000:03:00.0 from an <address domain= bus= slot= function=/> (hex or decimal)."""

    def number(key: str) -> int:
        return int(elem.get(key, "0"), 0)

    return f"{number('domain'):04x}:{number('bus'):02x}:{number('slot'):02x}.{number('function'):x}"


def _pci_of_capability(cap: etree._Element) -> str:
    return (
        f"{int(cap.findtext('domain', '0')):04x}:{int(cap.findtext('bus', '0')):02x}:"
        f"{int(cap.findtext('slot', '0')):02x}.{int(cap.findtext('function', '0')):x}"
    )


def _ids(cap: etree._Element, device: HostDevice) -> None:
    for tag in ("vendor", "product"):
        elem = cap.find(tag)
        if elem is not None:
            setattr(device, f"{tag}_id", elem.get("id", ""))
            setattr(device, tag, " ".join((elem.text or "").split()))


def parse_device(name: str, root: etree._Element) -> HostDevice | None:
    """A PCI/USB/net device from its node device XML (None for other kinds)."""
    cap = next((c for c in root.iterfind("capability") if c.get("type") in _CAPS), None)
    if cap is None:
        return None
    kind = _CAPS[cap.get("type", "")]
    device = HostDevice(
        name=name,
        kind=kind,
        parent=root.findtext("parent", ""),
        address="",
        driver=root.findtext("driver/name", ""),
    )
    if kind == "pci":
        device.address = _pci_of_capability(cap)
        device.pci_class = int(cap.findtext("class", "0") or "0", 0)
        _ids(cap, device)
        group = cap.find("iommuGroup")
        if group is not None:
            device.iommu_group = int(group.get("number", "0"))
            peers = (pci_address(a) for a in group.iterfind("address"))
            device.iommu_peers = tuple(p for p in peers if p != device.address)
        for sub in cap.iterfind("capability"):
            addresses = tuple(pci_address(a) for a in sub.iterfind("address"))
            if sub.get("type") == "virt_functions":
                device.virtual_functions = addresses
                count = sub.get("maxCount")
                device.max_virtual_functions = int(count) if count else None
            elif sub.get("type") == "phys_function" and addresses:
                device.physical_function = addresses[0]
    elif kind == "usb":
        bus, number = cap.findtext("bus", "0"), cap.findtext("device", "0")
        device.address = f"{int(bus):03d}:{int(number):03d}"
        _ids(cap, device)
    else:
        device.address = cap.findtext("interface", "")
        device.mac = cap.findtext("address", "")
        link = cap.find("link")
        if link is not None:
            device.link_state = link.get("state", "")
            speed = link.get("speed")
            # 4294967295 (-1) is "unknown" in the kernel's ethtool answer
            if speed and speed.isdigit() and int(speed) < 2**32 - 1:
                device.link_speed_mbps = int(speed)
    return device


def _host_use(root: etree._Element) -> str:
    """What of the host this node device is, if it is something the host uses."""
    for cap in root.iterfind("capability"):
        if cap.get("type") == "storage":
            block = cap.findtext("block", "")
            return f"disk {block.removeprefix('/dev/')}" if block else ""
        if cap.get("type") == "net" and cap.find("link[@state='up']") is not None:
            return f"interface {cap.findtext('interface', '')}"
    return ""


def build_devices(roots: dict[str, etree._Element]) -> list[HostDevice]:
    """Devices with the host's own use of each (a disk or live interface somewhere
    below it in the device tree)."""
    devices = {}
    for name, root in roots.items():
        device = parse_device(name, root)
        if device is not None:
            devices[name] = device
    parents = {name: root.findtext("parent", "") for name, root in roots.items()}
    for name, root in roots.items():
        if parents.get(name) in devices:
            devices[parents[name]].children.append(name)
        use = _host_use(root)
        if not use:
            continue
        ancestor, seen = parents.get(name, ""), {name}
        while ancestor and ancestor not in seen:  # every PCI/USB device above it
            seen.add(ancestor)
            above = devices.get(ancestor)
            if above is not None and above.kind in ("pci", "usb") and use not in above.host_uses:
                above.host_uses += (use,)
            ancestor = parents.get(ancestor, "")
    return list(devices.values())


def _hex_id(text: str | None) -> int | None:
    try:
        return int(text or "", 0)
    except ValueError:
        return None


def _usb_matches(source: etree._Element, device: HostDevice) -> bool:
    """A guest's USB <source>: by bus/device address when it has one, else by ids."""
    address = source.find("address")
    if address is not None and address.get("bus") and address.get("device"):
        bus, number = int(address.get("bus", "0")), int(address.get("device", "0"))
        return device.address == f"{bus:03d}:{number:03d}"
    vendor, product = source.find("vendor"), source.find("product")
    if vendor is None or product is None:
        return False
    wanted = (_hex_id(vendor.get("id")), _hex_id(product.get("id")))
    return None not in wanted and wanted == (_hex_id(device.vendor_id), _hex_id(device.product_id))


def mark_users(devices: list[HostDevice], guests: list[GuestDefinition]) -> None:
    """Fill in used_by / used_by_running from the guests' <hostdev> and hostdev
    <interface> sources, then why each device cannot be assigned."""
    by_pci = {d.address: d for d in devices if d.kind == "pci"}
    usb = [d for d in devices if d.kind == "usb"]
    for guest in guests:
        users: set[str] = set()
        for source in guest.xml.iterfind("devices/hostdev[@type='pci']/source/address"):
            if pci_address(source) in by_pci:
                users.add(by_pci[pci_address(source)].name)
        for source in guest.xml.iterfind("devices/interface[@type='hostdev']/source/address"):
            if source.get("type", "pci") == "pci" and pci_address(source) in by_pci:
                users.add(by_pci[pci_address(source)].name)
        for source in guest.xml.iterfind("devices/hostdev[@type='usb']/source"):
            users.update(d.name for d in usb if _usb_matches(source, d))
        for device in devices:
            if device.name in users:
                device.used_by += (guest.name,)
                if guest.active:
                    device.used_by_running += (guest.name,)
    for device in devices:
        device.not_assignable = _why_not_assignable(device)


def _why_not_assignable(device: HostDevice) -> str:
    if device.kind == "net":
        return "a network interface: guests reach it through a bridge or macvtap"
    if device.used_by_running:
        return f"running guest {', '.join(device.used_by_running)} has it"
    if device.kind == "usb":
        if device.vendor_id == "0x1d6b":  # the Linux Foundation's root hubs
            return "a USB root hub"
        return ""
    if device.pci_class is not None and device.pci_class >> 16 == 0x06:
        return "a PCI bridge"
    if device.host_uses:
        return f"the host itself uses it ({', '.join(device.host_uses)})"
    if device.iommu_group is None:
        return "no IOMMU group (the host's IOMMU is off or missing)"
    return ""
