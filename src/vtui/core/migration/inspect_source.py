"""What the pre-flight checks read from the source host, in one worker call.

The guest's definition as the destination will see it (the migratable XML of a running
guest), its state and snapshots, where each disk lives on the source (pool, size,
backing chain) and what the source host is (identity, versions).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import libvirt
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.migration.guest_config import Disk, GuestConfig, parse
from vtui.core.migration.probe import PathProbe


@dataclass(slots=True)
class HostIdentity:
    uuid: str = ""
    driver: str = ""
    hostname: str = ""
    arch: str = ""
    cpu_model: str = ""
    libvirt_version: int = 0
    hypervisor_version: int = 0


@dataclass(slots=True)
class Source:
    state: int
    persistent: bool
    managed_save: bool
    job_active: bool
    memory_kib: int
    config: GuestConfig
    snapshots: int = 0
    internal_snapshots: int = 0
    host: HostIdentity = field(default_factory=HostIdentity)


def host_identity(conn: libvirt.virConnect) -> HostIdentity:
    caps = etree.fromstring(conn.getCapabilities().encode())
    try:
        hypervisor = conn.getVersion()
    except libvirt.libvirtError:
        hypervisor = 0
    return HostIdentity(
        uuid=caps.findtext("host/uuid") or "",
        driver=conn.getType(),
        hostname=conn.getHostname(),
        arch=caps.findtext("host/cpu/arch") or "",
        cpu_model=caps.findtext("host/cpu/model") or caps.findtext("host/cpu/arch") or "",
        libvirt_version=conn.getLibVersion(),
        hypervisor_version=hypervisor,
    )


def _volume_of(conn: libvirt.virConnect, disk: Disk) -> libvirt.virStorageVol | None:
    try:
        if disk.kind == "volume":
            pool = conn.storagePoolLookupByName(disk.pool)
            return pool.storageVolLookupByName(disk.volume)
        if disk.kind in ("file", "block") and disk.path:
            return conn.storageVolLookupByPath(disk.path)
    except libvirt.libvirtError:
        pass  # not in any pool here
    return None


def _chain_from_volumes(conn: libvirt.virConnect, vol: libvirt.virStorageVol) -> list[str]:
    """A stopped guest's backing chain, from the volumes' own descriptions."""
    chain: list[str] = []
    while len(chain) < 16:
        xml = etree.fromstring(vol.XMLDesc(0).encode())
        path = xml.findtext("backingStore/path")
        if not path:
            break
        chain.append(path)
        try:
            vol = conn.storageVolLookupByPath(path)
        except libvirt.libvirtError:
            break  # outside any pool: the chain goes on, unseen
    return chain


def _place_disk(conn: libvirt.virConnect, disk: Disk, known_chain: bool, probe) -> None:
    vol = _volume_of(conn, disk)
    if vol is None:
        if disk.kind == "file" and disk.path and disk.copyable:
            # outside any pool: its size and (stopped guest) backing file, read by a probe
            described = probe.describe(disk.path)
            if described is not None:
                disk.capacity, disk.allocation, chain = described
                if not known_chain and chain:
                    disk.backing = chain + _chain_by_probe(probe, chain[0])
        return
    try:
        pool = vol.storagePoolLookupByVolume()
        disk.source_pool = pool.name()
        disk.source_pool_type = etree.fromstring(pool.XMLDesc(0).encode()).get("type", "")
        _kind, disk.capacity, disk.allocation = vol.info()
        if disk.kind == "volume":
            disk.path = vol.path()
        if not known_chain:
            disk.backing = _chain_from_volumes(conn, vol)
    except libvirt.libvirtError:
        pass


def _chain_by_probe(probe: PathProbe, path: str) -> list[str]:
    chain: list[str] = []
    while len(chain) < 16:
        described = probe.describe(path)
        if described is None or not described[2]:
            return chain
        path = described[2][0]
        chain.append(path)
    return chain


def _snapshots(dom: libvirt.virDomain) -> tuple[int, int]:
    """(snapshots, of which internal: data inside the guest's qcow2 images)."""
    try:
        count = dom.snapshotNum(0)
        if not count:
            return 0, 0
        internal = 0
        for snap in dom.listAllSnapshots(0):
            root = etree.fromstring(snap.getXMLDesc(0).encode())
            states = {d.get("snapshot", "") for d in root.iterfind("disks/disk")}
            memory = root.find("memory")
            if memory is not None:
                states.add(memory.get("snapshot", ""))
            internal += "internal" in states
        return count, internal
    except libvirt.libvirtError:
        return 0, 0


def read_source(conn: libvirt.virConnect, guest_uuid: str) -> Source:
    try:
        dom = conn.lookupByUUIDString(guest_uuid)
    except libvirt.libvirtError as exc:
        if exc.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            raise VtuiError("the guest no longer exists on the source") from exc
        raise
    state, _reason = dom.state()
    active = bool(dom.isActive())
    # what the destination will be given: the migratable definition of a running guest
    flags = libvirt.VIR_DOMAIN_XML_MIGRATABLE if active else libvirt.VIR_DOMAIN_XML_INACTIVE
    config = parse(dom.XMLDesc(flags))
    chains: dict[str, list[str]] = {}
    if active:  # the live definition has every disk's backing chain
        live = parse(dom.XMLDesc(0))
        chains = {d.target: d.backing for d in live.disks}
    probe = PathProbe(conn)
    for disk in config.disks:
        disk.backing = chains.get(disk.target, disk.backing)
        _place_disk(conn, disk, disk.target in chains, probe)
    job_active = False
    if active:
        try:
            job_active = dom.jobStats().get("type", 0) != libvirt.VIR_DOMAIN_JOB_NONE
        except libvirt.libvirtError:
            pass
    snapshots, internal = _snapshots(dom)
    return Source(
        state=state,
        persistent=bool(dom.isPersistent()),
        managed_save=bool(dom.hasManagedSaveImage(0)) if not active else False,
        job_active=job_active,
        memory_kib=int(dom.maxMemory()),
        config=config,
        snapshots=snapshots,
        internal_snapshots=internal,
        host=host_identity(conn),
    )
