"""Operating systems a guest can be made for: the osinfo database (libosinfo's XML
files under /usr/share/osinfo, read with lxml, no libosinfo needed) when the machine
vtui runs on has it, and always a short built-in list.

What vtui takes from an entry: minimum and recommended memory and disk, and which
devices the OS drives (virtio disk, network, RNG, serial, GPU; q35; e1000e), which
decides the device models a new guest gets (models.py). Devices are inherited along
`derives-from`/`clones`, as libosinfo does; `supported="false"` takes one away.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

OSINFO_DIR = "/usr/share/osinfo"
GiB = 1024**3
MiB = 1024**2

# Device ids osinfo uses (PCI vendor/device), and what they mean to vtui.
_VIRTIO = "http://pcisig.com/pci/1af4/"
DEVICE_FLAGS = {
    "virtio_net": (_VIRTIO + "1000", _VIRTIO + "1041"),
    "virtio_disk": (_VIRTIO + "1001", _VIRTIO + "1042"),
    "virtio_serial": (_VIRTIO + "1003", _VIRTIO + "1043"),
    "virtio_rng": (_VIRTIO + "1005", _VIRTIO + "1044"),
    "virtio_scsi": (_VIRTIO + "1004", _VIRTIO + "1048"),
    "virtio_gpu": (_VIRTIO + "1050",),
    "q35": ("http://qemu.org/chipset/x86/q35",),
    "e1000e": ("http://pcisig.com/pci/8086/10d3",),
    "qxl": ("http://pcisig.com/pci/1b36/0100",),
}


@dataclass(frozen=True, slots=True)
class InstallTree:
    """Where a distribution's network install tree keeps its installer kernel."""

    arch: str
    kernel: str  # relative to the tree's URL
    initrd: str


@dataclass(frozen=True, slots=True)
class OsInfo:
    id: str  # what the user types: an osinfo short id (debian11) or a built-in id
    name: str
    family: str = ""  # linux, winnt, ...
    osinfo_id: str = ""  # e.g. http://debian.org/debian/11; "" for the built-in ones
    variant: str = ""  # virt-install's --os-variant for it
    release_date: str = ""
    min_memory: int | None = None
    recommended_memory: int | None = None
    min_disk: int | None = None
    recommended_disk: int | None = None
    virtio_net: bool = False
    virtio_disk: bool = False
    virtio_serial: bool = False
    virtio_rng: bool = False
    virtio_scsi: bool = False
    virtio_gpu: bool = False
    q35: bool = False
    e1000e: bool = False
    qxl: bool = False
    trees: tuple[InstallTree, ...] = ()
    builtin: bool = False

    def tree_for(self, arch: str) -> InstallTree | None:
        return next((t for t in self.trees if t.arch == arch), None)


_MODERN: dict[str, Any] = dict(
    virtio_net=True,
    virtio_disk=True,
    virtio_serial=True,
    virtio_rng=True,
    virtio_scsi=True,
    virtio_gpu=True,
    q35=True,
    e1000e=True,
)
BUILTIN = (
    OsInfo(
        "linux",
        "Modern Linux (2016 or later)",
        "linux",
        variant="linux2022",
        min_memory=512 * MiB,
        recommended_memory=2 * GiB,
        min_disk=4 * GiB,
        recommended_disk=20 * GiB,
        builtin=True,
        **_MODERN,
    ),
    OsInfo(
        "linux-old",
        "Old Linux (before 2012)",
        "linux",
        variant="generic",
        min_memory=256 * MiB,
        recommended_memory=1 * GiB,
        min_disk=2 * GiB,
        recommended_disk=10 * GiB,
        builtin=True,
    ),
    OsInfo(
        "windows",
        "Windows (10, Server 2016 or later)",
        "winnt",
        variant="win10",
        min_memory=2 * GiB,
        recommended_memory=4 * GiB,
        min_disk=32 * GiB,
        recommended_disk=64 * GiB,
        q35=True,
        e1000e=True,
        builtin=True,
    ),
    OsInfo("other", "Other or unknown", variant="generic", builtin=True),
)
DEFAULT_OS = "linux"


@dataclass(frozen=True, slots=True)
class OsDatabase:
    entries: dict[str, OsInfo]  # by id: the built-in ones, then osinfo's by short id
    source: str  # where the list came from, for the form ("osinfo-db 20221203 in ...")

    def find(self, os_id: str) -> OsInfo | None:
        return self.entries.get(os_id.strip() or DEFAULT_OS)

    @property
    def from_osinfo(self) -> bool:
        return any(not e.builtin for e in self.entries.values())


def osinfo_dir() -> str:
    """libosinfo's own variable, else the system database."""
    return os.environ.get("OSINFO_SYSTEM_DIR") or OSINFO_DIR


