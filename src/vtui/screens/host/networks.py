"""The host's virtual networks: state, autostart, bridge, forward mode, addresses; for
the selected one its DHCP range, leases and attached guests. Start, stop, autostart,
create (checked as typed), delete (naming the guests still attached).

First paint: the networks without their guests (one XML read each); the guests
(one read per guest definition) and the selected network's leases follow.
"""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from vtui.core import units
from vtui.core.host import Host
from vtui.core.networks import (
    DhcpLease,
    VirtualNetwork,
    delete_network,
    list_network_names,
    list_networks,
    network_leases,
    set_network_autostart,
    start_network,
    stop_network,
)
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.host.network_form import network_form
from vtui.screens.host.section import Section
from vtui.widgets.row_table import RowTable, TableColumn

COLUMNS = (
    TableColumn("name", "name", 14),
    TableColumn("state", "state", 8),
    TableColumn("autostart", "auto", 4),
    TableColumn("bridge", "bridge", 8),
    TableColumn("forward", "forward", 8),
    TableColumn("addresses", "IPv4 / IPv6", 18),
)
LEASE_COLUMNS = (
    TableColumn("mac", "MAC", 17),
    TableColumn("ip", "IP", 15),
    TableColumn("hostname", "hostname", 16),
    TableColumn("expires", "expires", 8),
)


def network_cells(net: VirtualNetwork) -> list[str]:
    if not net.described:  # its XML is still being read
        return [net.name, net.state, "yes" if net.autostart else "no", "…", "…", "…"]
    return [
        net.name,
        net.state,
        "yes" if net.autostart else "no",
        net.bridge or "-",
        net.forward_mode,
        " ".join(a.cidr for a in net.addresses) or "-",
    ]


def network_detail(net: VirtualNetwork, leases: str) -> str:
    if not net.described:
        return f"{net.name}: reading its definition..."
    parts = [f"{net.name}: {net.forward_mode}"]
    if net.forward_dev:
        parts.append(f"via {net.forward_dev}")
    ranges = [f"{r.start}-{r.end}" for a in net.addresses for r in a.dhcp_ranges]
    parts.append(f"DHCP {', '.join(ranges)}" if ranges else "no DHCP")
    if net.domain:
        parts.append(f"domain {net.domain}")
    if not net.persistent:
        parts.append("transient")
    line = " · ".join(parts) + f" · leases: {leases}"
    if net.guests is None:
        return line + "\nattached guests: reading..."
    running = sum(g.active for g in net.guests)
    guests = ", ".join(g.name + (" (running)" if g.active else "") for g in net.guests)
    count = f"{len(net.guests)} guest(s), {running} running: " if net.guests else "no guest"
    return line + f"\nattached: {count}{guests}"


def lease_expiry(lease: DhcpLease, now: float | None = None) -> str:
    if lease.expires_at is None:
        return "never"
    left = lease.expires_at - (now or time.time())
    return "expired" if left <= 0 else f"in {units.duration(left)}"


