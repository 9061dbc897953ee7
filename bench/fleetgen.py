"""Write test-driver host files with many guests, for the benchmarks.

Guests are small and varied (states, vCPUs, memory, one disk, one NIC); names and
UUIDs are derived from the index, so every run generates the same host.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from lxml import etree

TEST_NS = "http://libvirt.org/schemas/domain/test/1.0"
STATES = [1] * 14 + [3, 5, 5, 5, 6, 1]  # mostly running; paused, shut off, crashed


def host_xml(guests: int, *, prefix: str = "vm", cpus: int = 64) -> bytes:
    node = etree.Element("node", nsmap={"test": TEST_NS})
    cpu = etree.SubElement(node, "cpu")
    for tag, value in (
        ("mhz", 2600),
        ("model", "x86_64"),
        ("nodes", 2),
        ("sockets", 1),
        ("cores", cpus // 4),
        ("threads", 2),
    ):
        etree.SubElement(cpu, tag).text = str(value)
    etree.SubElement(node, "memory").text = str(1024**3)  # 1 TiB in KiB
    for i in range(guests):
        dom = etree.SubElement(node, "domain", type="test")
        etree.SubElement(dom, "name").text = f"{prefix}-{i:05d}"
        etree.SubElement(dom, "uuid").text = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{prefix}{i}"))
        etree.SubElement(dom, "memory", unit="MiB").text = str(512 * (1 + i % 8))
        etree.SubElement(dom, "vcpu").text = str(1 + i % 4)
        os_ = etree.SubElement(dom, "os")
        etree.SubElement(os_, "type").text = "hvm"
        devices = etree.SubElement(dom, "devices")
        disk = etree.SubElement(devices, "disk", type="file", device="disk")
        etree.SubElement(disk, "source", file=f"/var/lib/libvirt/images/{prefix}-{i:05d}.qcow2")
        etree.SubElement(disk, "target", dev="vda", bus="virtio")
        nic = etree.SubElement(devices, "interface", type="network")
        etree.SubElement(nic, "source", network="default")
        state = STATES[i % len(STATES)]
        if state != 1:
            etree.SubElement(dom, f"{{{TEST_NS}}}runstate").text = str(state)
    net = etree.SubElement(node, "network")
    etree.SubElement(net, "name").text = "default"
    return etree.tostring(node, pretty_print=True, xml_declaration=True, encoding="UTF-8")


def write_host(directory: Path, guests: int, *, prefix: str = "vm") -> Path:
    path = directory / f"{prefix}-{guests}.xml"
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(host_xml(guests, prefix=prefix))
        tmp.rename(path)
    return path


if __name__ == "__main__":
    print(write_host(Path(sys.argv[1]), int(sys.argv[2])))
