"""The volumes of one pool: format, sizes, backing file and the guests using each;
create, clone, resize, wipe, delete; upload, download, and copy to another host.

First paint is fast: the names come in one libvirt call and are shown at once, the
details (one call per volume, several at a time) fill in after. Volumes have no
libvirt events: while shown, the names are read every few seconds and the details
again when they changed.
"""

from __future__ import annotations

import asyncio
import os

from textual.app import ComposeResult
from textual.content import Content
from textual.widgets import Static

from vtui.core import units
from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.storage import (
    Pool,
    Volume,
    delete_volume,
    get_pool,
    list_pools,
    list_volumes,
    volume_names,
    wipe_volume,
)
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.host import volume_forms
from vtui.screens.host.copy_form import copy_targets
from vtui.screens.host.section import Section
from vtui.widgets.row_table import RowTable, TableColumn

COLUMNS = (
    TableColumn("name", "name", 22),
    TableColumn("format", "format", 6),
    TableColumn("capacity", "size", 7, right=True),
    TableColumn("allocation", "alloc", 7, right=True),
    TableColumn("backing", "backing file", 14),
    TableColumn("users", "used by", 10),
)
NOT_READ = "…"
# actions that need a volume selected (with its details read)
ON_VOLUME = ("clone", "resize", "wipe", "delete", "download", "copy")


def volume_cells(volume: Volume) -> list[str]:
    return [
        volume.name,
        volume.format or "-",
        units.size(volume.capacity),
        units.size(volume.allocation),
        os.path.basename(volume.backing_path) if volume.backing_path else "",
        ", ".join(u.describe() for u in volume.users),
    ]


def volume_detail(volume: Volume) -> str:
    lines = [volume.path or volume.key]
    if volume.backing_path:
        fmt = f" ({volume.backing_format})" if volume.backing_format else ""
        lines.append(f"overlay of {volume.backing_path}{fmt}")
    if volume.backing_of:
        lines.append(f"backing file of {', '.join(volume.backing_of)}")
    if volume.users:
        users = ", ".join(
            f"{u.guest} ({'running, ' if u.active else ''}{u.target or 'disk'})"
            for u in volume.users
        )
        lines.append(f"used by {users}")
    return " · ".join(lines)