class NetworksSection(Section):
    TAB = "networks"
    LABEL = "virtual networks"
    EVENTS = frozenset({"network"})
    GUESTS_MATTER = True

    DEFAULT_CSS = """
    NetworksSection > #leases { height: 6; }
    """

    def __init__(self, host: Host):
        super().__init__(host)
        self.networks: dict[str, VirtualNetwork] = {}
        self.leases_of: str | None = None
        self.lease_note = "reading..."

    def compose(self) -> ComposeResult:
        yield RowTable(COLUMNS, id="networks-table")
        yield Static("", classes="detail", id="network-detail")
        yield RowTable(LEASE_COLUMNS, id="leases")
        yield Static("reading the virtual networks...", classes="status")

    @property
    def table(self) -> RowTable:
        return self.query_one("#networks-table", RowTable)

    def selected(self) -> VirtualNetwork | None:
        key = self.table.cursor_key
        return self.networks.get(key) if key is not None else None

    async def load(self) -> None:
        # Names and states first (one round trip, what virsh net-list shows), then each
        # network's XML, then the guests attached: a slow link shows rows at once.
        if not self.networks:
            names = await list_network_names(self.host)
            self.show_networks(names)
            self.say(f"{len(names)} network(s) · reading their definitions...")
        first = await list_networks(self.host, guests=False)
        known = self.networks
        for net in first:  # keep what the last full read knew until this one ends
            if net.name in known:
                net.guests = known[net.name].guests
        self.show_networks(first)
        self.say(f"{len(first)} network(s) · reading the attached guests...")
        self.show_networks(await list_networks(self.host, guests=True))
        active = sum(n.active for n in self.networks.values())
        self.say(f"{len(self.networks)} network(s), {active} active")
        self.read_leases()

    def show_networks(self, networks: list[VirtualNetwork]) -> None:
        self.networks = {n.name: n for n in networks}
        table = self.table
        table.set_rows((n.name, network_cells(n)) for n in networks)
        for net in networks:
            table.set_style(net.name, "" if net.active else "dim")
        self.show_detail()

    def show_detail(self) -> None:
        net = self.selected()
        text = network_detail(net, self.lease_note) if net else "no virtual network (n creates one)"
        self.query_one("#network-detail", Static).update(Content(text))

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        event.stop()
        if event.table.id != "networks-table":
            return
        self.show_detail()
        self.keys_changed()
        self.read_leases()

    def on_row_table_selected(self, event: RowTable.Selected) -> None:
        event.stop()

    def poll(self) -> None:
        super().poll()
        self.read_leases()  # leases come and go without an event

    def read_leases(self) -> None:
        net = self.selected()
        leases = self.query_one("#leases", RowTable)
        if net is None or net.name != self.leases_of:
            leases.set_rows([])
            leases.display = False
            self.lease_note = "reading..."
        if net is None:
            return
        name = self.leases_of = net.name

        async def read() -> None:
            found = await network_leases(self.host, name) if net.active else []
            if name != self.leases_of:
                return
            if found is None:
                self.lease_note = "the host's driver cannot tell"
            elif not found:
                self.lease_note = "none" if net.active else "none (not active)"
            else:
                self.lease_note = f"{len(found)} (below)"
            leases.display = bool(found)
            leases.set_rows(
                (f"{x.mac} {x.ip}", [x.mac, x.ip, x.hostname or "-", lease_expiry(x)])
                for x in found or ()
            )
            self.show_detail()

        self.run_worker(read, group="leases", exclusive=True, exit_on_error=False)

    # -- what applies ------------------------------------------------------------------------
    def refusal(self, action: str) -> str | None:
        if action == "refresh":
            return None
        if action == "create":
            return self.writable("create a virtual network")
        net = self.selected()
        if net is None:
            return "no virtual network selected"
        what = {
            "start": f"start network {net.name}",
            "stop": f"stop network {net.name}",
            "autostart": f"change the autostart of network {net.name}",
            "delete": f"delete network {net.name}",
        }[action]
        why = self.writable(what)
        if why:
            return why
        if action == "start" and net.active:
            return f"network {net.name} is already active"
        if action == "stop" and not net.active:
            return f"network {net.name} is not active"
        if action == "autostart" and not net.persistent:
            return f"cannot {what}: a transient network does not autostart"
        return None

    # -- actions -----------------------------------------------------------------------------
    def do_refresh(self) -> None:
        self.reload()

    def do_start(self) -> None:
        name = self.current().name
        self.run_action(
            lambda: start_network(self.host, name),
            f"start network {name}",
            f"network {name} started",
        )

    def do_stop(self) -> None:
        net, host = self.current(), self.host
        running = [g.name for g in net.guests or () if g.active]

        def stop() -> None:
            self.run_action(
                lambda: stop_network(host, net.name),
                f"stop network {net.name}",
                f"network {net.name} stopped",
            )

        if not running:
            stop()
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Stop network {net.name}",
                f"Its bridge {net.bridge or ''} goes away and these running guests lose their "
                "link until it is started again:",
                yes="Stop",
                items=running,
            ),
            lambda answer: stop() if answer and answer[0] else None,
        )

    def do_autostart(self) -> None:
        net = self.current()
        on = not net.autostart
        self.run_action(
            lambda: set_network_autostart(self.host, net.name, on),
            f"autostart of network {net.name}",
            f"network {net.name} {'starts' if on else 'no longer starts'} with the host",
        )

    def do_create(self) -> None:
        async def ask() -> None:
            others = await list_networks(self.host, guests=False)
            made = await self.app.push_screen_wait(network_form(self.host, others))
            if isinstance(made, VirtualNetwork):
                self.tell(f"{self.host.name}: network {made.name} created ({made.state})")

        self.run_action(ask, "create a virtual network")

    def do_delete(self) -> None:
        net, host = self.current(), self.host

        async def ask() -> None:
            guests = [g for g in net.guests or ()] if net.guests is not None else []
            if net.guests is None:
                listed = await list_networks(host, guests=True)
                guests = next((n.guests or [] for n in listed if n.name == net.name), [])
            body = f"Delete virtual network {net.name} from {host.name}? It is stopped and its definition removed."
            if guests:
                body += "\nThese guests are still attached; their interfaces lose the network:"
            answer = await self.app.push_screen_wait(
                ConfirmScreen(
                    f"Delete network {net.name}",
                    body,
                    yes="Delete",
                    items=[g.name + (" (running)" if g.active else "") for g in guests],
                )
            )
            if answer and answer[0]:
                await delete_network(host, net.name, attached_ok=bool(guests))
                self.tell(f"{host.name}: network {net.name} deleted")

        self.run_action(ask, f"delete network {net.name}")

    def current(self) -> VirtualNetwork:
        net = self.selected()
        assert net is not None
        return net
