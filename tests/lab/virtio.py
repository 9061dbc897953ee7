"""An opt-in variant of the lab guest that sees hot-plugged virtio devices.

The plain lab guest (images.py) boots Debian's cloud kernel with no modules: its
virtio drivers are modules, so a disk or NIC plugged into it stays invisible. This
variant puts the kernel's virtio modules (and what they depend on) into its initramfs
and loads them before the shell starts; its domain has ACPI (PCI hot-plug on the
i440fx machine goes through ACPI) and a virtio balloon.

The kernel and its modules come from the same package download, so they always match.
Built once into the test cache like the plain image; tests that do not ask for it
never build it.
"""

from __future__ import annotations

import gzip
import hashlib
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

from .images import INIT_SCRIPT, _busybox, _kernel_package, _publish, cache_dir, guest_xml

# What a hot-plug test needs the guest to drive; their dependencies come along.
MODULES = ("virtio_pci", "virtio_blk", "virtio_net", "virtio_balloon")
LOAD_MODULES = (
    'for m in $(cat /lib/modules/order); do insmod "/lib/modules/$m.ko"; done\n'
    "mkdir -p /mnt\n"  # where the disk tests mount what they make
)
# The modules load right after /sys and /dev are mounted, before the ready line.
VIRTIO_INIT = INIT_SCRIPT.replace("exec </dev/console", LOAD_MODULES + "exec </dev/console", 1)
_DEPENDS = re.compile(rb"depends=([^\x00]*)\x00")


def _depends(ko: Path) -> list[str]:
    found = _DEPENDS.search(ko.read_bytes())
    return [d for d in (found.group(1).decode().split(",") if found else []) if d]


def _load_order(modules_dir: Path) -> list[tuple[str, Path]]:
    """(name, file) of MODULES and their dependencies, each after what it needs."""
    files = {p.stem.replace("-", "_"): p for p in modules_dir.rglob("*.ko")}
    order: list[tuple[str, Path]] = []

    def visit(name: str) -> None:
        if name in (n for n, _ in order):
            return
        if name not in files:
            raise RuntimeError(f"kernel module {name} is not in the kernel package")
        for dep in _depends(files[name]):
            visit(dep.replace("-", "_"))
        order.append((name, files[name]))

    for name in MODULES:
        visit(name)
    return order


def _build(final: Path, package: str) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".virtio-", dir=final.parent))
    try:
        subprocess.run(
            ["apt-get", "download", package], cwd=tmp, capture_output=True, text=True, check=True
        )
        (deb,) = tmp.glob("*.deb")
        subprocess.run(["dpkg", "-x", str(deb), str(tmp / "x")], check=True)
        (vmlinuz,) = (tmp / "x/boot").glob("vmlinuz-*")
        shutil.move(vmlinuz, tmp / "vmlinuz")
        root = tmp / "root"
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "root"):
            (root / d).mkdir(parents=True)
        (root / "lib/modules").mkdir(parents=True)
        order = _load_order(tmp / "x/lib/modules")
        for name, ko in order:
            shutil.copy(ko, root / "lib/modules" / f"{name}.ko")
        (root / "lib/modules/order").write_text("\n".join(n for n, _ in order) + "\n")
        shutil.copy(_busybox(), root / "bin/busybox")
        (root / "init").write_text(VIRTIO_INIT)
        (root / "init").chmod(0o755)
        (root / "bin/busybox").chmod(0o755)
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        cpio = subprocess.run(
            ["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"],
            cwd=root,
            input=("\n".join(files) + "\n").encode(),
            capture_output=True,
            check=True,
        )
        (tmp / "initrd.gz").write_bytes(gzip.compress(cpio.stdout, 6))
        for leftover in (deb, tmp / "x", root):
            shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_virtio_image() -> tuple[str, str]:
    """(kernel, initrd) of the virtio guest, built on first use."""
    package = _kernel_package()
    key = hashlib.sha256(f"{package}\n{VIRTIO_INIT}\n{MODULES}".encode()).hexdigest()[:12]
    final = cache_dir() / f"virtio-{key}"
    if not (final / "initrd.gz").exists():
        _build(final, package)
    return str(final / "vmlinuz"), str(final / "initrd.gz")


def virtio_guest_xml(name: str, kernel: str, initrd: str, *, mem_mib: int = 192) -> str:
    """The lab guest's domain with ACPI (for PCI hot-plug) and a virtio balloon."""
    root = etree.fromstring(guest_xml(name, kernel, initrd, mem_mib=mem_mib).encode())
    features = etree.Element("features")
    etree.SubElement(features, "acpi")
    root.find("os").addnext(features)
    balloon = root.find("devices/memballoon")
    balloon.set("model", "virtio")
    return etree.tostring(root, pretty_print=True, encoding="unicode")
