"""The command palette (Ctrl+P): what applies where the user is.

Textual's palette lists the app's system commands; `screen_commands` adds the ones of
the screen the palette was opened from. On the main screen that is every action that
applies to the selected guest (Start only for a stopped guest, nothing that changes
state on a read-only host), the open consoles, sorting, filters and the other screens.
"""

from __future__ import annotations

from collections.abc import Iterator

from textual.app import App, SystemCommand
from textual.screen import Screen

from vtui.core.guests.lifecycle import ACTIONS, refusal
from vtui.screens.fleet import FleetScreen


def screen_commands(app: App, screen: Screen) -> Iterator[SystemCommand]:
    # (the host and console screens load when first used, not while the app starts)
    from vtui.screens.host import HostScreen

    if isinstance(screen, FleetScreen):
        yield from fleet_commands(app, screen)
    elif isinstance(screen, HostScreen):
        for title, help_text, callback in screen.commands():
            yield SystemCommand(title, help_text, callback)


def fleet_commands(app: App, fs: FleetScreen) -> Iterator[SystemCommand]:
    from vtui.screens.console import open_consoles
    from vtui.screens.host import SECTIONS
    from vtui.screens.host.transfers import TransfersScreen

    guest = fs.table.selected_guest
    yield from marks_commands(fs)
    yield from guest_copy_commands(fs)
    if guest is not None and not fs.table.marked:  # marked: the actions go to those
        host = fs.fleet.hosts.get(guest.host)
        readonly = host.readonly if host else True
        for action in ACTIONS.values():
            if refusal(action, guest, readonly) is not None:
                continue
            if action.id == "undefine":
                yield SystemCommand(
                    f"Delete {guest.name}",
                    "undefine the guest, optionally with its storage",
                    fs.action_delete,
                )
            else:
                yield SystemCommand(
                    f"{action.label.capitalize()} {guest.name}",
                    f"on {guest.host}",
                    lambda a=action.id: fs.action_guest(a),
                )
        yield SystemCommand(
            f"Details of {guest.name}", "configuration, graphs, XML (Enter)", fs.action_details
        )
        # what the footer would show for this guest (not on a read-only host, not for
        # a stopped guest's console, not migrate with nowhere to go)
        for action, title, help_text, run in (
            ("migrate", f"Migrate {guest.name}", "to another connected host", fs.action_migrate),
            (
                "console",
                f"Console of {guest.name}",
                "serial console (Ctrl+] returns)",
                fs.action_console,
            ),
            (
                "peek",
                f"Screen of {guest.name}",
                "its display, type on it (Ctrl+] returns)",
                fs.action_peek,
            ),
        ):
            if fs.check_action(action, ()):
                yield SystemCommand(title, help_text, run)
    for console in open_consoles(app):
        yield SystemCommand(
            f"Switch to console of {console.guest_name}",
            f"on {console.host.name}",
            lambda c=console: app.push_screen(c),
        )
    for key, label in (("cpu", "CPU"), ("mem", "memory"), ("name", "name")):
        yield SystemCommand(
            f"Sort by {label}", "in the guest table", lambda k=key: fs.action_sort(k)
        )
    yield SystemCommand(
        "Filter guests by state", "running, paused, shut off...", fs.action_state_menu
    )
    yield SystemCommand(
        "New guest", "create a guest: cloud image, ISO, kernel... (n)", fs.action_create
    )
    yield SystemCommand("Migration jobs", "progress, cancel, results", fs.action_jobs)
    yield SystemCommand(
        "Hosts and connections", "add, edit, remove, connect saved hosts", app.action_connections
    )
    yield SystemCommand(
        "Host details", "facts and load of the selected guest's host", fs.action_host_details
    )
    for section, label in SECTIONS[1:]:  # the host screen's other tabs, opened directly
        yield SystemCommand(
            f"Host {label.lower()}",
            f"{section.LABEL} of the selected guest's host",
            lambda tab=section.TAB: fs.action_host_details(tab),
        )
    yield SystemCommand(
        "Volume transfers",
        "uploads, downloads, copies: progress, cancel",
        lambda: app.push_screen(TransfersScreen()),
    )


def marks_commands(fs: FleetScreen) -> Iterator[SystemCommand]:
    """Marking guests, and every action on the marked ones while there are any."""
    yield SystemCommand("Mark all shown guests", "for an action on many", fs.action_mark_shown)
    yield SystemCommand(
        "Mark guests by pattern", "glob or re: over name, host, state", fs.action_mark_pattern
    )
    count = len(fs.table.marked)
    if not count:
        return
    yield SystemCommand(f"Clear the {count} marks", "in the guest table", fs.action_clear_marks)
    for action in ACTIONS.values():
        if action.id in ("undefine", "autostart_on", "autostart_off"):
            continue
        yield SystemCommand(
            f"{action.label.capitalize()} the {count} marked guests",
            "one confirmation lists them",
            lambda a=action.id: fs.action_guest(a),
        )
    for label, run in (
        ("Delete", fs.action_delete),
        ("Snapshot", fs.action_snapshots),
        ("Migrate", fs.action_migrate),
        ("Set autostart of", fs.action_toggle_autostart),
    ):
        yield SystemCommand(
            f"{label} the {count} marked guests", "one confirmation lists them", run
        )


def guest_copy_commands(fs: FleetScreen) -> Iterator[SystemCommand]:
    """The selected guest's snapshots, clone and rename (marks or not)."""
    guest = fs.table.selected_guest
    if guest is None:
        return
    yield SystemCommand(
        f"Snapshots of {guest.name}", "the tree; create, revert, delete", fs.open_snapshots
    )
    if fs.check_action("clone", ()):
        yield SystemCommand(
            f"Clone {guest.name}", "new name, MACs and UUID; disks copied", fs.action_clone
        )
    if fs.check_action("rename", ()):
        yield SystemCommand(f"Rename {guest.name}", "a shut-off guest", fs.action_rename)
