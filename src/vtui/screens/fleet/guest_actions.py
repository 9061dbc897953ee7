"""What the main screen's keys do to the selected guest (or to the marked ones): the
lifecycle actions with their confirmations, console, screen, migrate, create, details,
delete, snapshots, clone, rename, marks."""

from __future__ import annotations

from vtui.core.errors import VtuiError
from vtui.core.guests.lifecycle import ACTIONS, delete_guest, refusal, run_action, storage_of
from vtui.core.guests.rename import state_refusal
from vtui.core.host import Host, HostStatus
from vtui.core.model import Guest
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.fleet.keys import LOSSES
from vtui.widgets.guest_table import GuestTable


def _marked():
    """The marked guests' actions (and with them bulk, migration and clone code): loaded
    on first use, not while the app starts."""
    from vtui.screens.bulk import marked

    return marked


class GuestActions:
    """Mixin of FleetScreen: the actions on the selected or marked guests."""

    def _target(self) -> tuple[Host, Guest] | None:
        guest = self.table.selected_guest
        if guest is None:
            self.notify("no guest selected", severity="warning")
            return None
        host = self.fleet.hosts.get(guest.host)
        if host is None:
            self.notify(f"{guest.host}: host is gone", severity="error")
            return None
        return host, guest

    def action_guest(self, action_id: str) -> None:
        if self.table.marked:
            _marked().bulk_lifecycle(self, action_id, LOSSES.get(action_id, ""))
            return
        target = self._target()
        if target is None:
            return
        host, guest = target
        action = ACTIONS[action_id]
        why = refusal(action, guest, host.readonly)
        if why:
            self.notify(why, severity="warning")
            return
        if not action.destructive:
            self._run(host, guest, action_id)
            return
        body = f"{action.label.capitalize()} {guest.name} on {host.name}?\n{LOSSES[action_id]}"

        def answered(result: tuple[bool, bool] | None) -> None:
            if result and result[0]:
                self._run(host, guest, action_id)

        self.app.push_screen(
            ConfirmScreen(
                f"{action.label.capitalize()} {guest.name}", body, yes=action.label.capitalize()
            ),
            answered,
        )

    def action_console(self) -> None:
        from vtui.screens.console import open_console

        target = self._target()
        if target is None:
            return
        try:
            open_console(self.app, *target)
        except VtuiError as exc:
            self.notify(str(exc), severity="warning")

    def action_peek(self) -> None:
        from vtui.screens.peek import open_peek

        target = self._target()
        if target is not None:
            try:
                open_peek(self.app, *target)
            except VtuiError as exc:
                self.notify(str(exc), severity="warning", markup=False)

    def action_migrate(self) -> None:
        from vtui.screens.migration.form import MigrateScreen

        if self.table.marked:
            _marked().bulk_migrate(self)
            return
        target = self._target()
        if target is None:
            return
        host, guest = target
        if host.readonly:
            self.notify(
                f"cannot migrate {guest.name}: the connection to {host.name} is read-only",
                severity="warning",
            )
            return
        self.app.push_screen(MigrateScreen(self.fleet, guest))

    def action_create(self) -> None:
        from vtui.screens.create import CreateScreen

        host = self.selected_host()
        usable = [h for h in self.fleet.hosts.values() if h.status is HostStatus.CONNECTED]
        if host not in usable:
            host = usable[0] if usable else None
        if host is None or host.readonly:
            why = (
                "no connected host"
                if host is None
                else f"the connection to {host.name} is read-only"
            )
            self.notify(f"cannot create a guest: {why}", severity="warning")
            return
        self.app.push_screen(CreateScreen(self.fleet, host))

    def action_jobs(self) -> None:
        from vtui.screens.migration.jobs import JobsScreen

        self.app.push_screen(JobsScreen())

    def action_consoles(self) -> None:
        from vtui.screens.console import open_consoles

        screens = {s.uuid: s for s in open_consoles(self.app)}
        if not screens:
            self.notify("no console is open (c opens the selected guest's)")
            return
        choices = [(uuid, f"{s.guest_name} on {s.host.name}") for uuid, s in screens.items()]

        def chosen(uuid: str | None) -> None:
            if uuid in screens:
                self.app.push_screen(screens[uuid])

        self.app.push_screen(ChoiceScreen("Open consoles", choices), chosen)

    def action_toggle_autostart(self) -> None:
        if self.table.marked:
            _marked().bulk_autostart(self)
            return
        target = self._target()
        if target is not None:
            action_id = "autostart_off" if target[1].autostart else "autostart_on"
            self.action_guest(action_id)

    def _run(self, host: Host, guest: Guest, action_id: str) -> None:
        async def work():
            try:
                await run_action(host, guest, action_id)
            except VtuiError as exc:
                self.notify(str(exc), severity="error", timeout=8)
                return
            self.notify(f"{host.name}: {ACTIONS[action_id].label}: {guest.name}", timeout=3)
            if action_id.startswith("autostart"):
                self.table.sync([guest])

        self.run_worker(
            work(),
            group="actions",
            description=f"{ACTIONS[action_id].label} {guest.name} on {host.name}",
            exit_on_error=False,
        )

    def action_delete(self) -> None:
        if self.table.marked:
            _marked().bulk_delete(self)
            return
        target = self._target()
        if target is None:
            return
        host, guest = target
        why = refusal(ACTIONS["undefine"], guest, host.readonly)
        if why:
            self.notify(why, severity="warning")
            return
        self.run_worker(
            self._delete(host, guest),
            group="actions",
            description=f"delete {guest.name} on {host.name}",
            exit_on_error=False,
        )

    async def _delete(self, host: Host, guest: Guest) -> None:
        try:
            volumes = await storage_of(host, guest)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        body = (
            f"Delete guest {guest.name} from {host.name}?\nIts definition, snapshot "
            "metadata and managed save image are removed. This cannot be undone."
        )
        option = None
        if volumes:
            body += f"\nIts storage volumes ({len(volumes)}):"
            option = f"Also delete these {len(volumes)} volume(s) and the data on them"
        answer = await self.app.push_screen_wait(
            ConfirmScreen(f"Delete {guest.name}", body, yes="Delete", option=option, items=volumes)
        )
        if not answer or not answer[0]:
            return
        try:
            failures = await delete_guest(host, guest, volumes if answer[1] else [])
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        for failure in failures:
            self.notify(f"{host.name}: volume not deleted: {failure}", severity="error")
        wanted = volumes if answer[1] else []
        gone = [v for v in wanted if not any(f.startswith(f"{v}: ") for f in failures)]
        volumes_note = f" and its volume(s) {', '.join(gone)}" if gone else ""
        self.notify(f"{host.name}: deleted {guest.name}{volumes_note}", timeout=6)

    def on_guest_table_selected(self, _event: GuestTable.Selected) -> None:
        self.action_details()

    def action_details(self) -> None:
        from vtui.screens.guest import GuestScreen

        target = self._target()
        if target is not None:
            self.app.push_screen(GuestScreen(*target))

    def on_guest_table_marks_changed(self, _event: GuestTable.MarksChanged) -> None:
        self._show_status()
        self._refresh_keys()

    def action_toggle_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_move(1)  # on to the next: marking a run of guests is Space, Space...

    def action_mark_shown(self) -> None:
        added = self.table.mark_shown()
        self.notify(f"marked {added} more guest(s); {len(self.table.marked)} marked", timeout=3)

    def action_mark_pattern(self) -> None:
        _marked().mark_by_pattern(self)

    def action_clear_marks(self) -> None:
        cleared = self.table.clear_marks()
        if cleared:
            self.notify(f"{cleared} mark(s) cleared", timeout=3)

    def action_snapshots(self) -> None:
        if self.table.marked:
            _marked().bulk_snapshot(self)
        else:
            self.open_snapshots()

    def open_snapshots(self) -> None:
        """The selected guest's snapshots, marks or not."""
        from vtui.screens.snapshots import SnapshotsScreen

        target = self._target()
        if target is not None:
            self.app.push_screen(SnapshotsScreen(*target))

    def action_clone(self) -> None:
        from vtui.screens.clone import CloneScreen

        target = self._target()
        if target is None:
            return
        from vtui.core.guests.clone import CLONE

        why = refusal(CLONE, target[1], target[0].readonly)
        if why:
            self.notify(why, severity="warning")
            return
        self.app.push_screen(CloneScreen(*target))

    def action_rename(self) -> None:
        from vtui.screens.rename import RenameScreen

        target = self._target()
        if target is None:
            return
        why = state_refusal(*target)
        if why:
            self.notify(why, severity="warning")
            return
        self.app.push_screen(RenameScreen(*target))
