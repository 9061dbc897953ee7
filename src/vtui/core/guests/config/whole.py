"""Changes made by replacing the saved definition as a whole (`virsh define`): what
libvirt has no call of its own for (boot settings, a disk's bus, a NIC's MAC), and
the full XML the user edited. Always validated against libvirt's schema; persistent
only, so a running guest gets them at its next start."""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from vtui.core.guests.config import calls
from vtui.core.guests.config.model import GuestConfig
from vtui.core.guests.config.parse import parse_root
from vtui.core.guests.config.plan import (
    BadInput,
    Plan,
    Scope,
    base_refusals,
    canonical,
    drop,
    make_plan,
    refuse,
    set_child_text,
)

BOOT_DEVICES = ("hd", "cdrom", "network", "fd")
# The order libvirt writes <os> children in; a new one goes where libvirt would put it.
OS_ORDER = ("type", "firmware", "loader", "nvram", "kernel", "initrd", "cmdline", "dtb", "boot")
ONLY_PERSISTENT = "libvirt cannot change this in a running guest (persistent only: next start)"


def define_plan(
    config: GuestConfig,
    title: str,
    change: Callable[[etree._Element], None],
    live_why: str = ONLY_PERSISTENT,
) -> Plan:
    """A plan that edits a copy of the saved definition and defines it."""
    refusals = refuse(base_refusals(config), Scope.LIVE, live_why)

    def edit(root: etree._Element, scope: Scope) -> None:
        if scope is Scope.PERSISTENT:
            change(root)

    def build(_scope: Scope):
        new = plan.after.get(Scope.PERSISTENT, "")
        return [calls.define(new, config.persistent_xml)], [define_line(config.name)]

    guard = canonical(config.persistent_xml) if config.persistent_xml else ""
    plan = make_plan(config, title, edit, build, refusals, guard=guard)
    return plan


def define_line(name: str) -> list[str]:
    """virsh's way: the new definition (the document shown) saved as NAME.xml."""
    return ["define", "--validate", f"{name}.xml"]


# -- boot --------------------------------------------------------------------------------
def _os_child(os_elem: etree._Element, tag: str) -> etree._Element:
    """A new <os> child, placed after the children libvirt writes before it."""
    elem = etree.Element(tag)
    rank = OS_ORDER.index(tag) if tag in OS_ORDER else len(OS_ORDER)
    anchor = None
    for child in os_elem:
        if (
            isinstance(child.tag, str)
            and child.tag in OS_ORDER
            and OS_ORDER.index(child.tag) <= rank
        ):
            anchor = child
    if anchor is not None:
        anchor.addnext(elem)
    else:
        os_elem.insert(0, elem)
    return elem


def _device_for(root: etree._Element, ref: str) -> etree._Element | None:
    """The disk (by target) or NIC (by MAC) a boot entry names."""
    for disk in root.iterfind("devices/disk"):
        target = disk.find("target")
        if target is not None and target.get("dev") == ref:
            return disk
    for nic in root.iterfind("devices/interface"):
        mac = nic.find("mac")
        if mac is not None and mac.get("address", "").lower() == ref.lower():
            return nic
    return None


def _set_order(root: etree._Element, os_elem: etree._Element, order: list[str]) -> None:
    for old in os_elem.findall("boot"):
        os_elem.remove(old)
    for dev in root.iterfind("devices/*"):
        per_device = dev.find("boot") if isinstance(dev.tag, str) else None
        if per_device is not None:
            dev.remove(per_device)
    refs = [r for r in order if r not in BOOT_DEVICES]
    if refs and len(refs) != len(order):
        raise BadInput(
            "boot order: use either device kinds (hd, cdrom, network, fd) or devices "
            "(disk targets, NIC MACs), not both"
        )
    if not refs:
        for kind in order:
            _os_child(os_elem, "boot").set("dev", kind)
        return
    for position, ref in enumerate(order, start=1):
        found = _device_for(root, ref)
        if found is None:
            raise BadInput(f"boot order: no disk or network interface {ref!r}")
        etree.SubElement(found, "boot", order=str(position))


def plan_boot(
    config: GuestConfig,
    *,
    order: list[str] | None = None,
    menu: bool | None = None,
    menu_timeout_ms: int | None = None,
    kernel: str | None = None,
    initrd: str | None = None,
    cmdline: str | None = None,
    dtb: str | None = None,
) -> Plan:
    """Boot order (device kinds, or disk targets and NIC MACs for per-device order),
    boot menu, direct kernel boot. None leaves a setting as it is; "" clears a path."""
    if not config.persistent_xml:
        raise BadInput(f"{config.name} is transient: it has no saved definition to change")
    if menu_timeout_ms is not None and not 0 <= menu_timeout_ms <= 65535:
        raise BadInput("the boot menu timeout is 0 to 65535 ms")
    order = [o.strip() for o in order if o.strip()] if order is not None else None

    def change(root: etree._Element) -> None:
        os_elem = root.find("os")
        if os_elem is None:
            os_elem = etree.SubElement(root, "os")
        if order is not None:
            _set_order(root, os_elem, order)
        for tag, value in (
            ("kernel", kernel),
            ("initrd", initrd),
            ("cmdline", cmdline),
            ("dtb", dtb),
        ):
            if value is None:
                continue
            if value and os_elem.find(tag) is None:
                _os_child(os_elem, tag)
            set_child_text(os_elem, tag, value)
        if menu is not None or menu_timeout_ms is not None:
            elem = os_elem.find("bootmenu")
            if elem is None:
                elem = _os_child(os_elem, "bootmenu")
            enabled = menu if menu is not None else elem.get("enable") == "yes"
            elem.set("enable", "yes" if enabled else "no")
            if enabled and menu_timeout_ms is not None:
                elem.set("timeout", str(menu_timeout_ms))
            elif not enabled:
                drop(elem, "timeout")

    # Check the answers now: a wrong device name is the user's to fix, not libvirt's.
    change(parse_root(config.persistent_xml))
    return define_plan(config, f"change how {config.name} boots", change)


# -- the whole document ------------------------------------------------------------------
def plan_full_xml(config: GuestConfig, text: str) -> Plan:
    """The user's own edit of the saved definition. Refused here only when it would
    define another guest (another UUID); everything else is libvirt's to judge."""
    if not config.persistent_xml:
        raise BadInput(f"{config.name} is transient: it has no saved definition to edit")
    try:
        root = parse_root(text)
    except etree.XMLSyntaxError:
        root = None  # malformed: libvirt says where (its message is the one shown)
    if root is not None:
        uuid = root.findtext("uuid", "").strip()
        if uuid and uuid.lower() != config.uuid.lower():
            raise BadInput(
                f"the document has UUID {uuid}, not {config.uuid}: it would define another "
                "guest (change the UUID back)"
            )
    refusals = refuse(base_refusals(config), Scope.LIVE, ONLY_PERSISTENT)
    before = {Scope.PERSISTENT: config.persistent_xml}
    after = {Scope.PERSISTENT: text if text.endswith("\n") else text + "\n"}
    if config.persistent_xml and not config.persistent_xml.endswith("\n"):
        before[Scope.PERSISTENT] += "\n"

    def build(_scope: Scope):
        return [calls.define(text, config.persistent_xml)], [define_line(config.name)]

    return Plan(
        host=config.host,
        uri=config.uri,
        guest=config.name,
        uuid=config.uuid,
        title=f"define the edited XML of {config.name}",
        before=before,
        after=after,
        refusals=refusals,
        build=build,
        guard=canonical(config.persistent_xml),
    )
