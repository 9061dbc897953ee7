"""Carrying out a plan: volumes first (uploads, the cloud-init seed, the disk), then
the definition, then the start if asked. Every step is written in a ledger; if one
fails (or the caller cancels), exactly what this attempt made is removed again,
newest first, and the error says libvirt's reason and what was cleaned up.
Nothing else on the host is touched.

    created = await create_guest(host, plan, progress=lambda text, transfer: ...)
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.guests.create.answers import EFI
from vtui.core.guests.create.domain_xml import domain_xml, install_xml
from vtui.core.guests.create.install_tree import TreeError, download, treeinfo_paths
from vtui.core.guests.create.ledger import CreationLedger, Made
from vtui.core.guests.create.plan import (
    DISK,
    IMAGE,
    INITRD_FILE,
    KERNEL_FILE,
    SEED,
    GuestPlan,
    NewVolume,
)
from vtui.core.guests.create.seed_iso import seed_iso
from vtui.core.host import Host
from vtui.core.host.guard import writable_conn
from vtui.core.storage import Transfer, Transfers, create_volume, start_upload

# progress(what is being done now, the upload doing it or None)
Progress = Callable[[str, Transfer | None], None]
ORDER = (IMAGE, KERNEL_FILE, INITRD_FILE, SEED, DISK)  # a disk may back onto an image


@dataclass(frozen=True, slots=True)
class Created:
    host: str
    name: str
    uuid: str
    started: bool
    made: list[Made]  # what is on the host now because of this creation
    xml: str  # the definition, as libvirt keeps it


def _quiet(_text: str, _transfer: Transfer | None) -> None:
    pass


class _Run:
    def __init__(
        self, host: Host, plan: GuestPlan, progress: Progress, transfers: Transfers, paused: bool
    ):
        self.host, self.plan, self.progress, self.transfers = host, plan, progress, transfers
        self.flags = libvirt.VIR_DOMAIN_START_PAUSED if paused else 0
        self.conn = writable_conn(host, f"create guest {plan.name}")
        self.ledger = CreationLedger()

    async def call(self, what: str, fn, *args):
        try:
            return await self.host.call(fn, *args)
        except libvirt.libvirtError as exc:
            raise VtuiError(f"cannot {what}: {libvirt_message(exc)}", host=self.host.name) from exc

    # -- volumes ----------------------------------------------------------------------
    def _remember(self, volume: NewVolume, path: str) -> None:
        self.plan.set_path(volume.role, path)
        made = Made("volume", volume.name, volume.pool, path, volume.role, volume.temporary)
        self.ledger.did(made, lambda: self._delete_volume(volume.pool, volume.name))

    async def _delete_volume(self, pool: str, name: str) -> None:
        def delete() -> None:
            try:
                self.conn.storagePoolLookupByName(pool).storageVolLookupByName(name).delete(0)
            except libvirt.libvirtError as exc:
                if exc.get_error_code() != libvirt.VIR_ERR_NO_STORAGE_VOL:
                    raise

        await self.call(f"delete volume {pool}/{name}", delete)

    async def _upload(self, volume: NewVolume, local_path: str, what: str) -> None:
        self.progress(f"uploading {what} to {volume.label}", None)
        transfer = await start_upload(
            self.host, volume.pool, local_path, name=volume.name, jobs=self.transfers
        )
        self.progress(f"uploading {what} to {volume.label}", transfer)
        try:
            await transfer.wait()
        except asyncio.CancelledError:
            await transfer.cancel()  # it removes its half-made volume itself
            raise
        path = await self.call(
            f"find volume {volume.label}",
            lambda: (
                self.conn.storagePoolLookupByName(volume.pool)
                .storageVolLookupByName(volume.name)
                .path()
            ),
        )
        self._remember(volume, path)

    async def _from_memory(self, volume: NewVolume, data: bytes, what: str) -> None:
        fd, path = tempfile.mkstemp(prefix="vtui-seed-", suffix=".iso")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            await self._upload(volume, path, what)
        finally:
            os.unlink(path)

    async def _from_url(self, volume: NewVolume) -> None:
        self.progress(f"downloading {volume.url}", None)
        try:
            path = await asyncio.to_thread(download, volume.url)
        except TreeError as exc:
            raise VtuiError(str(exc)) from None
        try:
            await self._upload(volume, path, f"the installer's {volume.role}")
        finally:
            os.unlink(path)

    async def _tree_paths(self) -> None:
        kernel, initrd = self.plan.volume(KERNEL_FILE), self.plan.volume(INITRD_FILE)
        if kernel is None or initrd is None or (kernel.url and initrd.url):
            return
        tree = self.plan.answers.source.url
        self.progress(f"reading {tree.rstrip('/')}/.treeinfo", None)
        try:
            found = await asyncio.to_thread(treeinfo_paths, tree, self.plan.arch)
        except TreeError as exc:
            raise VtuiError(str(exc)) from None
        base = tree.rstrip("/") + "/"
        kernel.url, initrd.url = base + found[0].lstrip("/"), base + found[1].lstrip("/")

    async def _make(self, volume: NewVolume) -> None:
        if volume.local_file:
            await self._upload(volume, volume.local_file, os.path.basename(volume.local_file))
        elif volume.role == SEED and self.plan.seed is not None:
            await self._from_memory(volume, seed_iso(self.plan.seed.files()), "the cloud-init seed")
        elif volume.url:
            await self._from_url(volume)
        else:
            self.progress(f"creating volume {volume.label}", None)
            made = await create_volume(
                self.host, volume.pool, volume.name, volume.capacity,
                format=volume.format or None, backing=volume.backing or None,
            )  # fmt: skip
            self._remember(volume, made.path)

    # -- the guest --------------------------------------------------------------------
    async def _define(self) -> libvirt.virDomain:
        plan = self.plan
        self.progress(f"defining guest {plan.name}", None)
        xml = domain_xml(plan)
        dom = await self.call(f"define guest {plan.name}", self.conn.defineXML, xml)
        self.ledger.did(Made("guest", plan.name), lambda: self._undefine(dom))
        return dom

    async def _undefine(self, dom: libvirt.virDomain) -> None:
        efi = self.plan.answers.firmware == EFI

        def undefine() -> None:
            if dom.isActive():
                dom.destroy()
            dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM if efi else 0)

        await self.call(f"undefine guest {self.plan.name}", undefine)

    async def _start(self, dom: libvirt.virDomain) -> None:
        plan = self.plan
        self.progress(f"starting {plan.name}", None)
        if not plan.installs_from_tree:
            await self.call(f"start guest {plan.name}", dom.createWithFlags, self.flags)
            return
        # the installer boots once from its kernel: the same guest (name and UUID) with
        # a live-only definition; the kept one boots the disk from then on
        text = install_xml(plan, dom.UUIDString())
        await self.call(
            f"start the installer of {plan.name}", self.conn.createXML, text, self.flags
        )

    async def _drop_temporary(self) -> list[str]:
        left = []
        for made in [m for m in self.ledger.made if m.temporary]:
            try:
                await self._delete_volume(made.pool, made.name)
                self.ledger.drop(made)
            except VtuiError as exc:
                left.append(exc.message)
        return left

    async def run(self) -> Created:
        plan = self.plan
        try:
            await self._tree_paths()
            for role in ORDER:
                for volume in [v for v in plan.volumes if v.role == role]:
                    await self._make(volume)
            dom = await self._define()
            started = plan.answers.start or plan.installs_from_tree
            if started:
                await self._start(dom)
        except (Exception, asyncio.CancelledError) as exc:
            self.progress("removing what was made", None)
            failed = await self.ledger.undo()
            if isinstance(exc, asyncio.CancelledError):
                raise
            message = exc.message if isinstance(exc, VtuiError) else f"{type(exc).__name__}: {exc}"
            cleaned = "; ".join(failed) if failed else "nothing was left behind"
            raise VtuiError(f"{message} ({cleaned})", host=self.host.name) from exc
        if started and plan.installs_from_tree:
            for problem in await self._drop_temporary():
                plan.warnings.append(problem)
        uuid, xml = await self.call(
            f"read guest {plan.name}",
            lambda: (dom.UUIDString(), dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)),
        )
        self.progress(f"created {plan.name}", None)
        return Created(self.host.name, plan.name, uuid, started, self.ledger.made, xml)


async def create_guest(
    host: Host,
    plan: GuestPlan,
    *,
    progress: Progress | None = None,
    transfers: Transfers | None = None,
    paused: bool = False,
) -> Created:
    """Make the guest the plan describes (plan_guest checked it). Raises VtuiError with
    libvirt's reason after removing whatever this attempt made. `paused`: a start
    leaves the guest paused, for a console to attach before it boots (then resume)."""
    run = _Run(host, plan, progress or _quiet, transfers or Transfers(), paused)
    return await run.run()
