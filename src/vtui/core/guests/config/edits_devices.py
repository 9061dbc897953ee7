"""Adding and removing the other devices (serial and console, graphics, video, sound,
watchdog, RNG, TPM, input, controllers, filesystem shares, channels), and giving a
host's PCI or USB device to the guest or taking it back."""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from vtui.core.guests.config import calls
from vtui.core.guests.config.device_xml import (
    device_element,
)
from vtui.core.guests.config.model import GuestConfig
from vtui.core.guests.config.parse import parse_root
from vtui.core.guests.config.parse_devices import pci_text
from vtui.core.guests.config.plan import (
    VIRSH_FLAGS,
    BadInput,
    Call,
    Plan,
    Scope,
    base_refusals,
    element_text,
    make_plan,
    per_scope,
    refuse,
    remove,
)
from vtui.core.guests.config.whole import define_plan
from vtui.core.guests.devices import pci_hostdev_element, usb_hostdev_element
from vtui.core.host import HostDevice

# What QEMU can plug into (and out of) a running guest; the rest waits for a restart.
LIVE_KINDS = frozenset(
    {
        "controller",
        "serial",
        "console",
        "channel",
        "parallel",
        "rng",
        "watchdog",
        "input",
        "filesystem",
        "redirdev",
        "shmem",
        "memory",
        "vsock",
        "hostdev",
    }
)


# Kinds libvirt's QEMU driver cannot add to or remove from the persistent definition
# with attach/detach-device --config: those go by redefining it.
DEFINE_KINDS = frozenset({"graphics", "video", "panic", "smartcard", "hub", "iommu", "audio"})


def _not_live(kind: str) -> str:
    return (
        f"QEMU cannot plug a {kind} device into a running guest, or pull one out (persistent only)"
    )


def _nth(root: etree._Element, kind: str, ordinal: int) -> etree._Element | None:
    found = [d for d in root.iterfind(f"devices/{kind}")]
    return found[ordinal] if ordinal < len(found) else None


def _insert(root: etree._Element, elem: etree._Element) -> None:
    """After the last device of its kind (libvirt keeps them together), else at the end."""
    devices = root.find("devices")
    if devices is None:
        devices = etree.SubElement(root, "devices")
    same = devices.findall(elem.tag)
    if same:
        same[-1].addnext(elem)
    else:
        devices.append(elem)


def _count(root: etree._Element, kind: str) -> int:
    return len(root.findall(f"devices/{kind}"))


def _add(config: GuestConfig, elem: etree._Element, title: str, file: str) -> Plan:
    kind = elem.tag
    xml = element_text(elem)
    if kind in DEFINE_KINDS:
        return define_plan(
            config, title, lambda root: _insert(root, etree.fromstring(xml)), _not_live(kind)
        )
    refusals = base_refusals(config)
    if kind not in LIVE_KINDS:
        refuse(refusals, Scope.LIVE, _not_live(kind))
    counts = {}
    for scope, doc in ((Scope.LIVE, config.live_xml), (Scope.PERSISTENT, config.persistent_xml)):
        if doc:
            counts[scope] = _count(parse_root(doc), kind)

    def present_after(scope: Scope):
        # attached: one more of its kind than before
        return lambda root: _count(root, kind) > counts.get(scope, 0)

    def change(root: etree._Element, _scope: Scope) -> None:
        _insert(root, etree.fromstring(xml))

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            return [calls.attach(part, xml, f"{kind} device", present_after(part))]

        return per_scope(scope, each), [["attach-device", config.name, file, *VIRSH_FLAGS[scope]]]

    return make_plan(config, title, change, build, refusals, device_xml=xml)


