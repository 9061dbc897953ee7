"""One action over many guests, on any hosts: each guest refused where the action does
not apply (said, with the reason), the others done a few at a time per host; one
failure never stops the others. The result is a line per guest.

    action = lifecycle_action("start")
    plan = plan_bulk(action, targets)         # plan.ready, plan.skipped (with reasons)
    results = await run_bulk(action, targets, on_result=show)

An action is a small record of functions, so the same runner does lifecycle actions,
snapshots and deletes here, and migrations (core/migration/bulk.py) above.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from vtui.core import logs
from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.lifecycle import ACTIONS, delete_guest, refusal, run_action, storage_of
from vtui.core.guests.snapshot_rules import SnapshotRequest
from vtui.core.guests.snapshots import create_snapshot, plan_snapshot
from vtui.core.host import Host
from vtui.core.model import Guest

PER_HOST = 3  # of a host's 4 worker threads: one stays free for sampling and the UI
log = logs.logger("vtui.bulk")


@dataclass(frozen=True, slots=True)
class BulkTarget:
    host: Host
    guest: Guest


@dataclass(frozen=True, slots=True)
class BulkResult:
    guest: str
    host: str
    uuid: str
    ok: bool
    message: str  # what was done, or why not (libvirt's reason): one line
    skipped: bool = False  # refused before anything was tried

    @property
    def status(self) -> str:
        return "ok" if self.ok else ("skipped" if self.skipped else "failed")


Refuse = Callable[[Host, Guest], "str | None"]
Check = Callable[[Host, Guest], Awaitable["str | None"]]
Run = Callable[[Host, Guest], Awaitable[str]]


@dataclass(frozen=True, slots=True)
class BulkAction:
    id: str
    label: str  # the verb, as menus and confirmations say it
    destructive: bool
    refuse: Refuse  # why not, from what is known now (cheap: for the confirmation)
    run: Run  # does it; returns what was done, raises VtuiError
    check: Check | None = None  # a closer look on the host (disk formats...)
    at_most: int | None = None  # at most this many at once over all hosts
    per_host: int = PER_HOST


@dataclass(slots=True)
class BulkPlan:
    action: BulkAction
    ready: list[BulkTarget] = field(default_factory=list)
    skipped: list[BulkResult] = field(default_factory=list)


def _result(target: BulkTarget, ok: bool, message: str, skipped: bool = False) -> BulkResult:
    guest = target.guest
    return BulkResult(guest.name, target.host.name, guest.uuid, ok, message, skipped)


def plan_bulk(action: BulkAction, targets: Sequence[BulkTarget]) -> BulkPlan:
    """Which targets the action applies to now, and why not for the others."""
    plan = BulkPlan(action)
    seen: set[tuple[str, str]] = set()
    for target in targets:
        key = (target.host.name, target.guest.uuid)
        if key in seen:
            continue  # the same guest named twice is done once
        seen.add(key)
        why = action.refuse(target.host, target.guest)
        if why:
            plan.skipped.append(_result(target, False, why, skipped=True))
        else:
            plan.ready.append(target)
    return plan


async def check_bulk(plan: BulkPlan) -> BulkPlan:
    """The plan after the action's closer look at each ready guest (asks the hosts)."""
    check = plan.action.check
    if check is None:
        return plan
    answers = await asyncio.gather(
        *(_safe_check(check, t) for t in plan.ready), return_exceptions=False
    )
    checked = BulkPlan(plan.action, skipped=list(plan.skipped))
    for target, why in zip(plan.ready, answers):
        if why:
            checked.skipped.append(_result(target, False, why, skipped=True))
        else:
            checked.ready.append(target)
    return checked


async def _safe_check(check: Check, target: BulkTarget) -> str | None:
    try:
        return await check(target.host, target.guest)
    except VtuiError as exc:
        return exc.message


