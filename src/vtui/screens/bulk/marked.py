"""The main screen's keys when guests are marked: each action goes to every marked
guest through run_bulk_flow (one confirmation, then the results list). Kept apart
from the main screen (screens/fleet/), which only routes its keys here while anything is marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vtui.core.guests import (
    BulkTarget,
    SnapshotRequest,
    delete_action,
    guest_matcher,
    lifecycle_action,
    snapshot_action,
)
from vtui.core.guests.lifecycle import ACTIONS
from vtui.core.migration import migrate_action
from vtui.screens.bulk.flow import run_bulk_flow
from vtui.screens.bulk.migrate import BulkMigrateScreen, BulkMigration
from vtui.screens.bulk.pattern import MarkPatternScreen
from vtui.screens.dialogs import ChoiceScreen
from vtui.screens.snapshots.form import SnapshotFormScreen

if TYPE_CHECKING:
    from vtui.screens.fleet import FleetScreen

DELETE_LOSS = (
    "Their definitions, snapshot metadata and managed save images are removed. This "
    "cannot be undone."
)


def marked_targets(fs: FleetScreen) -> list[BulkTarget]:
    hosts = fs.fleet.hosts
    return [BulkTarget(hosts[g.host], g) for g in fs.table.marked_guests() if g.host in hosts]


def _flow(fs: FleetScreen, coro, description: str) -> None:
    fs.run_worker(coro, group="bulk", description=description, exit_on_error=False)


def _unmark(fs: FleetScreen):
    return fs.table.unmark


def bulk_lifecycle(fs: FleetScreen, action_id: str, loss: str = "") -> None:
    targets = marked_targets(fs)
    action = lifecycle_action(action_id)
    _flow(
        fs,
        run_bulk_flow(fs.app, action, targets, loss=loss, unmark=_unmark(fs)),
        f"{action.label} {len(targets)} marked guests",
    )


def bulk_delete(fs: FleetScreen) -> None:
    targets = marked_targets(fs)
    _flow(
        fs,
        run_bulk_flow(
            fs.app,
            delete_action(False),
            targets,
            loss=DELETE_LOSS,
            option="Also delete their storage volumes and the data on them",
            with_option=delete_action,
            unmark=_unmark(fs),
        ),
        f"delete {len(targets)} marked guests",
    )


def bulk_autostart(fs: FleetScreen) -> None:
    def chosen(choice: str | None) -> None:
        if choice in ("autostart_on", "autostart_off"):
            bulk_lifecycle(fs, choice)

    count = len(fs.table.marked)
    fs.app.push_screen(
        ChoiceScreen(
            f"Autostart of {count} guest(s)",
            [(a, ACTIONS[a].label) for a in ("autostart_on", "autostart_off")],
        ),
        chosen,
    )


def bulk_migrate(fs: FleetScreen) -> None:
    targets = marked_targets(fs)

    def chosen(choice: BulkMigration | None) -> None:
        dst = fs.fleet.hosts.get(choice.destination) if choice else None
        if choice is None or dst is None:
            return
        action = migrate_action(dst, at_most=choice.at_most, base=choice.options)
        _flow(
            fs,
            run_bulk_flow(fs.app, action, targets, unmark=_unmark(fs)),
            f"migrate {len(targets)} marked guests to {dst.name}",
        )

    fs.app.push_screen(BulkMigrateScreen(fs.fleet, len(targets)), chosen)


def bulk_snapshot(fs: FleetScreen) -> None:
    targets = marked_targets(fs)

    def chosen(request: SnapshotRequest | None) -> None:
        if request is not None:
            _flow(
                fs,
                run_bulk_flow(fs.app, snapshot_action(request), targets, unmark=_unmark(fs)),
                f"snapshot {len(targets)} marked guests",
            )

    fs.app.push_screen(
        SnapshotFormScreen(f"Snapshot of {len(targets)} marked guest(s)", running=None), chosen
    )


def mark_by_pattern(fs: FleetScreen) -> None:
    """Mark the shown guests (what the filters let through) that match a pattern."""
    table = fs.table

    def shown():
        return [table.guests[k] for k in table.order]

    def chosen(pattern: str | None) -> None:
        if pattern:
            match = guest_matcher(pattern)
            added = table.mark(k for k in table.order if match(table.guests[k]))
            fs.notify(f"marked {added} more guest(s); {len(table.marked)} marked", timeout=4)

    fs.app.push_screen(MarkPatternScreen(shown), chosen)
