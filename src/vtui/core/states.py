"""libvirt's domain states, their reasons and lifecycle events, as words."""

from __future__ import annotations

import libvirt

RUNNING = "running"
PAUSED = "paused"
SHUTOFF = "shut off"
CRASHED = "crashed"
SHUTDOWN = "shutting down"
PMSUSPENDED = "pmsuspended"
BLOCKED = "blocked"
NOSTATE = "no state"

STATE_NAMES = {
    libvirt.VIR_DOMAIN_NOSTATE: NOSTATE,
    libvirt.VIR_DOMAIN_RUNNING: RUNNING,
    libvirt.VIR_DOMAIN_BLOCKED: BLOCKED,
    libvirt.VIR_DOMAIN_PAUSED: PAUSED,
    libvirt.VIR_DOMAIN_SHUTDOWN: SHUTDOWN,
    libvirt.VIR_DOMAIN_SHUTOFF: SHUTOFF,
    libvirt.VIR_DOMAIN_CRASHED: CRASHED,
    libvirt.VIR_DOMAIN_PMSUSPENDED: PMSUSPENDED,
}
# The states a user filters by, in the order menus show them.
FILTER_STATES = (RUNNING, PAUSED, SHUTOFF, CRASHED, PMSUSPENDED)
ACTIVE_STATES = (RUNNING, BLOCKED, PAUSED, SHUTDOWN, PMSUSPENDED)

_REASONS = {
    RUNNING: [
        "",
        "booted",
        "migrated",
        "restored",
        "from snapshot",
        "unpaused",
        "migration canceled",
        "save canceled",
        "woken up",
        "crashed",
        "post-copy",
        "post-copy failed",
    ],
    PAUSED: [
        "",
        "by user",
        "migrating",
        "saving",
        "dumping",
        "I/O error",
        "watchdog",
        "from snapshot",
        "shutting down",
        "snapshot",
        "crashed",
        "starting up",
        "post-copy",
        "post-copy failed",
        "API error",
    ],
    SHUTOFF: [
        "",
        "shut down",
        "destroyed",
        "crashed",
        "migrated",
        "saved",
        "failed",
        "from snapshot",
        "daemon",
    ],
    CRASHED: ["", "panicked"],
    SHUTDOWN: ["", "by user"],
}

EVENT_NAMES = [
    "defined",
    "undefined",
    "started",
    "suspended",
    "resumed",
    "stopped",
    "shutdown",
    "pmsuspended",
    "crashed",
]
# The state a lifecycle event leaves the guest in, before the follow-up sample confirms it.
EVENT_STATE = {2: RUNNING, 3: PAUSED, 4: RUNNING, 5: SHUTOFF, 7: PMSUSPENDED, 8: CRASHED}


def state_name(code: int) -> str:
    return STATE_NAMES.get(code, NOSTATE)


def reason_text(state: str, reason: int) -> str:
    table = _REASONS.get(state, [])
    return table[reason] if 0 <= reason < len(table) else ""


def event_name(event: int) -> str:
    return EVENT_NAMES[event] if 0 <= event < len(EVENT_NAMES) else f"event {event}"
