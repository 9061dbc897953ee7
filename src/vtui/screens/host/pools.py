"""The host's storage pools: state, space, target; start, stop, refresh, autostart,
create (only the types this host supports) and delete (refused while a guest uses one
of its volumes; optionally with its storage)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from vtui.core import units
from vtui.core.host import Host
from vtui.core.storage import (
    Pool,
    delete_pool,
    list_pools,
    pool_types,
    pool_users,
    refresh_pool,
    set_pool_autostart,
    start_pool,
    stop_pool,
    volume_names,
)
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.host.pool_form import PoolForm
from vtui.screens.host.section import Section
from vtui.widgets.row_table import RowTable, TableColumn

COLUMNS = (
    TableColumn("name", "name", 14),
    TableColumn("type", "type", 7),
    TableColumn("state", "state", 8),
    TableColumn("autostart", "auto", 4),
    TableColumn("capacity", "size", 7, right=True),
    TableColumn("allocation", "used", 7, right=True),
    TableColumn("available", "free", 7, right=True),
    TableColumn("path", "target path", 10),
)
# what libvirt deletes besides the volumes when asked to delete a pool's storage
STORAGE_OF = {
    "dir": "its directory {target}",
    "fs": "its mount point {target}",
    "netfs": "its mount point {target}",
    "logical": "its volume group {source}",
    "disk": "the partition table of {source}",
}


def pool_cells(pool: Pool) -> list[str]:
    return [
        pool.name,
        pool.type,
        pool.state,
        "yes" if pool.autostart else "no",
        units.size(pool.capacity),
        units.size(pool.allocation),
        units.size(pool.available),
        pool.target_path or pool.source or "-",
    ]


def pool_detail(pool: Pool) -> str:
    parts = [pool.name, f"{pool.type} pool", pool.state]
    parts.append("persistent" if pool.persistent else "transient (gone once stopped)")
    if pool.volumes is not None:
        parts.append(f"{pool.volumes} volume(s)")
    if pool.capacity:
        used = (pool.allocation or 0) / pool.capacity * 100
        parts.append(
            f"{units.size(pool.allocation)} of {units.size(pool.capacity)} used ({used:.0f}%)"
        )
    lines = " · ".join(parts)
    where = [f"target {pool.target_path}"] if pool.target_path else []
    if pool.source:
        where.append(f"source {pool.source}")
    return lines + ("\n" + " · ".join(where) if where else "")


class PoolsSection(Section):
    TAB = "pools"
    LABEL = "storage pools"
    EVENTS = frozenset({"pool"})

    def __init__(self, host: Host):
        super().__init__(host)
        self.pools: dict[str, Pool] = {}

    def compose(self) -> ComposeResult:
        yield RowTable(COLUMNS, id="pools-table")
        yield Static("", classes="detail", id="pool-detail")
        yield Static("reading the storage pools...", classes="status")

    @property
    def table(self) -> RowTable:
        return self.query_one(RowTable)

    def selected(self) -> Pool | None:
        key = self.table.cursor_key
        return self.pools.get(key) if key is not None else None

    async def load(self) -> None:
        pools = await list_pools(self.host)
        self.pools = {p.name: p for p in pools}
        table = self.table
        table.set_rows((p.name, pool_cells(p)) for p in pools)
        for pool in pools:
            table.set_style(pool.name, "" if pool.active else "dim")
        self.show_detail()
        active = sum(p.active for p in pools)
        self.say(f"{len(pools)} pool(s), {active} active · Enter: its volumes")

    def show_detail(self) -> None:
        pool = self.selected()
        text = pool_detail(pool) if pool else "no storage pool (n creates one)"
        self.query_one("#pool-detail", Static).update(Content(text))

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        event.stop()
        self.show_detail()
        self.keys_changed()
        pool = self.selected()
        if pool is not None:
            self.post_message(PoolChosen(pool.name, open_volumes=False))

    def on_row_table_selected(self, event: RowTable.Selected) -> None:
        event.stop()
        self.post_message(PoolChosen(event.key, open_volumes=True))

    # -- what applies ------------------------------------------------------------------------
    def refusal(self, action: str) -> str | None:
        pool = self.selected()
        if action == "create":
            return self.writable("create a storage pool")
        if pool is None:
            return "no storage pool selected"
        if action == "volumes":
            return None
        what = {
            "start": f"start pool {pool.name}",
            "stop": f"stop pool {pool.name}",
            "refresh": f"refresh pool {pool.name}",
            "autostart": f"change the autostart of pool {pool.name}",
            "delete": f"delete pool {pool.name}",
        }[action]
        why = self.writable(what)
        if why:
            return why
        if action == "start" and pool.active:
            return f"pool {pool.name} is already {pool.state}"
        if action in ("stop", "refresh") and not pool.active:
            return f"cannot {what}: it is not active"
        if action == "autostart" and not pool.persistent:
            return f"cannot {what}: a transient pool does not autostart"
        return None

    # -- actions -----------------------------------------------------------------------------
    def do_volumes(self) -> None:
        self.post_message(PoolChosen(self.selected_name(), open_volumes=True))

    def do_start(self) -> None:
        name = self.selected_name()
        self.run_action(
            lambda: start_pool(self.host, name), f"start pool {name}", f"pool {name} started"
        )

    def do_stop(self) -> None:
        name = self.selected_name()
        self.run_action(
            lambda: stop_pool(self.host, name), f"stop pool {name}", f"pool {name} stopped"
        )

    def do_refresh(self) -> None:
        name = self.selected_name()
        self.run_action(
            lambda: refresh_pool(self.host, name),
            f"refresh pool {name}",
            f"pool {name}: volumes read again from its storage",
        )

    def do_autostart(self) -> None:
        pool = self.pools[self.selected_name()]
        on = not pool.autostart
        self.run_action(
            lambda: set_pool_autostart(self.host, pool.name, on),
            f"autostart of pool {pool.name}",
            f"pool {pool.name} {'starts' if on else 'no longer starts'} with the host",
        )

    def selected_name(self) -> str:
        key = self.table.cursor_key
        assert key is not None
        return key

    def do_create(self) -> None:
        async def ask() -> None:
            kinds = await pool_types(self.host)
            if not kinds:
                self.tell(f"{self.host.name} supports no pool type vtui can create", "warning")
                return
            created = await self.app.push_screen_wait(PoolForm(self.host, kinds, set(self.pools)))
            if created is not None:
                self.tell(f"{self.host.name}: pool {created.name} created ({created.state})")
                self.reload_soon()

        self.run_action(ask, "create a storage pool")

    def do_delete(self) -> None:
        pool = self.pools[self.selected_name()]
        self.run_action(lambda: self._delete(pool), f"delete pool {pool.name}")

    async def _delete(self, pool: Pool) -> None:
        users = await pool_users(self.host, pool.name)
        if users:
            guests = ", ".join(u.describe() for u in users)
            self.tell(
                f"{self.host.name}: cannot delete pool {pool.name}: its volumes are used by "
                f"{guests}",
                "warning",
                timeout=10,
            )
            return
        volumes = await volume_names(self.host, pool.name) if pool.state == "active" else []
        body = (
            f"Delete storage pool {pool.name} from {self.host.name}? Its definition is "
            "removed; its volumes and their data stay on the host unless you tick the box."
        )
        storage = STORAGE_OF.get(pool.type)
        option = None
        if storage and pool.persistent:
            what = storage.format(target=pool.target_path, source=pool.source)
            count = f"its {len(volumes)} volume(s)" if volumes else "its volumes"
            option = f"Also delete {count} and {what}: the data is lost"
        if volumes:
            body += f"\nIts volumes ({len(volumes)}):"
        answer = await self.app.push_screen_wait(
            ConfirmScreen(
                f"Delete pool {pool.name}", body, yes="Delete", option=option, items=volumes
            )
        )
        if not answer or not answer[0]:
            return
        await delete_pool(self.host, pool.name, storage=answer[1])
        also = " with its storage" if answer[1] else " (its files stay)"
        self.tell(f"{self.host.name}: pool {pool.name} deleted{also}")


class PoolChosen(Message):
    """The pool whose volumes the volumes tab shows; open_volumes: go there now."""

    def __init__(self, pool: str, open_volumes: bool):
        super().__init__()
        self.pool, self.open_volumes = pool, open_volumes
