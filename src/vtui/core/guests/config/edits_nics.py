"""Network interface changes: add, remove, source (virtual network, bridge, macvtap),
model, MAC, and the link going up or down (live: like pulling the cable)."""

from __future__ import annotations

from lxml import etree

from vtui.core.guests.config import calls
from vtui.core.guests.config.device_xml import (
    set_nic_source,
)
from vtui.core.guests.config.model import GuestConfig, NicView
from vtui.core.guests.config.parse import parse_root
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
from vtui.core.guests.devices import MACVTAP_MODES, interface_element
from vtui.core.guests.macs import mac_problem, normal_mac, random_mac

MODEL_NOT_LIVE = "QEMU cannot change a NIC's model while the guest runs (persistent only)"


def _check_mac(mac: str) -> str:
    problem = mac_problem(mac)
    if problem:
        raise BadInput(problem)
    return normal_mac(mac)


def _nic_elem(root: etree._Element, mac: str) -> etree._Element | None:
    for nic in root.iterfind("devices/interface"):
        found = nic.find("mac")
        if found is not None and found.get("address", "").lower() == mac.lower():
            return nic
    return None


def _present(mac: str):
    return lambda root: _nic_elem(root, mac) is not None


def _nic(config: GuestConfig, mac: str) -> NicView:
    nic = config.shown.nic(mac) or (config.persistent_view and config.persistent_view.nic(mac))
    if not nic:
        raise BadInput(f"{config.name} has no network interface {mac}")
    return nic


def _where(config: GuestConfig, mac: str, refusals: dict[Scope, str]) -> dict[Scope, str]:
    if config.live is not None and config.live.nic(mac) is None:
        refuse(refusals, Scope.LIVE, f"the running guest has no interface {mac}")
    if config.persistent_view is not None and config.persistent_view.nic(mac) is None:
        refuse(refusals, Scope.PERSISTENT, f"the persistent definition has no interface {mac}")
    return refusals


def _scope_elem(config: GuestConfig, scope: Scope, mac: str) -> etree._Element:
    xml = config.live_xml if scope is Scope.LIVE else config.persistent_xml
    found = _nic_elem(parse_root(xml), mac)
    assert found is not None  # _where refused the scopes without it
    return found


def _file(mac: str) -> str:
    return f"nic-{mac.replace(':', '')}.xml"


# -- add and remove ----------------------------------------------------------------------
def plan_add_nic(
    config: GuestConfig,
    kind: str,
    source: str,
    *,
    model: str = "virtio",
    mac: str = "",
    mode: str = "bridge",
) -> Plan:
    """A NIC on a virtual network, a host bridge, or macvtap (direct) on a host
    interface. The MAC is chosen now when not given, so both definitions share it."""
    mac = _check_mac(mac) if mac else random_mac()
    if any(v is not None and v.nic(mac) for v in (config.live, config.persistent_view)):
        raise BadInput(f"{config.name} already has an interface with MAC {mac}")
    if kind == "direct" and mode not in MACVTAP_MODES:
        raise BadInput(f"macvtap mode {mode!r} is not one of {', '.join(MACVTAP_MODES)}")
    xml = element_text(interface_element(kind, source, model=model, mac=mac, mode=mode))

    def change(root: etree._Element, _scope: Scope) -> None:
        devices = root.find("devices")
        if devices is None:
            devices = etree.SubElement(root, "devices")
        existing = devices.findall("interface") or devices.findall("disk")
        if existing:
            existing[-1].addnext(etree.fromstring(xml))
        else:
            devices.append(etree.fromstring(xml))

    def build(scope: Scope):
        steps = per_scope(
            scope, lambda part: [calls.attach(part, xml, f"interface {mac}", _present(mac))]
        )
        return steps, [["attach-device", config.name, _file(mac), *VIRSH_FLAGS[scope]]]

    title = f"add a network interface ({kind} {source}) to {config.name}"
    return make_plan(config, title, change, build, device_xml=xml)


