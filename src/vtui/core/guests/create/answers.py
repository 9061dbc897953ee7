"""What the user asks for when creating a guest: plain answers, as a form or the
command line gives them. Nothing here is checked; plan.py checks them against the
host and turns them into a plan. Sizes are bytes."""

from __future__ import annotations

from dataclasses import dataclass, field

GiB = 1024**3
MiB = 1024**2

# How the guest gets its operating system.
CLOUD_IMAGE = "cloud-image"  # a cloud image as the backing file of a new overlay disk
ISO = "iso"  # boot an installer from a CD-ROM image
URL = "url"  # a network install tree: its kernel and initrd boot the installer once
IMPORT = "import"  # an existing disk image is the guest's disk
KERNEL = "kernel"  # direct kernel boot: a kernel, initrd and command line on the host
PXE = "pxe"  # boot from the network
SOURCE_KINDS = (CLOUD_IMAGE, ISO, URL, IMPORT, KERNEL, PXE)
SOURCE_LABELS = {
    CLOUD_IMAGE: "cloud image + cloud-init",
    ISO: "ISO / CD-ROM installer",
    URL: "network install tree (URL)",
    IMPORT: "import an existing disk image",
    KERNEL: "direct kernel boot",
    PXE: "PXE (network boot)",
}

# The main disk.
NEW_DISK, EXISTING_DISK, NO_DISK = "new", "existing", "none"
DISK_MODES = (NEW_DISK, EXISTING_DISK, NO_DISK)
DISK_FORMATS = ("qcow2", "raw")
DISK_BUSES = ("virtio", "scsi", "sata", "ide", "usb")

# The network interface.
VIRTUAL_NETWORK, BRIDGE, MACVTAP, NO_NETWORK = "network", "bridge", "macvtap", "none"
NETWORK_KINDS = (VIRTUAL_NETWORK, BRIDGE, MACVTAP, NO_NETWORK)
NET_MODELS = ("virtio", "e1000e", "e1000", "rtl8139")

# CPU modes; "" lets the hypervisor pick (QEMU's default model).
HOST_MODEL, HOST_PASSTHROUGH, CUSTOM_CPU = "host-model", "host-passthrough", "custom"
CPU_MODES = ("", HOST_MODEL, HOST_PASSTHROUGH, CUSTOM_CPU)

BIOS, EFI = "bios", "efi"
GRAPHICS = ("none", "vnc", "spice")


@dataclass(slots=True)
class SourceAnswer:
    kind: str = PXE
    # cloud image, ISO, import: an existing volume ("pool/volume") or a path on the host
    volume: str = ""
    # cloud image, ISO: a file on this machine, uploaded into upload_pool first
    local_file: str = ""
    upload_pool: str = ""  # "" means the disk's pool
    url: str = ""  # network install tree (http, https, ftp)
    # URL: the kernel and initrd under the tree ("" finds them); KERNEL: paths on the host
    kernel: str = ""
    initrd: str = ""
    cmdline: str = ""  # the kernel's command line (URL: the installer's extra arguments)


@dataclass(slots=True)
class DiskAnswer:
    mode: str = NEW_DISK
    pool: str = ""  # new volume: where it goes
    size: int = 10 * GiB
    format: str = "qcow2"
    bus: str = ""  # "" means what the OS supports best
    volume: str = ""  # existing: "pool/volume" or a path on the host


@dataclass(slots=True)
class NetworkAnswer:
    kind: str = VIRTUAL_NETWORK
    source: str = "default"  # the network, the bridge, or the host interface (macvtap)
    model: str = ""  # "" means what the OS supports best
    mac: str = ""  # "" means a new one, unique on the host


@dataclass(slots=True)
class CloudInitAnswer:
    """cloud-init's NoCloud seed. The password is only ever written hashed."""

    hostname: str = ""  # "" means the guest's name
    user: str = ""  # "" keeps the image's default user
    ssh_keys: list[str] = field(default_factory=list)  # public key lines, pasted
    ssh_key_files: list[str] = field(default_factory=list)  # files on this machine
    password: str = ""
    packages: list[str] = field(default_factory=list)
    static_address: str = ""  # CIDR, e.g. 192.168.122.50/24; "" means DHCP
    gateway: str = ""
    dns: list[str] = field(default_factory=list)
    user_data: str = ""  # experts: replaces the user-data vtui would write


@dataclass(slots=True)
class GuestAnswers:
    name: str
    title: str = ""
    description: str = ""
    source: SourceAnswer = field(default_factory=SourceAnswer)
    cloud_init: CloudInitAnswer = field(default_factory=CloudInitAnswer)
    os: str = ""  # an osinfo short id (debian12) or a built-in one; "" means generic
    memory: int = 1 * GiB
    vcpus: int = 1
    cpu_mode: str = ""
    cpu_model: str = ""  # CUSTOM_CPU only
    disk: DiskAnswer = field(default_factory=DiskAnswer)
    network: NetworkAnswer = field(default_factory=NetworkAnswer)
    firmware: str = BIOS
    secure_boot: bool = False
    arch: str = ""  # "" means the host's
    machine: str = ""  # "" means what suits the OS among the host's
    domain_type: str = ""  # "" means kvm where available, else qemu (TCG)
    graphics: str = "none"
    guest_agent: bool = True
    rng: bool = True
    start: bool = False
    uuid: str = ""  # "" lets libvirt make one
