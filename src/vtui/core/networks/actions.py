"""Changing a host's virtual networks: start, stop, autostart, create, delete.

Each checks the connection is writable first and words any failure as one line.
Creating and deleting are several steps; each keeps a ledger of what it did and, if
a later step fails, undoes exactly that in reverse and reports the first error.
Lifecycle events (core/host/resource_events.py) tell the views what changed.
"""

from __future__ import annotations

from collections.abc import Callable

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import Host
from vtui.core.host.fanout import width_for
from vtui.core.host.guard import call_or_fail, failure, writable_conn
from vtui.core.networks.listing import get_network, lookup, network_users, read_networks
from vtui.core.networks.model import VirtualNetwork
from vtui.core.networks.plan import InvalidAnswer, NetworkAnswers, NetworkPlan, plan_network


async def start_network(host: Host, name: str) -> None:
    what = f"start network {name}"
    conn = writable_conn(host, what)
    await call_or_fail(host, what, lambda: lookup(conn, host, name).create())


async def stop_network(host: Host, name: str) -> None:
    """Stop (destroy) a network: its bridge goes, and the guests on it lose their
    link (see network_users). A transient network is gone afterwards."""
    what = f"stop network {name}"
    conn = writable_conn(host, what)
    await call_or_fail(host, what, lambda: lookup(conn, host, name).destroy())


async def set_network_autostart(host: Host, name: str, on: bool) -> None:
    what = f"{'enable' if on else 'disable'} autostart of network {name}"
    conn = writable_conn(host, what)
    await call_or_fail(host, what, lambda: lookup(conn, host, name).setAutostart(int(on)))


async def create_network(host: Host, answers: NetworkAnswers) -> VirtualNetwork:
    """Check the answers against the host's networks, then define the network, start
    it and mark it autostart as asked. A bad answer is refused (InvalidAnswer) before
    anything changes; a failing step undoes the ones before it."""
    what = f"create network {answers.name.strip() or '(unnamed)'}"
    conn = writable_conn(host, what)
    listing = "list the virtual networks"
    others = await call_or_fail(host, listing, read_networks, conn, False, False, width_for(host))
    try:
        plan = plan_network(answers, others)
    except InvalidAnswer as exc:
        raise InvalidAnswer(exc.field, f"cannot {what}: {exc.message}", host=host.name) from None
    try:
        await host.call(_create_blocking, conn, plan)
    except (libvirt.libvirtError, VtuiError) as exc:
        raise failure(host, what, exc) from exc
    return await get_network(host, plan.answers.name, leases=False)


async def delete_network(host: Host, name: str, *, attached_ok: bool = False) -> None:
    """Stop the network and remove its definition. With guests still attached it is
    refused unless attached_ok (the user saw them named and confirmed)."""
    what = f"delete network {name}"
    conn = writable_conn(host, what)
    if not attached_ok:
        users = await network_users(host, name)
        if users:
            names = ", ".join(g.name + (" (running)" if g.active else "") for g in users)
            raise VtuiError(
                f"cannot {what}: guests still attached: {names} (confirm to delete anyway)",
                host=host.name,
            )
    try:
        await host.call(_delete_blocking, conn, host, name)
    except (libvirt.libvirtError, VtuiError) as exc:
        raise failure(host, what, exc) from exc


# -- worker threads: the multi-step operations with their ledgers --------------------------
Undo = tuple[str, Callable[[], object]]  # what undoing says it does, and how
Step = Callable[[], Undo | None]  # does one thing; returns how to undo it, if anything


def run_with_ledger(steps: list[Step]) -> None:
    """Run the steps in order. On a failure, undo the done ones in reverse and raise
    the first error, noting any undo that failed too."""
    ledger: list[Undo] = []
    try:
        for step in steps:
            undo = step()
            if undo is not None:
                ledger.append(undo)
    except libvirt.libvirtError as exc:
        problems = []
        for label, undo_fn in reversed(ledger):
            try:
                undo_fn()
            except libvirt.libvirtError as undo_exc:
                problems.append(f"{label} failed: {libvirt_message(undo_exc)}")
        message = libvirt_message(exc)
        if problems:
            message += f" (and undoing it: {'; '.join(problems)})"
        raise VtuiError(message) from exc


def _create_blocking(conn: libvirt.virConnect, plan: NetworkPlan) -> None:
    made: list[libvirt.virNetwork] = []

    def define() -> Undo:
        made.append(conn.networkDefineXML(plan.xml))
        return ("removing the definition", made[0].undefine)

    def start() -> Undo | None:
        if not plan.answers.start:
            return None
        made[0].create()
        return ("stopping it", made[0].destroy)

    def autostart() -> None:
        if plan.answers.autostart:
            made[0].setAutostart(1)  # undone with the definition

    run_with_ledger([define, start, autostart])


def _delete_blocking(conn: libvirt.virConnect, host: Host, name: str) -> None:
    net = lookup(conn, host, name)
    persistent = bool(net.isPersistent())

    def stop() -> Undo | None:
        if not net.isActive():
            return None
        net.destroy()  # a transient network is gone now
        return ("starting it again", net.create) if persistent else None

    def undefine() -> None:
        if persistent:
            net.undefine()

    run_with_ledger([stop, undefine])