def plan_remove_nic(config: GuestConfig, mac: str) -> Plan:
    _nic(config, mac)
    refusals = _where(config, mac, base_refusals(config))

    def change(root: etree._Element, _scope: Scope) -> None:
        elem = _nic_elem(root, mac)
        if elem is not None:
            remove(elem)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            xml = element_text(_scope_elem(config, part, mac))
            return [calls.detach(part, xml, f"interface {mac}", _present(mac))]

        kind = _nic(config, mac).type or "network"
        return per_scope(scope, each), [
            ["detach-interface", config.name, kind, "--mac", mac, *VIRSH_FLAGS[scope]]
        ]

    return make_plan(config, f"remove interface {mac} from {config.name}", change, build, refusals)


# -- source, model, MAC ------------------------------------------------------------------
def plan_nic_properties(
    config: GuestConfig,
    mac: str,
    *,
    kind: str | None = None,
    source: str | None = None,
    mode: str = "bridge",
    model: str | None = None,
    new_mac: str | None = None,
) -> Plan:
    """Change where a NIC is plugged (kind + source), its model, or its MAC. A new MAC
    is persistent only (it is how libvirt finds the NIC, so it goes by redefining)."""
    nic = _nic(config, mac)
    if new_mac is not None and new_mac.lower() != mac.lower():
        if kind is not None or model is not None:
            raise BadInput("change the MAC on its own (then the rest)")
        wanted = _check_mac(new_mac)

        def on_root(root: etree._Element) -> None:
            found = _nic_elem(root, mac)
            mac_elem = found.find("mac") if found is not None else None
            if mac_elem is not None:
                mac_elem.set("address", wanted)

        return define_plan(config, f"change the MAC of {mac} of {config.name} to {wanted}", on_root)
    if kind is None and model is None:
        raise BadInput("nothing to change")
    refusals = _where(config, mac, base_refusals(config))
    if model is not None and model != nic.model:
        refuse(refusals, Scope.LIVE, MODEL_NOT_LIVE)

    def edit(elem: etree._Element) -> None:
        if kind is not None:
            set_nic_source(elem, kind, source or "", mode)
        if model is not None:
            found = elem.find("model")
            if found is None:
                found = etree.SubElement(elem, "model")
            found.set("type", model)

    def change(root: etree._Element, _scope: Scope) -> None:
        found = _nic_elem(root, mac)
        if found is not None:
            edit(found)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            old = _scope_elem(config, part, mac)
            new = etree.fromstring(etree.tostring(old))
            edit(new)
            return [calls.update(part, element_text(new), element_text(old), f"interface {mac}")]

        return per_scope(scope, each), [
            ["update-device", config.name, _file(mac), *VIRSH_FLAGS[scope]]
        ]

    return make_plan(config, f"change interface {mac} of {config.name}", change, build, refusals)


# -- link --------------------------------------------------------------------------------
def plan_link(config: GuestConfig, mac: str, up: bool) -> Plan:
    """Link up or down: the guest sees its cable plugged in or pulled out."""
    _nic(config, mac)
    refusals = _where(config, mac, base_refusals(config))
    state = "up" if up else "down"

    def edit(elem: etree._Element) -> None:
        link = elem.find("link")
        if link is None:
            link = etree.SubElement(elem, "link")
        link.set("state", state)

    def change(root: etree._Element, _scope: Scope) -> None:
        found = _nic_elem(root, mac)
        if found is not None:
            edit(found)

    def build(scope: Scope):
        def each(part: Scope) -> list[Call]:
            old = _scope_elem(config, part, mac)
            new = etree.fromstring(etree.tostring(old))
            edit(new)
            return [calls.update(part, element_text(new), element_text(old), f"interface {mac}")]

        lines = []
        for part in scope.parts:  # domif-setlink changes the live guest unless --config
            lines.append(
                ["domif-setlink", config.name, mac, state]
                + (["--config"] if part is Scope.PERSISTENT else [])
            )
        return per_scope(scope, each), lines

    return make_plan(
        config, f"set the link of {mac} of {config.name} {state}", change, build, refusals
    )
