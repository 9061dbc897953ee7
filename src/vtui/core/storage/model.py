"""Plain data about a host's storage, for the UI and for scripts. Sizes are bytes."""

from __future__ import annotations

from dataclasses import dataclass

# A pool's state as libvirt reports it (virStoragePoolState), in virsh's words.
POOL_STATES = {0: "inactive", 1: "building", 2: "active", 3: "degraded", 4: "inaccessible"}


@dataclass(frozen=True, slots=True)
class Pool:
    name: str
    uuid: str
    type: str  # dir, fs, netfs, logical, disk, iscsi, ...
    state: str  # one of POOL_STATES' values
    autostart: bool
    persistent: bool  # False: transient, gone once stopped
    capacity: int | None  # None while the pool is inactive (libvirt does not know)
    allocation: int | None
    available: int | None
    target_path: str  # "" when the type has none
    source: str  # where the storage comes from, in one line ("nfs1:/exports/vms"), or ""
    volumes: int | None  # how many volumes; None while inactive

    @property
    def active(self) -> bool:
        return self.state != "inactive"


@dataclass(frozen=True, slots=True)
class VolumeUser:
    """A guest whose disk is (or is backed by) a volume."""

    guest: str
    active: bool  # the guest is running (or paused...) now
    target: str  # the disk's device name in the guest ("vda"); "" if unknown

    def describe(self) -> str:
        return f"{self.guest} (running)" if self.active else self.guest


@dataclass(frozen=True, slots=True)
class Volume:
    name: str
    pool: str
    key: str
    path: str
    type: str  # file, block, dir, network, netdir, ploop
    format: str  # raw, qcow2, ... ("" when the pool has no formats, e.g. logical)
    capacity: int  # what the guest sees
    allocation: int  # what it uses on the host
    physical: int | None  # bytes of the file or device itself (a stream's length)
    backing_path: str | None  # the backing file of an overlay
    backing_format: str | None
    users: tuple[VolumeUser, ...]  # guests using it, from their disk sources
    backing_of: tuple[str, ...]  # volumes of the same pool that have it as backing file

    @property
    def used_by(self) -> tuple[str, ...]:
        return tuple(u.guest for u in self.users)

    @property
    def in_use(self) -> bool:
        return bool(self.users)

    @property
    def stream_length(self) -> int:
        """How many bytes a download of this volume carries."""
        return self.physical if self.physical is not None else self.capacity


@dataclass(frozen=True, slots=True)
class PoolField:
    """One answer a pool type needs, as a form renders it."""

    name: str  # key in the answers mapping given to create_pool
    label: str
    required: bool
    hint: str  # one line shown under the field (an example, what it means)
    default: str = ""
    choices: tuple[str, ...] = ()  # when not empty, the answer must be one of these


@dataclass(frozen=True, slots=True)
class PoolType:
    """A pool type this host's libvirt supports, and what creating one asks."""

    type: str
    label: str
    fields: tuple[PoolField, ...]
    can_build: bool  # libvirt can make the storage (directory, filesystem, VG, label)
    build_note: str  # what building does; "" if it cannot build
    build_destroys: bool  # building formats a device: everything on it is lost
    volume_formats: tuple[str, ...]  # formats its volumes can have; () when not chosen
    default_format: str

    def field(self, name: str) -> PoolField | None:
        return next((f for f in self.fields if f.name == name), None)