async def run_bulk(
    action: BulkAction,
    targets: Sequence[BulkTarget],
    *,
    on_result: Callable[[BulkResult], None] | None = None,
) -> list[BulkResult]:
    """Do the action to every target it applies to; a result per distinct target, in
    the order given. on_result(result) is called as each ends (skipped ones first)."""
    plan = plan_bulk(action, targets)
    done: dict[tuple[str, str], BulkResult] = {}

    def report(result: BulkResult) -> None:
        done[(result.host, result.uuid)] = result
        if on_result is not None:
            on_result(result)

    for result in plan.skipped:
        report(result)
    overall = asyncio.Semaphore(action.at_most) if action.at_most else None
    per_host: dict[str, asyncio.Semaphore] = {}
    for target in plan.ready:
        per_host.setdefault(target.host.name, asyncio.Semaphore(action.per_host))

    async def one(target: BulkTarget) -> None:
        async with per_host[target.host.name]:
            if overall is None:
                report(await _run_one(action, target))
            else:
                async with overall:
                    report(await _run_one(action, target))

    await asyncio.gather(*(one(t) for t in plan.ready))
    order = []
    for target in targets:
        key = (target.host.name, target.guest.uuid)
        if key in done:
            result = done.pop(key)
            order.append(result)
    return order


async def _run_one(action: BulkAction, target: BulkTarget) -> BulkResult:
    host, guest = target.host, target.guest
    why = action.refuse(host, guest)  # it may have changed while others ran
    try:
        if why is None and action.check is not None:
            why = await action.check(host, guest)
        if why:
            return _result(target, False, why, skipped=True)
        return _result(target, True, await action.run(host, guest))
    except VtuiError as exc:
        return _result(target, False, exc.message)
    except Exception as exc:  # noqa: BLE001 - a bug must not stop the other guests
        log.exception("%s %s on %s", action.label, guest.name, host.name)
        return _result(
            target, False, f"internal error: {type(exc).__name__}: {libvirt_message(exc)}"
        )


# -- the actions -----------------------------------------------------------------------------
LIFECYCLE_DONE = {
    "start": "started",
    "shutdown": "asked to shut down",
    "reboot": "asked to reboot",
    "reset": "reset",
    "destroy": "forced off",
    "suspend": "paused",
    "resume": "resumed",
    "managedsave": "saved (managed)",
    "autostart_on": "autostart enabled",
    "autostart_off": "autostart disabled",
}


def lifecycle_action(action_id: str) -> BulkAction:
    """start, shutdown, reboot, reset, destroy, suspend, resume, managedsave, autostart_*."""
    action = ACTIONS[action_id]

    def refuse(host: Host, guest: Guest) -> str | None:
        return refusal(action, guest, host.readonly)

    async def run(host: Host, guest: Guest) -> str:
        await run_action(host, guest, action_id)
        return LIFECYCLE_DONE[action_id]

    return BulkAction(action_id, action.label, action.destructive, refuse, run)


def delete_action(with_storage: bool = False) -> BulkAction:
    """Undefine shut-off guests; with_storage: their volumes too."""
    undefine = ACTIONS["undefine"]

    def refuse(host: Host, guest: Guest) -> str | None:
        return refusal(undefine, guest, host.readonly)

    async def run(host: Host, guest: Guest) -> str:
        volumes = await storage_of(host, guest) if with_storage else []
        failures = await delete_guest(host, guest, volumes)
        if failures:
            raise VtuiError(f"deleted, but volumes were not: {'; '.join(failures)}")
        return f"deleted with {len(volumes)} volume(s)" if volumes else "deleted"

    return BulkAction("delete", "delete", True, refuse, run)


def snapshot_action(request: SnapshotRequest) -> BulkAction:
    """The same snapshot request for each guest (a name given is used by all)."""

    def refuse(host: Host, guest: Guest) -> str | None:
        if host.readonly:
            return f"cannot snapshot {guest.name}: the connection to {host.name} is read-only"
        return None

    async def check(host: Host, guest: Guest) -> str | None:
        return (await plan_snapshot(host, guest, request)).refusal

    async def run(host: Host, guest: Guest) -> str:
        snap = await create_snapshot(host, guest, request)
        return f"snapshot {snap.name} taken ({snap.kind})"

    return BulkAction("snapshot", "snapshot", False, refuse, run, check=check)
