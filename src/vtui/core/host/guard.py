"""The check before anything changes a host, and one wording for libvirt's refusals.

Used by every action on a host's resources (networks, devices, KSM, pools): a
read-only connection refuses with the reason, and a libvirt failure becomes the one
line the user reads: what could not be done, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import libvirt

from vtui.core.errors import VtuiError, libvirt_message

if TYPE_CHECKING:
    from vtui.core.host.connection import Host

R = TypeVar("R")

UNSUPPORTED = (libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_OPERATION_UNSUPPORTED)


def writable_conn(host: Host, what: str) -> libvirt.virConnect:
    """The connection to do `what` through (e.g. "start network web"), or a VtuiError
    saying why it cannot be done."""
    if host.readonly:
        raise VtuiError(
            f"cannot {what}: the connection to {host.name} is read-only", host=host.name
        )
    return host.require_conn()


def unsupported(exc: libvirt.libvirtError) -> bool:
    return exc.get_error_code() in UNSUPPORTED


def failure(host: Host, what: str, exc: BaseException) -> VtuiError:
    """`cannot <what>: <reason>` for the user, libvirt's noise trimmed."""
    if isinstance(exc, VtuiError):  # already worded; one without a host is a reason
        return exc if exc.host else VtuiError(f"cannot {what}: {exc.message}", host=host.name)
    if isinstance(exc, libvirt.libvirtError) and unsupported(exc):
        reason = "this host's libvirt driver does not support it"
    else:
        reason = libvirt_message(exc)
    return VtuiError(f"cannot {what}: {reason}", host=host.name)


async def call_or_fail(host: Host, what: str, fn: Callable[..., R], *args: Any) -> R:
    """fn(*args) in the host's threads; a libvirt failure becomes one clear line."""
    try:
        return await host.call(fn, *args)
    except libvirt.libvirtError as exc:
        raise failure(host, what, exc) from exc
