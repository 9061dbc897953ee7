"""A checked plan for a new guest: every volume to make, every device, how it boots,
and notes for the review. planning.py makes it from the answers; domain_xml.py and
virt_install.py render it; creation.py carries it out."""

from __future__ import annotations

from dataclasses import dataclass, field

from vtui.core.errors import VtuiError
from vtui.core.guests.create.answers import GuestAnswers
from vtui.core.guests.create.cloud_init import SeedFiles
from vtui.core.guests.create.models import DeviceModels
from vtui.core.guests.create.osinfo import OsInfo

# What a new volume is for.
DISK, IMAGE, SEED, KERNEL_FILE, INITRD_FILE = "disk", "image", "seed", "kernel", "initrd"


class CreateRefused(VtuiError):
    """The answers cannot make a guest; `problems` says why, one line each."""

    def __init__(self, problems: list[str], *, host: str | None = None, guest: str = ""):
        what = f"cannot create guest {guest}" if guest else "cannot create the guest"
        super().__init__(f"{what}: {'; '.join(problems)}", host=host)
        self.problems = list(problems)


@dataclass(slots=True)
class NewVolume:
    """A volume the creation makes (and deletes again if a later step fails)."""

    role: str  # DISK, IMAGE (an uploaded cloud image or ISO), SEED, KERNEL_FILE, INITRD_FILE
    pool: str
    name: str
    capacity: int  # bytes (an upload: the image's virtual size)
    format: str  # qcow2, raw, iso ("" for pools without formats)
    path: str  # where it will be: predicted from the pool's target, exact once made
    needed_now: int = 0  # bytes the pool must have free when it is made
    backing: str = ""  # an overlay's backing file (path)
    backing_format: str = ""
    local_file: str = ""  # uploaded from this file on vtui's machine
    url: str = ""  # downloaded from this URL first (an install tree's kernel or initrd)
    temporary: bool = False  # deleted once the installer has started

    @property
    def label(self) -> str:
        return f"{self.pool}/{self.name}"


@dataclass(slots=True)
class DiskDevice:
    device: str  # "disk" or "cdrom"
    bus: str
    target: str
    format: str
    path: str  # on the host ("" for an empty CD-ROM drive)
    source_type: str = "file"  # "block" for LVM or disk pools
    volume_role: str = ""  # made by this creation: NewVolume.role (its path lands here)


@dataclass(frozen=True, slots=True)
class InterfacePlan:
    kind: str  # network, bridge, macvtap
    source: str
    model: str
    mac: str


@dataclass(slots=True)
class GuestPlan:
    host: str
    uri: str
    answers: GuestAnswers
    os: OsInfo
    models: DeviceModels
    domain_type: str
    arch: str
    machine: str  # "" lets libvirt pick
    emulator: str
    volumes: list[NewVolume]
    disks: list[DiskDevice]
    interface: InterfacePlan | None
    boot: list[str]  # os/boot devices in order: hd, cdrom, network
    kernel: str = ""  # direct kernel boot (kept in the definition)
    initrd: str = ""
    cmdline: str = ""
    install_cmdline: str = ""  # URL installs: the installer's first boot only
    seed: SeedFiles | None = None
    ssh_keys: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # for the review: what was chosen, why
    warnings: list[str] = field(default_factory=list)  # worth a second look, not refused

    @property
    def name(self) -> str:
        return self.answers.name

    @property
    def installs_from_tree(self) -> bool:
        return any(v.role == KERNEL_FILE for v in self.volumes)

    def volume(self, role: str) -> NewVolume | None:
        return next((v for v in self.volumes if v.role == role), None)

    def set_path(self, role: str, path: str) -> None:
        """A volume was made: its real path goes into the volume and its devices."""
        for volume in self.volumes:
            if volume.role == role:
                volume.path = path
        for disk in self.disks:
            if disk.volume_role == role:
                disk.path = path