def _remove(config: GuestConfig, kind: str, ordinal: int, title: str) -> Plan:
    if kind in DEFINE_KINDS:

        def on_root(root: etree._Element) -> None:
            found = _nth(root, kind, ordinal)
            if found is None:
                raise BadInput(f"{config.name} has no such {kind} device")
            remove(found)

        return define_plan(config, title, on_root, _not_live(kind))
    refusals = base_refusals(config)
    if kind not in LIVE_KINDS:
        refuse(refusals, Scope.LIVE, _not_live(kind))
    docs = {Scope.LIVE: config.live_xml, Scope.PERSISTENT: config.persistent_xml}
    elems = {}
    for scope, doc in docs.items():
        if not doc:
            continue
        found = _nth(parse_root(doc), kind, ordinal)
        if found is None:
            where = "running guest" if scope is Scope.LIVE else "persistent definition"
            refuse(refusals, scope, f"the {where} has no such {kind} device")
        else:
            elems[scope] = element_text(found)
    if not elems:
        raise BadInput(f"{config.name} has no such {kind} device")
    counts = {s: _count(parse_root(d), kind) for s, d in docs.items() if d}

    def change(root: etree._Element, _scope: Scope) -> None:
        found = _nth(root, kind, ordinal)
        if found is not None:
            remove(found)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            gone = counts.get(part, 0)
            present = lambda root: _count(root, kind) >= gone  # noqa: E731 - still all there
            return [calls.detach(part, elems[part], f"{kind} device", present)]

        return per_scope(scope, each), [
            ["detach-device", config.name, f"{kind}.xml", *VIRSH_FLAGS[scope]]
        ]

    return make_plan(config, title, change, build, refusals, device_xml=next(iter(elems.values())))


# -- other devices -----------------------------------------------------------------------
def plan_add_device(config: GuestConfig, kind: str, answers: Mapping[str, str]) -> Plan:
    elem = device_element(kind, answers)
    model = elem.find("model")
    if (
        kind == "video"
        and model is not None
        and any(d.kind == "video" for d in config.shown.devices)
    ):
        del model.attrib["primary"]  # there is one primary video card, the first
    return _add(config, elem, f"add a {kind} device to {config.name}", f"{kind}.xml")


def plan_remove_device(config: GuestConfig, key: str) -> Plan:
    """Remove the device with this key (DeviceView.key: kind#ordinal)."""
    kind, _, ordinal = key.partition("#")
    if not ordinal.isdigit() or kind in ("disk", "interface", "hostdev"):
        raise BadInput(f"no such device {key!r}")
    view = config.shown.device(key)
    what = f"{kind} ({view.summary})" if view else kind
    return _remove(config, kind, int(ordinal), f"remove {what} from {config.name}")


# -- host devices ------------------------------------------------------------------------
def hostdev_of(device: HostDevice) -> etree._Element:
    if device.kind == "pci":
        return pci_hostdev_element(device.address)
    if device.kind == "usb":
        return usb_hostdev_element(device.vendor_id, device.product_id, device.address)
    raise BadInput(
        f"{device.name} is a {device.kind} device: only PCI and USB devices are given to guests"
    )


def _uses(root: etree._Element, device: HostDevice) -> bool:
    for dev in root.iterfind("devices/hostdev"):
        source = dev.find("source")
        if source is None:
            continue
        if device.kind == "pci" and pci_text(source.find("address")) == device.address:
            return True
        if device.kind == "usb":
            vendor, product = source.find("vendor"), source.find("product")
            if (
                vendor is not None
                and product is not None
                and (
                    vendor.get("id"),
                    product.get("id"),
                )
                == (device.vendor_id, device.product_id)
            ):
                return True
    return False


def plan_attach_hostdev(config: GuestConfig, device: HostDevice) -> Plan:
    """Give the guest a host PCI or USB device (from vtui.core.host.list_devices)."""
    if not device.assignable:
        raise BadInput(
            f"{device.address} ({device.description}) cannot be given to a guest: {device.not_assignable}"
        )
    for doc in (config.live_xml, config.persistent_xml):
        if doc and _uses(parse_root(doc), device):
            raise BadInput(f"{config.name} already has {device.address}")
    file = f"hostdev-{device.address.replace(':', '-')}.xml"
    title = f"give {device.kind.upper()} device {device.address} ({device.description}) to {config.name}"
    return _add(config, hostdev_of(device), title, file)


def plan_detach_hostdev(config: GuestConfig, key: str) -> Plan:
    """Take back the host device with this key (HostDevView.key: hostdev#ordinal)."""
    kind, _, ordinal = key.partition("#")
    if kind != "hostdev" or not ordinal.isdigit():
        raise BadInput(f"no such host device {key!r}")
    view = next((h for h in config.shown.hostdevs if h.key == key), None)
    what = f"{view.kind.upper()} device {view.address}" if view else "the host device"
    return _remove(config, "hostdev", int(ordinal), f"take {what} back from {config.name}")
