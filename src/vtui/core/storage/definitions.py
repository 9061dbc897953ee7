"""Pool and volume XML: reading what libvirt returns, and building what vtui defines.
Built from elements (names and paths come from users), never from strings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from lxml import etree


@dataclass(frozen=True, slots=True)
class PoolXml:
    """What a pool's XML says (the numbers come from virStoragePoolGetInfo instead)."""

    type: str
    target_path: str
    source: str


@dataclass(frozen=True, slots=True)
class VolumeXml:
    name: str
    key: str
    path: str
    type: str
    format: str
    capacity: int
    allocation: int
    physical: int | None
    backing_path: str | None
    backing_format: str | None


def _text(root: etree._Element, path: str) -> str:
    return (root.findtext(path) or "").strip()


def _bytes(root: etree._Element, path: str) -> int | None:
    """A size element in bytes (libvirt writes unit='bytes' in what it returns)."""
    element = root.find(path)
    text = (element.text or "").strip() if element is not None else ""
    if element is None or not text:
        return None
    return int(text) * _UNIT.get(element.get("unit", "bytes"), 1)


_UNIT = {"bytes": 1, "B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def parse_pool(xml: str) -> PoolXml:
    root = etree.fromstring(xml.encode())
    return PoolXml(
        type=root.get("type", ""),
        target_path=_text(root, "target/path"),
        source=describe_source(root.find("source")),
    )


def describe_source(source: etree._Element | None) -> str:
    """A pool's source in one line: 'nas:/exports/vms', '/dev/sdb1', 'vg0 (/dev/sdc)'."""
    if source is None:
        return ""
    hosts = [h.get("name", "") for h in source.iterfind("host")]
    devices = [d.get("path", "") for d in source.iterfind("device")]
    found_dir = source.find("dir")
    directory = found_dir.get("path", "") if found_dir is not None else ""
    name = _text(source, "name")
    if hosts and directory:
        return f"{hosts[0]}:{directory}"
    if hosts:
        return " ".join(f"{hosts[0]}:{d}" if d else hosts[0] for d in devices or [""])
    if name:
        return f"{name} ({', '.join(devices)})" if devices else name
    return ", ".join(d for d in devices if d) or directory


def parse_volume(xml: str) -> VolumeXml:
    root = etree.fromstring(xml.encode())
    fmt = root.find("target/format")
    backing = root.find("backingStore")
    backing_path = _text(backing, "path") if backing is not None else ""
    backing_fmt = backing.find("format") if backing is not None else None
    return VolumeXml(
        name=_text(root, "name"),
        key=_text(root, "key"),
        path=_text(root, "target/path"),
        type=root.get("type", "file"),
        format=fmt.get("type", "") if fmt is not None else "",
        capacity=_bytes(root, "capacity") or 0,
        allocation=_bytes(root, "allocation") or 0,
        physical=_bytes(root, "physical"),
        backing_path=backing_path or None,
        backing_format=(backing_fmt.get("type") if backing_fmt is not None else None)
        if backing_path
        else None,
    )


# -- building --------------------------------------------------------------------------
def _size(parent: etree._Element, tag: str, value: int) -> None:
    etree.SubElement(parent, tag, unit="bytes").text = str(int(value))


def volume_xml(
    name: str,
    capacity: int,
    *,
    format: str = "",
    allocation: int | None = None,
    backing_path: str | None = None,
    backing_format: str | None = None,
) -> str:
    root = etree.Element("volume")
    etree.SubElement(root, "name").text = name
    _size(root, "capacity", capacity)
    if allocation is not None:
        _size(root, "allocation", allocation)
    if format:
        target = etree.SubElement(root, "target")
        etree.SubElement(target, "format", type=format)
    if backing_path:
        backing = etree.SubElement(root, "backingStore")
        etree.SubElement(backing, "path").text = backing_path
        if backing_format:
            etree.SubElement(backing, "format", type=backing_format)
    return etree.tostring(root, encoding="unicode")


def pool_xml(pool_type: str, values: Mapping[str, str]) -> str:
    """The definition of a new pool from a form's answers (see pool_types.py for the
    fields each type asks). Empty answers are left out."""
    root = etree.Element("pool", type=pool_type)
    etree.SubElement(root, "name").text = values["name"]
    source = etree.SubElement(root, "source")
    if values.get("source_host"):
        etree.SubElement(source, "host", name=values["source_host"])
    if values.get("source_dir"):
        etree.SubElement(source, "dir", path=values["source_dir"])
    for device in split_list(values.get("source_device", "")):
        etree.SubElement(source, "device", path=device)
    if values.get("source_name"):
        etree.SubElement(source, "name").text = values["source_name"]
    if values.get("source_format"):
        etree.SubElement(source, "format", type=values["source_format"])
    if len(source) == 0:
        root.remove(source)
    if values.get("target_path"):
        target = etree.SubElement(root, "target")
        etree.SubElement(target, "path").text = values["target_path"]
    return etree.tostring(root, encoding="unicode")


def split_list(text: str) -> list[str]:
    """'/dev/sdb, /dev/sdc' -> ['/dev/sdb', '/dev/sdc'] (several devices in one field)."""
    return [part.strip() for part in text.replace(",", " ").split() if part.strip()]
