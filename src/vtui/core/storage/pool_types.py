"""Which pool types this host's libvirt supports, and what a form asks for each.

The host says which types it supports (virConnectGetStoragePoolCapabilities, libvirt
5.2+), with the source formats and volume formats of each; older hosts get every
type vtui knows, with the usual formats.
"""

from __future__ import annotations

from dataclasses import replace

import libvirt
from lxml import etree

from vtui.core.host import Host
from vtui.core.host.guard import call_or_fail
from vtui.core.storage.access import is_unsupported, on_host
from vtui.core.storage.model import PoolField, PoolType

NAME = PoolField("name", "Name", True, "how libvirt and vtui call the pool, e.g. images")


def _target(hint: str, default: str = "", required: bool = True) -> PoolField:
    return PoolField("target_path", "Target path", required, hint, default)


FILE_FORMATS = ("raw", "qcow2")
# Of the formats libvirt knows for file volumes, those qemu-img can create; the rest
# (bochs, cloop, dmg, iso...) are formats libvirt only recognises.
CREATABLE_FORMATS = ("raw", "qcow2", "qed", "vmdk", "vdi", "vpc")
KNOWN_TYPES: tuple[PoolType, ...] = (
    PoolType(
        "dir",
        "Directory",
        (NAME, _target("directory on the host holding the volumes, e.g. /var/lib/libvirt/images")),
        True,
        "creates the directory",
        False,
        FILE_FORMATS,
        "raw",
    ),
    PoolType(
        "fs",
        "Filesystem on a block device",
        (
            NAME,
            PoolField(
                "source_device",
                "Device",
                True,
                "block device holding the filesystem, e.g. /dev/sdb1",
            ),
            PoolField(
                "source_format", "Filesystem", False, "its type; auto lets mount find out", "auto"
            ),
            _target("where the host mounts it, e.g. /srv/vm-disks"),
        ),
        True,
        "makes a new filesystem on the device: everything on it is lost",
        True,
        FILE_FORMATS,
        "raw",
    ),
    PoolType(
        "netfs",
        "Network filesystem (NFS, CIFS, GlusterFS)",
        (
            NAME,
            PoolField(
                "source_host", "Server", True, "the file server's name or address, e.g. nas1"
            ),
            PoolField("source_dir", "Export", True, "the exported directory, e.g. /exports/vms"),
            PoolField("source_format", "Protocol", False, "auto tries NFS first", "auto"),
            _target("where the host mounts it, e.g. /var/lib/libvirt/nfs"),
        ),
        True,
        "creates the mount point directory",
        False,
        FILE_FORMATS,
        "raw",
    ),
    PoolType(
        "logical",
        "LVM volume group",
        (
            NAME,
            PoolField(
                "source_name", "Volume group", False, "its name on the host; empty: the pool's name"
            ),
            PoolField(
                "source_device",
                "Physical volumes",
                False,
                "only to create a new group (build): devices, comma-separated, e.g. /dev/sdc",
            ),
        ),
        True,
        "creates the volume group on the devices: everything on them is lost",
        True,
        (),
        "",
    ),
    PoolType(
        "disk",
        "Partitions of a disk",
        (
            NAME,
            PoolField("source_device", "Disk", True, "a whole disk, e.g. /dev/sdc"),
            PoolField("source_format", "Partition table", False, "dos or gpt", "dos"),
            _target("where its partitions appear", "/dev", required=False),
        ),
        True,
        "writes a new partition table: everything on the disk is lost",
        True,
        (),
        "",
    ),
    PoolType(
        "iscsi",
        "iSCSI target",
        (
            NAME,
            PoolField("source_host", "Portal", True, "the iSCSI server's name or address"),
            PoolField("source_device", "Target IQN", True, "e.g. iqn.2024-01.com.example:store"),
            _target("where its LUNs appear", "/dev/disk/by-path", required=False),
        ),
        False,
        "",
        False,
        (),
        "",
    ),
)


@on_host
async def pool_types(host: Host) -> list[PoolType]:
    """The types a new pool on this host can have, with the fields each needs."""
    conn = host.require_conn()

    def read() -> str | None:
        try:
            return conn.getStoragePoolCapabilities(0)
        except (libvirt.libvirtError, AttributeError) as exc:
            if isinstance(exc, AttributeError) or is_unsupported(exc):
                return None  # an older libvirt: offer what vtui knows
            raise

    xml = await call_or_fail(host, "read the storage capabilities", read)
    return list(KNOWN_TYPES) if xml is None else supported_types(xml)


def supported_types(capabilities_xml: str) -> list[PoolType]:
    """vtui's types that the capabilities call supported, with the host's formats."""
    root = etree.fromstring(capabilities_xml.encode())
    found = []
    for known in KNOWN_TYPES:
        node = root.find(f"pool[@type='{known.type}']")
        if node is None or node.get("supported") != "yes":
            continue
        found.append(_with_host_formats(known, node))
    return found


def _values(node: etree._Element, path: str) -> tuple[str, ...]:
    return tuple(v.text or "" for v in node.iterfind(path) if v.text)


def _with_host_formats(known: PoolType, node: etree._Element) -> PoolType:
    sources = _values(node, "poolOptions/enum[@name='sourceFormatType']/value")
    fields = []
    for field in known.fields:
        if field.name == "source_format" and sources:
            default = field.default if field.default in sources else sources[0]
            field = replace(field, choices=sources, default=default)
        fields.append(field)
    listed = _values(node, "volOptions/enum[@name='targetFormatType']/value")
    volumes = tuple(f for f in CREATABLE_FORMATS if f in listed)
    default_node = node.find("volOptions/defaultFormat")
    default_format = known.default_format
    if default_node is not None:
        default_format = default_node.get("type", "")
    return replace(
        known,
        fields=tuple(fields),
        volume_formats=volumes or known.volume_formats,
        default_format=default_format,
    )
