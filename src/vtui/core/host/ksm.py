"""KSM (kernel same-page merging) of a host, through libvirt's node memory parameters.

libvirt reports KSM's counters and tunables (pages to scan, sleep between scans,
merge across NUMA nodes) and sets the tunables. It does not report the run switch
(/sys/kernel/mm/ksm/run): that is read from sysfs for a local host, over the SSH
session for a tunnelled one, and otherwise guessed from KSM's progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import libvirt

from vtui.core.errors import VtuiError
from vtui.core.host.connection import Host
from vtui.core.host.facts import ksm_from_params
from vtui.core.host.guard import failure, unsupported, writable_conn
from vtui.core.model import Ksm
from vtui.core.uri import is_local

RUN_FILE = "/sys/kernel/mm/ksm/run"
# our name -> libvirt's parameter
TUNABLES = {
    "pages_to_scan": "shm_pages_to_scan",
    "sleep_millisecs": "shm_sleep_millisecs",
    "merge_across_nodes": "shm_merge_across_nodes",
}
UINT_MAX = 2**32 - 1


@dataclass(frozen=True, slots=True)
class KsmStatus:
    ksm: Ksm | None
    unavailable: str = ""  # why ksm is None
    tunables: frozenset[str] = frozenset()  # names in TUNABLES this host reports
    cannot_tune: str = ""  # why the tunables cannot be changed ("" when they can)

    @property
    def can_tune(self) -> bool:
        return self.ksm is not None and not self.cannot_tune


async def ksm_status(host: Host) -> KsmStatus:
    """KSM's counters, tunables and run state, or why the host has none to show."""
    conn = host.require_conn()
    try:
        params = await host.call(conn.getMemoryParameters, 0)
    except libvirt.libvirtError as exc:
        if unsupported(exc):
            return KsmStatus(None, "not available (this host's driver does not report it)")
        raise failure(host, "read KSM's numbers", exc) from exc
    if "shm_pages_shared" not in params:
        return KsmStatus(None, "not available on this host (no KSM in its kernel)")
    ksm = ksm_from_params(params)
    last = host.facts.ksm if host.facts is not None else None
    ksm.running = ksm.running or (last is not None and ksm.full_scans > last.full_scans)
    run = await _run_switch(host)
    if run is not None:
        ksm.running, ksm.running_known = run == 1, True
    tunables = frozenset(name for name, key in TUNABLES.items() if key in params)
    cannot = f"the connection to {host.name} is read-only" if host.readonly else ""
    if not tunables and not cannot:
        cannot = "this host reports no KSM tunables"
    return KsmStatus(ksm, tunables=tunables, cannot_tune=cannot)


async def _run_switch(host: Host) -> int | None:
    """/sys/kernel/mm/ksm/run of the host (0 stopped, 1 running, 2 unmerging), or None
    where it cannot be read."""
    text = ""
    if is_local(host.uri) and host.tunnel is None:
        try:
            text = await host.call(Path(RUN_FILE).read_text)
        except OSError:
            return None
    else:
        run = getattr(host.tunnel, "run", None)
        if run is None:
            return None
        try:
            text = await run(f"cat {RUN_FILE}")
        except VtuiError:
            return None
    text = text.strip()
    return int(text) if text.isdigit() else None


def check_tunables(
    status: KsmStatus, values: dict[str, int | bool], *, host: str | None = None
) -> dict[str, int]:
    """libvirt's parameters for the wanted tunable values, or a VtuiError saying which
    value is wrong or why it cannot change. Nothing is changed here."""

    def refuse(message: str) -> VtuiError:
        return VtuiError(message, host=host)

    ksm = status.ksm
    if ksm is None:
        raise refuse(f"KSM is {status.unavailable}")
    if status.cannot_tune:
        raise refuse(f"cannot change KSM tunables: {status.cannot_tune}")
    params: dict[str, int] = {}
    for name, value in values.items():
        label = name.replace("_", " ")
        if name not in TUNABLES:
            raise refuse(f"unknown KSM tunable {name!r} (one of: {', '.join(TUNABLES)})")
        if name not in status.tunables:
            raise refuse(f"this host does not report KSM's {label}")
        if name == "merge_across_nodes":
            if not isinstance(value, bool):
                raise refuse("KSM merge across NUMA nodes is yes or no")
            if value != ksm.merge_across_nodes and ksm.pages_shared:
                raise refuse(
                    "cannot change merge across NUMA nodes while KSM shares pages "
                    f"({ksm.pages_shared}): stop KSM and unmerge them first"
                )
            params[TUNABLES[name]] = int(value)
            continue
        low = 1 if name == "pages_to_scan" else 0
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= UINT_MAX:
            raise refuse(f"KSM {label} must be a whole number from {low} to {UINT_MAX}")
        params[TUNABLES[name]] = value
    return params


async def set_ksm_tunables(
    host: Host,
    *,
    pages_to_scan: int | None = None,
    sleep_millisecs: int | None = None,
    merge_across_nodes: bool | None = None,
) -> KsmStatus:
    """Change the given tunables (machine-wide, like writing /sys/kernel/mm/ksm/...);
    all are checked before any is set. Returns KSM as it is afterwards."""
    wanted: dict[str, int | bool] = {
        name: value
        for name, value in (
            ("pages_to_scan", pages_to_scan),
            ("sleep_millisecs", sleep_millisecs),
            ("merge_across_nodes", merge_across_nodes),
        )
        if value is not None
    }
    conn = writable_conn(host, "change KSM tunables")
    status = await ksm_status(host)
    params = check_tunables(status, wanted, host=host.name)
    if params:
        try:
            await host.call(conn.setMemoryParameters, params, 0)
        except libvirt.libvirtError as exc:
            raise failure(host, "change KSM tunables", exc) from exc
    return await ksm_status(host)
