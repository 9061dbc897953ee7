"""Plain data of one guest's configuration, as read from its domain XML (and a few
runtime calls). Everything here is what libvirt said, taken tolerantly: a field the
reader did not find is "" or None, and an element it does not know is kept as raw XML
(`raw`, `unknown`) instead of being an error."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class CpuView:
    vcpus: int  # current (online) vCPUs
    vcpus_max: int  # the <vcpu> maximum
    placement: str = ""  # static, auto
    cpuset: str = ""  # host CPUs the vCPUs may run on ("" any)
    mode: str = ""  # host-passthrough, host-model, custom, maximum
    model: str = ""  # the named CPU model of a custom mode
    sockets: int | None = None
    dies: int | None = None
    cores: int | None = None
    threads: int | None = None
    pins: tuple[tuple[int, str], ...] = ()  # (vcpu, host cpuset) from <cputune>
    emulator_pin: str = ""

    @property
    def topology(self) -> str:
        parts = [(self.sockets, "socket"), (self.dies, "die"), (self.cores, "core")]
        parts.append((self.threads, "thread"))
        known = [f"{n} {word}{'s' if n != 1 else ''}" for n, word in parts if n is not None]
        return ", ".join(known)


@dataclass(frozen=True, slots=True)
class MemoryView:
    maximum_kib: int  # <memory>: what the guest boots with at most
    current_kib: int  # <currentMemory>: the balloon target
    hotplug_max_kib: int | None = None  # <maxMemory> (memory hot-plug ceiling)
    hugepages: bool = False
    balloon: str = ""  # memballoon model ("none", "virtio", "" absent)


@dataclass(frozen=True, slots=True)
class BootView:
    order: tuple[str, ...] = ()  # <os><boot dev=.../>: hd, cdrom, network, fd
    device_order: tuple[tuple[int, str], ...] = ()  # (order, "disk vda") per-device boot
    menu: bool | None = None
    menu_timeout_ms: int | None = None
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""
    dtb: str = ""
    firmware: str = ""  # "efi", "bios", or "" when not asked for
    loader: str = ""  # firmware image path
    loader_type: str = ""  # rom, pflash
    secure_boot: bool = False
    nvram: str = ""


@dataclass(frozen=True, slots=True)
class DiskView:
    target: str  # vda, sdc: how libvirt names the disk
    device: str  # disk, cdrom, floppy, lun
    type: str  # file, block, network, volume, dir, nvme, vhostuser
    bus: str
    source: str  # the path, pool/volume, or protocol://host/name; "" when empty
    format: str = ""
    cache: str = ""
    io: str = ""
    readonly: bool = False
    shareable: bool = False
    serial: str = ""
    boot_order: int | None = None
    path: str = ""  # a file or block device path (for the storage volume behind it)
    pool: str = ""  # type='volume': its pool and volume names
    volume: str = ""
    raw: str = ""  # the <disk> element as libvirt gave it

    @property
    def removable(self) -> bool:
        """A CD-ROM or floppy: media can change or be ejected."""
        return self.device in ("cdrom", "floppy")


@dataclass(frozen=True, slots=True)
class NicView:
    mac: str
    type: str  # network, bridge, direct, user, vhostuser, hostdev, ...
    source: str  # network name, bridge, host interface (mode), socket path, PCI address
    model: str = ""
    link: str = ""  # "up", "down" ("" = libvirt's default, up)
    target_dev: str = ""  # the host side (vnet3) of a running guest
    boot_order: int | None = None
    raw: str = ""

    @property
    def link_up(self) -> bool:
        return self.link != "down"


@dataclass(frozen=True, slots=True)
class DeviceView:
    """Any other device: serial, graphics, video, controller, ... or one vtui does not know."""

    kind: str  # the element's tag
    ordinal: int  # its position among devices of its kind (to find it again)
    summary: str  # one line: what it is, in libvirt's words
    raw: str = ""

    @property
    def key(self) -> str:
        return f"{self.kind}#{self.ordinal}"


@dataclass(frozen=True, slots=True)
class HostDevView:
    kind: str  # pci, usb, scsi, mdev, ... ("interface" for a hostdev NIC)
    address: str  # 0000:03:00.0, 001:004, or vendor:product ids
    managed: bool = False
    ordinal: int = 0
    raw: str = ""

    @property
    def key(self) -> str:
        return f"hostdev#{self.ordinal}"


@dataclass(frozen=True, slots=True)
class DomainView:
    """One definition (the live one or the persistent one) of a guest."""

    name: str
    uuid: str
    title: str = ""
    description: str = ""
    hypervisor: str = ""  # the domain type: kvm, qemu, xen, test
    os_type: str = ""
    arch: str = ""
    machine: str = ""
    emulator: str = ""
    cpu: CpuView = field(default_factory=lambda: CpuView(0, 0))
    memory: MemoryView = field(default_factory=lambda: MemoryView(0, 0))
    boot: BootView = field(default_factory=BootView)
    disks: tuple[DiskView, ...] = ()
    nics: tuple[NicView, ...] = ()
    devices: tuple[DeviceView, ...] = ()
    hostdevs: tuple[HostDevView, ...] = ()
    unknown: tuple[str, ...] = ()  # top-level elements read as raw XML only

    def disk(self, target: str) -> DiskView | None:
        return next((d for d in self.disks if d.target == target), None)

    def nic(self, mac: str) -> NicView | None:
        return next((n for n in self.nics if n.mac.lower() == mac.lower()), None)

    def device(self, key: str) -> DeviceView | None:
        return next((d for d in self.devices if d.key == key), None)


@dataclass(frozen=True, slots=True)
class BlockSize:
    capacity: int  # bytes the guest sees
    allocation: int  # bytes used on the host
    physical: int  # bytes of the file or device


@dataclass(frozen=True, slots=True)
class PendingChange:
    """Something the persistent definition has and the running guest does not (yet)."""

    section: str  # overview, cpu, memory, boot, disks, nics, devices, hostdevs
    text: str  # e.g. "vCPUs: 1 now, 2 from the next start"


@dataclass(frozen=True, slots=True)
class GuestConfig:
    """What the details screen shows of a guest: both definitions and its runtime."""

    host: str
    uuid: str
    name: str
    state: str
    reason: str
    active: bool
    persistent: bool
    autostart: bool
    live: DomainView | None  # None when the guest is not running
    persistent_view: DomainView | None  # None for a transient guest
    live_xml: str = ""  # XMLDesc(0) as libvirt gave it ("" when not running)
    persistent_xml: str = ""  # XMLDesc(INACTIVE) ("" when transient)
    vcpus_live: int | None = None  # what the running guest has online now
    memory_live_kib: int | None = None  # the balloon now
    block_sizes: dict[str, BlockSize] = field(default_factory=dict)  # by target
    pending: tuple[PendingChange, ...] = ()  # what waits for a restart
    uri: str = ""  # the host's URI (for the virsh command lines)
    started_at: float | None = None

    @property
    def shown(self) -> DomainView:
        """The definition in force: the live one when running, else the persistent."""
        view = self.live or self.persistent_view
        assert view is not None  # a guest has at least one of the two
        return view

    @property
    def xml(self) -> str:
        return self.live_xml or self.persistent_xml


@dataclass(frozen=True, slots=True)
class GuestAddress:
    interface: str  # the name the source uses (vnet0, eth0)
    mac: str
    address: str  # 192.168.122.5/24
    family: str  # ipv4, ipv6


@dataclass(frozen=True, slots=True)
class Addresses:
    source: str  # "guest agent", "DHCP leases", "ARP table", or "" none found
    addresses: tuple[GuestAddress, ...] = ()
    note: str = ""  # why there are none (no agent, not running...)


@dataclass(frozen=True, slots=True)
class GuestFilesystem:
    mountpoint: str
    fstype: str
    total_bytes: int | None = None
    used_bytes: int | None = None
    devices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AgentInfo:
    """What the QEMU guest agent says about the guest (fields it did not give are "")."""

    os_name: str = ""
    os_version: str = ""
    kernel: str = ""
    hostname: str = ""
    timezone: str = ""
    filesystems: tuple[GuestFilesystem, ...] = ()
    users: tuple[str, ...] = ()
