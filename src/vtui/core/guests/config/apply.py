"""Applying a planned change: all of its calls, or none.

The calls run in order; when one fails, those already done are undone in reverse
(each call carries its own undo) and the first error is what the user reads. After
success both definitions are read back, so the caller can show what libvirt made of
the change and what waits for a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

import libvirt

from vtui.core import logs
from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.config.model import GuestConfig
from vtui.core.guests.config.plan import Call, Context, Plan, Scope, canonical, unified_diff
from vtui.core.guests.config.read import lookup, persistent_flags, read_blocking
from vtui.core.host import Host

log = logs.logger("vtui.guests.config")


@dataclass(frozen=True, slots=True)
class Applied:
    scope: Scope
    config: GuestConfig  # the guest as it is now (both definitions read back)
    diff: str  # what libvirt actually changed, in the definition the diff showed

    @property
    def pending(self) -> list[str]:
        return [p.text for p in self.config.pending]


def _reason(exc: BaseException) -> str:
    if isinstance(exc, libvirt.libvirtError):
        return libvirt_message(exc)
    if isinstance(exc, VtuiError):
        return exc.message
    return str(exc) or type(exc).__name__


def refusal(host: Host, plan: Plan, scope: Scope) -> str | None:
    if host.readonly:
        return f"the connection to {host.name} is read-only"
    if scope in plan.refusals:
        return plan.refusals[scope]
    return None


async def apply(host: Host, plan: Plan, scope: Scope) -> Applied:
    """Make the change at `scope`. Raises VtuiError (and has changed nothing) when any
    part of it fails, or when the scope is not one the plan allows."""
    what = plan.title
    why = refusal(host, plan, scope)
    if why:
        raise VtuiError(f"cannot {what}: {why}", host=host.name, guest=plan.guest)
    conn = host.require_conn()
    calls, _virsh = plan.build(scope)
    ctx = await host.call(_context, conn, plan, host.name, host.readonly)
    done: list[Call] = []
    try:
        for call in calls:
            if call.run_async is not None:
                await call.run_async(ctx)
            elif call.run is not None:
                await host.call(call.run, ctx)
            done.append(call)
    except (libvirt.libvirtError, VtuiError) as exc:
        failed_undo = await _undo(host, ctx, done)
        message = f"cannot {what}: {_reason(exc)}"
        if failed_undo:
            message += f" (and undoing failed: {failed_undo}; check the guest)"
        raise VtuiError(message, host=host.name, guest=plan.guest) from exc
    try:
        config = await host.call(read_blocking, conn, plan.uuid, host.name, host.readonly, host.uri)
    except libvirt.libvirtError as exc:
        raise VtuiError(
            f"{what}: done, but reading the guest back failed: {libvirt_message(exc)}",
            host=host.name,
            guest=plan.guest,
        ) from exc
    return Applied(scope, config, _actual_diff(plan, scope, config))


def _context(conn: libvirt.virConnect, plan: Plan, host: str, readonly: bool) -> Context:
    dom = lookup(conn, plan.uuid, host)
    if plan.guard:
        # The change replaces the whole saved definition: one changed meanwhile (by
        # virsh edit, another vtui) would be overwritten. Refuse instead.
        now = canonical(dom.XMLDesc(persistent_flags(readonly)))
        if now != plan.guard:
            raise VtuiError(
                "the saved definition changed since this change was prepared (reload and "
                "try again)",
                host=host,
                guest=plan.guest,
            )
    return Context(conn, dom)


async def _undo(host: Host, ctx: Context, done: list[Call]) -> str:
    """Undo the calls made, last first; the first undo failure, or ""."""
    first = ""
    for call in reversed(done):
        try:
            if call.undo_async is not None:
                await call.undo_async(ctx)
            elif call.undo is not None:
                await host.call(call.undo, ctx)
        except Exception as exc:  # keep undoing the rest whatever went wrong
            log.warning("undoing %s failed: %s", call.text, exc)
            first = first or f"{call.text}: {_reason(exc)}"
    return first


def _actual_diff(plan: Plan, scope: Scope, config: GuestConfig) -> str:
    """The diff between the definition before and as libvirt has it now."""
    which = Scope.PERSISTENT if scope is not Scope.LIVE and config.persistent_xml else Scope.LIVE
    now = config.persistent_xml if which is Scope.PERSISTENT else config.live_xml
    if which not in plan.before or not now:
        return ""
    return unified_diff(plan.guest, which, plan.before[which], canonical(now))
