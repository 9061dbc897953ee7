"""Migrating many guests to one destination, at most N at a time: the bulk runner of
core/guests/bulk.py with migration jobs as its action. Each guest goes through the
same pre-flight checks and job as a single migration (live when it runs, offline when
it is shut off, unless the options say otherwise); a refused or failed one is a line
in the results and the others go on.

    action = migrate_action(dst, at_most=2)
    results = await run_bulk(action, targets)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from vtui.core.guests.bulk import BulkAction
from vtui.core.host import Host, HostStatus
from vtui.core.migration.jobs import MigrationJobs, default_jobs
from vtui.core.migration.options import MigrationOptions
from vtui.core.model import Guest
from vtui.core.states import BLOCKED, PAUSED, RUNNING, SHUTOFF

AT_MOST = 2  # migrations at once: each one saturates a link on its own


def default_options(guest: Guest, base: MigrationOptions | None = None) -> MigrationOptions:
    """`base` (or the defaults), live for an active guest and offline for a shut-off one."""
    options = replace(base) if base is not None else MigrationOptions()
    options.live = guest.active
    if not options.live:
        options.copy_storage, options.post_copy = "none", False
    return options


def migrate_action(
    dst: Host,
    *,
    at_most: int = AT_MOST,
    base: MigrationOptions | None = None,
    options_for: Callable[[Guest], MigrationOptions] | None = None,
    jobs: MigrationJobs | None = None,
) -> BulkAction:
    """Move each guest to `dst`; at most `at_most` migrations run at once."""
    registry = jobs if jobs is not None else default_jobs()

    def options(guest: Guest) -> MigrationOptions:
        return options_for(guest) if options_for is not None else default_options(guest, base)

    def refuse(host: Host, guest: Guest) -> str | None:
        why = None
        if host.readonly:
            why = f"the connection to {host.name} is read-only"
        elif host is dst or guest.host == dst.name:
            why = f"it is already on {dst.name}"
        elif dst.status is not HostStatus.CONNECTED:
            why = f"{dst.name} is not connected"
        elif guest.state not in (RUNNING, BLOCKED, PAUSED, SHUTOFF):
            why = f"it is {guest.state}"
        elif registry.for_guest(guest.uuid) is not None:
            why = "it is already being migrated"
        else:
            problems = options(guest).problems()
            why = problems[0] if problems else None
        return f"cannot migrate {guest.name}: {why}" if why else None

    async def run(host: Host, guest: Guest) -> str:
        chosen = options(guest)
        job = await registry.start(host, guest, dst, chosen)
        summary = await job.wait()
        if not chosen.live:
            return f"definition moved to {dst.name}"
        return f"migrated to {dst.name}: {summary.line()}"

    return BulkAction(
        "migrate", f"migrate to {dst.name}", False, refuse, run, at_most=max(1, at_most)
    )