class VolumesSection(Section):
    TAB = "volumes"
    LABEL = "volumes"
    EVENTS = frozenset({"pool"})
    GUESTS_MATTER = True

    def __init__(self, host: Host):
        super().__init__(host)
        self.pool: str | None = None
        self.pool_info: Pool | None = None
        self.volumes: dict[str, Volume] = {}

    def compose(self) -> ComposeResult:
        yield Static("", classes="detail", id="volumes-header")
        yield RowTable(COLUMNS, id="volumes-table")
        yield Static("", classes="detail", id="volume-detail")
        yield Static("", classes="status")

    @property
    def table(self) -> RowTable:
        return self.query_one(RowTable)

    def selected(self) -> Volume | None:
        key = self.table.cursor_key
        return self.volumes.get(key) if key is not None else None

    def choose_pool(self, name: str) -> None:
        if name == self.pool:
            return
        self.pool, self.pool_info, self.volumes = name, None, {}
        if self.is_mounted:
            self.table.set_rows([])
        self.mark_stale()

    # -- reading ---------------------------------------------------------------------------
    async def load(self) -> None:
        host = self.host
        if self.pool is None:
            pools = await list_pools(host)
            first = next((p for p in pools if p.active), None) or next(iter(pools), None)
            if first is None:
                self.show_header(None)
                self.say("this host has no storage pool (the pools tab creates one)")
                return
            self.pool = first.name
        pool = self.pool
        # both at once: the names are the first paint
        info, names = await asyncio.gather(get_pool(host, pool), self._names(pool))
        self.pool_info = info
        self.show_header(info)
        if not info.active or names is None:
            self.volumes = {}
            self.table.set_rows([])
            self.say(f"pool {pool} is not active (s starts it in the pools tab)", error=True)
            return
        await self.show_names(names)
        volumes = await list_volumes(host, pool)
        if pool != self.pool:
            return  # another pool was chosen meanwhile
        self.volumes = {v.name: v for v in volumes}
        self.table.set_rows((v.name, volume_cells(v)) for v in volumes)
        self.show_detail()
        self.say(f"{len(volumes)} volume(s) in pool {pool} · p: another pool")

    async def _names(self, pool: str) -> list[str] | None:
        try:
            return await volume_names(self.host, pool)
        except VtuiError:
            return None  # not active: get_pool says so

    async def show_names(self, names: list[str]) -> None:
        """The first paint: names now, details as known (or … until read)."""
        blank = [NOT_READ] * (len(COLUMNS) - 1)
        self.table.set_rows(
            (n, volume_cells(self.volumes[n]) if n in self.volumes else [n, *blank]) for n in names
        )
        if len(names) != len(self.volumes):
            self.say(f"{len(names)} volume(s) · reading their details...")

    def poll(self) -> None:
        """Volumes have no events: compare the names, read the details if they moved."""
        if self.loading or self.pool is None or self.pool_info is None:
            return super().poll()
        pool, known = self.pool, set(self.volumes)

        async def look() -> None:
            names = await volume_names(self.host, pool)
            if pool == self.pool and set(names) != known and not self.loading:
                self.reload()

        self.run_worker(look, group="poll", exclusive=True, exit_on_error=False)

    def show_header(self, pool: Pool | None) -> None:
        text = "no pool"
        if pool is not None:
            text = f"pool {pool.name} ({pool.type}, {pool.state})"
            if pool.available is not None and pool.capacity:
                text += f" · {units.size(pool.available)} free of {units.size(pool.capacity)}"
            if pool.target_path:
                text += f" · {pool.target_path}"
        self.query_one("#volumes-header", Static).update(Content(text))

    def show_detail(self) -> None:
        volume = self.selected()
        text = volume_detail(volume) if volume else ""
        self.query_one("#volume-detail", Static).update(Content(text))

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        event.stop()
        self.show_detail()
        self.keys_changed()

    def on_row_table_selected(self, event: RowTable.Selected) -> None:
        event.stop()

    # -- what applies ------------------------------------------------------------------------
    def refusal(self, action: str) -> str | None:
        if action == "pool":  # choosing one only looks
            return None
        volume = self.selected()
        name = volume.name if volume else self.table.cursor_key or ""
        what = {
            "create": f"create a volume in pool {self.pool}",
            "upload": f"upload a file to pool {self.pool}",
            "refresh": f"refresh pool {self.pool}",
        }.get(action, f"{action} volume {name}")
        why = self.writable(what)
        if why:
            return why
        if self.pool_info is None or not self.pool_info.active:
            return f"cannot {what}: no active pool chosen (p picks one)"
        if action not in ON_VOLUME:
            return None
        if volume is None:
            return f"cannot {what}: " + (
                "its details are still being read" if name else "no volume selected"
            )
        if action == "copy" and not copy_targets(self.app, self.host):
            return f"cannot {what}: no other connected host to copy it to (C connects one)"
        if action == "delete" and volume.backing_of:
            return f"cannot {what}: it is the backing file of {', '.join(volume.backing_of)}"
        return None

    # -- actions -----------------------------------------------------------------------------
    def do_pool(self) -> None:
        async def ask() -> None:
            pools = await list_pools(self.host)
            if not pools:
                self.tell(f"{self.host.name} has no storage pool", "warning")
                return
            choices = [(p.name, f"{p.name} ({p.type}, {p.state})") for p in pools]
            chosen = await self.app.push_screen_wait(
                ChoiceScreen("Volumes of pool", choices, self.pool)
            )
            if chosen:
                self.choose_pool(chosen)

        self.run_action(ask, "list the storage pools")

    def do_refresh(self) -> None:
        from vtui.core.storage import refresh_pool

        pool = self.pool
        assert pool is not None
        self.run_action(
            lambda: refresh_pool(self.host, pool), f"refresh pool {pool}", f"pool {pool} read again"
        )

    def do_create(self) -> None:
        volume_forms.create(self)

    def do_clone(self) -> None:
        volume_forms.clone(self, self.current())

    def do_resize(self) -> None:
        volume_forms.resize(self, self.current())

    def do_upload(self) -> None:
        volume_forms.upload(self)

    def do_download(self) -> None:
        volume_forms.download(self, self.current())

    def do_copy(self) -> None:
        volume_forms.copy(self, self.current())

    def current(self) -> Volume:
        volume = self.selected()
        assert volume is not None
        return volume

    def do_delete(self) -> None:
        volume, host = self.current(), self.host
        users = [u.guest for u in volume.users]
        title = f"Delete volume {volume.name}"
        body = (
            f"Delete volume {volume.name} of pool {volume.pool} on {host.name}? Its data is "
            f"lost:\n{volume.path}"
        )
        if users:
            body = (
                f"Volume {volume.name} is in use by {self._users(volume)}. Deleting it takes "
                "the disk from under them: a running guest fails on its next access, a "
                f"stopped one will not start.\n{volume.path}"
            )
        self._confirm(
            title,
            body,
            "Delete anyway" if users else "Delete",
            lambda: delete_volume(host, volume.pool, volume.name, force=users),
            f"{host.name}: volume {volume.name} deleted",
        )

    def do_wipe(self) -> None:
        volume, host = self.current(), self.host
        users = [u.guest for u in volume.users]
        body = (
            f"Overwrite every byte of volume {volume.name} ({units.size(volume.capacity)}) "
            "with zeros? The volume stays; its data does not."
        )
        if users:
            body += f"\nIt is in use by {self._users(volume)}: they lose their disk's data."
        self._confirm(
            f"Wipe volume {volume.name}",
            body,
            "Wipe anyway" if users else "Wipe",
            lambda: wipe_volume(host, volume.pool, volume.name, force=users),
            f"{host.name}: volume {volume.name} wiped",
        )

    @staticmethod
    def _users(volume: Volume) -> str:
        return ", ".join(u.describe() for u in volume.users)

    def _confirm(self, title: str, body: str, yes: str, work, done: str) -> None:
        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0]:
                self.run_action(work, title.lower(), done)

        self.app.push_screen(ConfirmScreen(title, body, yes=yes), answered)