_cache: dict[tuple[str, str], OsDatabase] = {}
_lock = threading.Lock()


def load_os_database(directory: str | None = None, arch: str = "x86_64") -> OsDatabase:
    """The built-in list plus the osinfo database under `directory` (default: see
    osinfo_dir), resources as given for `arch`. Blocking (0.2-0.5 s the first time:
    run it in a thread); cached afterwards."""
    directory = directory or osinfo_dir()
    with _lock:
        found = _cache.get((directory, arch))
        if found is None:
            found = _cache[(directory, arch)] = _load(directory, arch)
        return found


def _load(directory: str, arch: str) -> OsDatabase:
    entries = {e.id: e for e in BUILTIN}
    roots: dict[str, etree._Element] = {}
    for path in sorted(Path(directory, "os").glob("*/*.xml")):
        try:
            tree = etree.parse(str(path))
        except (OSError, etree.XMLSyntaxError):
            continue  # one broken file does not cost the whole list
        for os_elem in tree.getroot().iterfind("os"):
            if os_elem.get("id"):
                roots[os_elem.get("id", "")] = os_elem
    if not roots:
        return OsDatabase(entries, "built-in list (no osinfo database found)")
    devices: dict[str, frozenset[str]] = {}
    for osinfo_id, elem in roots.items():
        short = elem.findtext("short-id")
        if not short or short in entries:
            continue
        flags = _flags(_devices(osinfo_id, roots, devices))
        resources = _resources(osinfo_id, roots, arch)
        entries[short] = OsInfo(
            id=short,
            name=(elem.findtext("name") or short).strip(),
            family=(elem.findtext("family") or "").strip(),
            osinfo_id=osinfo_id,
            variant=short,
            release_date=(elem.findtext("release-date") or "").strip(),
            trees=tuple(
                InstallTree(t.get("arch", ""), t.findtext("kernel", ""), t.findtext("initrd", ""))
                for t in elem.iterfind("tree")
                if t.findtext("kernel") and t.findtext("initrd")
            ),
            **resources,
            **flags,
        )
    version = _read_version(directory)
    return OsDatabase(entries, f"osinfo-db {version} in {directory}".replace("  ", " "))


def _read_version(directory: str) -> str:
    try:
        return Path(directory, "VERSION").read_text().strip()
    except OSError:
        return ""


def _parents(elem: etree._Element) -> list[str]:
    return [p.get("id", "") for p in (*elem.iterfind("derives-from"), *elem.iterfind("clones"))]


def _devices(
    osinfo_id: str,
    roots: dict[str, etree._Element],
    memo: dict[str, frozenset[str]],
    seen: frozenset[str] = frozenset(),
) -> frozenset[str]:
    """The devices an OS supports: its parents', plus its own, minus those it says not."""
    if osinfo_id in memo:
        return memo[osinfo_id]
    elem = roots.get(osinfo_id)
    if elem is None or osinfo_id in seen:
        return frozenset()
    found: set[str] = set()
    for parent in _parents(elem):
        found |= _devices(parent, roots, memo, seen | {osinfo_id})
    for device in elem.iterfind("devices/device"):
        if device.get("supported") == "false":
            found.discard(device.get("id", ""))
        else:
            found.add(device.get("id", ""))
    memo[osinfo_id] = frozenset(found)
    return memo[osinfo_id]


def _flags(devices: frozenset[str]) -> dict[str, Any]:
    return {flag: any(d in devices for d in ids) for flag, ids in DEVICE_FLAGS.items()}


def _bytes(elem: etree._Element | None, path: str) -> int | None:
    text = elem.findtext(path) if elem is not None else None
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _resources(
    osinfo_id: str, roots: dict[str, etree._Element], arch: str, depth: int = 0
) -> dict[str, Any]:
    """Minimum and recommended memory and disk for `arch` (else for all arches), from
    the OS itself or, when it says nothing, the OS it derives from."""
    elem = roots.get(osinfo_id)
    if elem is None or depth > 20:
        return dict(min_memory=None, recommended_memory=None, min_disk=None, recommended_disk=None)
    blocks = {r.get("arch", "all"): r for r in elem.iterfind("resources")}
    block = blocks[arch] if arch in blocks else blocks.get("all")
    if block is None:
        parents = _parents(elem)
        return (
            _resources(parents[0], roots, arch, depth + 1) if parents else _resources("", {}, arch)
        )
    return dict(
        min_memory=_bytes(block, "minimum/ram"),
        recommended_memory=_bytes(block, "recommended/ram"),
        min_disk=_bytes(block, "minimum/storage"),
        recommended_disk=_bytes(block, "recommended/storage"),
    )
