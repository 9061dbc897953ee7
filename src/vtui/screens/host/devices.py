"""The host's devices: PCI (vendor and product, driver, IOMMU group, whether a guest
can have it and why not), USB, SR-IOV functions and network interfaces, with the
guests using each; detach a PCI device from its host driver for a guest, or give it
back. Detaching takes the device away from the host: the confirmation says so."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from vtui.core.host import Host, HostDevice, detach_device, list_devices, reattach_device
from vtui.core.host.devices import detach_refusal, reattach_refusal
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.host.section import Section
from vtui.widgets.row_table import RowTable, TableColumn

COLUMNS = (
    TableColumn("kind", "kind", 4),
    TableColumn("address", "address", 12),
    TableColumn("description", "device", 24),
    TableColumn("driver", "driver", 9),
    TableColumn("iommu", "iommu", 5, right=True),
    TableColumn("use", "use", 10),
)
FILTERS = ("all", "pci", "usb", "net")


def device_use(device: HostDevice) -> str:
    if device.used_by:
        running = set(device.used_by_running)
        return "guest " + ", ".join(
            g + (" (running)" if g in running else "") for g in device.used_by
        )
    if device.host_uses:
        return "host: " + ", ".join(device.host_uses)
    if device.detached:
        return "free (detached)"
    if device.kind == "net":
        return device.link_state or "-"
    return "assignable" if device.assignable else device.not_assignable


def device_cells(device: HostDevice) -> list[str]:
    kind = device.kind
    if device.physical_function:
        kind = "vf"
    elif device.virtual_functions or device.max_virtual_functions:
        kind = "pf"
    iommu = "" if device.iommu_group is None else str(device.iommu_group)
    return [
        kind,
        device.address,
        device.description,
        device.driver or "-",
        iommu,
        device_use(device),
    ]


def device_detail(device: HostDevice) -> str:
    ids = ":".join(i.removeprefix("0x") for i in (device.vendor_id, device.product_id) if i)
    first = [device.name, device.description + (f" [{ids}]" if ids else "")]
    if device.driver:
        first.append(f"driver {device.driver}")
    if device.mac:
        speed = f" {device.link_speed_mbps} Mb/s" if device.link_speed_mbps else ""
        first.append(f"MAC {device.mac} link {device.link_state or '?'}{speed}")
    second = []
    if device.iommu_group is not None:
        peers = f" with {', '.join(device.iommu_peers)}" if device.iommu_peers else " alone"
        second.append(f"IOMMU group {device.iommu_group}{peers}")
    if device.physical_function:
        second.append(f"SR-IOV VF of {device.physical_function}")
    if device.virtual_functions or device.max_virtual_functions:
        count = f"{len(device.virtual_functions)}/{device.max_virtual_functions or '?'}"
        second.append(f"SR-IOV PF, {count} VFs")
    if device.used_by:
        second.append(f"defined in {', '.join(device.used_by)}")
    if device.kind != "net":
        second.append(
            "assignable" if device.assignable else f"not assignable: {device.not_assignable}"
        )
    return " · ".join(first) + ("\n" + " · ".join(second) if second else "")


class DevicesSection(Section):
    TAB = "devices"
    LABEL = "devices"
    EVENTS = frozenset({"nodedev"})
    GUESTS_MATTER = True

    def __init__(self, host: Host):
        super().__init__(host)
        self.devices: dict[str, HostDevice] = {}
        self.kind = "all"

    def compose(self) -> ComposeResult:
        yield RowTable(COLUMNS, id="devices-table")
        yield Static("", classes="detail", id="device-detail")
        yield Static("reading the host's devices...", classes="status")

    @property
    def table(self) -> RowTable:
        return self.query_one(RowTable)

    def selected(self) -> HostDevice | None:
        key = self.table.cursor_key
        return self.devices.get(key) if key is not None else None

    async def load(self) -> None:
        devices = await list_devices(self.host)
        self.devices = {d.name: d for d in devices}
        self.show_devices()

    def show_devices(self) -> None:
        shown = [d for d in self.devices.values() if self.kind in ("all", d.kind)]
        table = self.table
        table.set_rows((d.name, device_cells(d)) for d in shown)
        for device in shown:
            table.set_style(device.name, "" if device.assignable or device.used_by else "dim")
        self.show_detail()
        counts = {k: sum(d.kind == k for d in self.devices.values()) for k in FILTERS[1:]}
        summary = ", ".join(f"{n} {k.upper()}" for k, n in counts.items())
        self.say(f"{summary or 'no device'} · showing {self.kind} (f: filter)")

    def show_detail(self) -> None:
        device = self.selected()
        text = device_detail(device) if device else "no PCI, USB or network device listed"
        self.query_one("#device-detail", Static).update(Content(text))

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        event.stop()
        self.show_detail()
        self.keys_changed()

    def on_row_table_selected(self, event: RowTable.Selected) -> None:
        event.stop()

    # -- what applies ------------------------------------------------------------------------
    def refusal(self, action: str) -> str | None:
        if action == "filter":
            return None
        device = self.selected()
        if device is None:
            return "no device selected"
        verb = "detach" if action == "detach" else "reattach"
        what = f"{verb} {device.address or device.name} {'from' if verb == 'detach' else 'to'} the host"
        why = self.writable(what)
        if why:
            return why
        reason = detach_refusal(device) if action == "detach" else reattach_refusal(device)
        return f"cannot {what}: {reason}" if reason else None

    # -- actions -----------------------------------------------------------------------------
    def do_filter(self) -> None:
        self.kind = FILTERS[(FILTERS.index(self.kind) + 1) % len(FILTERS)]
        self.show_devices()

    def do_detach(self) -> None:
        device, host = self.current(), self.host
        peers = (
            f"\nIts IOMMU group also holds {', '.join(device.iommu_peers)}: a guest gets the "
            "whole group."
            if device.iommu_peers
            else ""
        )
        body = (
            f"Detach {device.address} ({device.description}) from {host.name}?\n"
            f"Its host driver {device.driver or '(none)'} lets go of it and vfio-pci holds "
            "it, ready for a guest: the host can no longer use it until it is reattached." + peers
        )
        self._confirm(
            f"Detach {device.address}",
            body,
            "Detach",
            lambda: detach_device(host, device.name),
            f"{host.name}: {device.address} detached (held by vfio-pci)",
        )

    def do_reattach(self) -> None:
        device, host = self.current(), self.host
        body = (
            f"Give {device.address} ({device.description}) back to {host.name}?\n"
            f"{device.driver or 'The stub driver'} lets go of it and the host's own driver "
            "takes it again: guests can no longer have it until it is detached again."
        )
        self._confirm(
            f"Reattach {device.address}",
            body,
            "Reattach",
            lambda: reattach_device(host, device.name),
            f"{host.name}: {device.address} is the host's again",
        )

    def _confirm(self, title: str, body: str, yes: str, work, done: str) -> None:
        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0]:
                self.run_action(work, title.lower(), done)

        self.app.push_screen(ConfirmScreen(title, body, yes=yes), answered)

    def current(self) -> HostDevice:
        device = self.selected()
        assert device is not None
        return device
