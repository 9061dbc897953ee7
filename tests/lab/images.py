"""A tiny bootable guest for the lab: Debian's cloud kernel + a busybox initramfs.

Built once into the cache dir (env VTUI_TEST_CACHE, default ~/.cache/vtui-test) and
reused by every run. Boots to an interactive serial shell in a few seconds under TCG
(no KVM needed; nested KVM is unreliable on CI machines).
"""

from __future__ import annotations

import glob
import gzip
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from lxml import etree

READY_LINE = "vtui-guest ready"
PROMPT = "/ # "

# PID 1 of the guest. The kernel gives init no PATH and maybe no /dev/console, so set
# both up ourselves; cttyhack makes the serial port the shell's controlling tty (job
# control, Ctrl-C), setsid makes the shell a session leader so it can own that tty.
# The vtui.busy loop runs niced so the shell on the single vCPU stays snappy.
# With vtui.tty1 (guests with a display) a second shell runs on the first virtual
# terminal, so keys sent to the guest's keyboard reach a shell; opening tty1 after
# setsid makes it that shell's controlling tty.
INIT_SCRIPT = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
echo {READY_LINE}
case " $(cat /proc/cmdline) " in
  *" vtui.busy "*) ( while :; do :; done ) & renice -n 19 -p $! >/dev/null ;;
esac
case " $(cat /proc/cmdline) " in
  *" vtui.tty1 "*) setsid sh -c 'exec sh </dev/tty1 >/dev/tty1 2>&1' & ;;
esac
exec setsid cttyhack sh
"""


def cache_dir() -> Path:
    d = Path(os.environ.get("VTUI_TEST_CACHE") or Path.home() / ".cache" / "vtui-test")
    d.mkdir(parents=True, exist_ok=True)
    return d


def _publish(tmp: Path, final: Path) -> None:
    """Atomically move a finished build into place; a concurrent builder may have won."""
    tmp.chmod(0o755)  # mkdtemp makes 0700
    try:
        os.rename(tmp, final)
    except OSError:  # final already exists (directory rename onto non-empty dir)
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)


def _kernel_package() -> str:
    out = subprocess.run(
        ["apt-cache", "depends", "linux-image-cloud-amd64"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for line in out.splitlines():
        dep = line.strip().removeprefix("Depends:").strip()
        if line.strip().startswith("Depends:") and dep.startswith("linux-image-"):
            return dep
    raise RuntimeError(f"no kernel package named by linux-image-cloud-amd64:\n{out}")


def _build_kernel(final: Path) -> None:
    pkg = _kernel_package()
    tmp = Path(tempfile.mkdtemp(prefix=".kernel-", dir=final.parent))
    try:

        def download() -> subprocess.CompletedProcess:
            return subprocess.run(
                ["apt-get", "download", pkg], cwd=tmp, capture_output=True, text=True
            )

        r = download()
        if r.returncode != 0:  # stale package lists: refresh once and retry
            subprocess.run(["apt-get", "update"], capture_output=True, check=False)
            r = download()
        if r.returncode != 0:
            raise RuntimeError(f"apt-get download {pkg} failed:\n{r.stderr}")
        (deb,) = tmp.glob("*.deb")
        subprocess.run(["dpkg", "-x", str(deb), str(tmp / "x")], check=True)
        (vmlinuz,) = glob.glob(str(tmp / "x/boot/vmlinuz-*"))
        os.rename(vmlinuz, tmp / "vmlinuz")
        deb.unlink()
        shutil.rmtree(tmp / "x")
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _busybox() -> str:
    # busybox-static ships /bin/busybox; it must be static: the initramfs has no libc.
    out = subprocess.run(["dpkg", "-L", "busybox-static"], capture_output=True, text=True)
    paths = [p for p in out.stdout.split() if p.endswith("/bin/busybox")]
    if not paths:
        raise RuntimeError("busybox-static is not installed (apt-get install busybox-static)")
    return paths[0]


def _build_initrd(final: Path) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=".initrd-", dir=final.parent))
    try:
        root = tmp / "root"
        for d in ("bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "root"):
            (root / d).mkdir(parents=True)
        shutil.copy(_busybox(), root / "bin/busybox")
        (root / "init").write_text(INIT_SCRIPT)
        (root / "init").chmod(0o755)
        (root / "bin/busybox").chmod(0o755)
        files = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
        # -R 0:0: files owned by root inside the guest whoever builds the image
        cpio = subprocess.run(
            ["cpio", "-o", "-H", "newc", "--quiet", "-R", "0:0"],
            cwd=root,
            input=("\n".join(files) + "\n").encode(),
            capture_output=True,
            check=True,
        )
        (tmp / "initrd.gz").write_bytes(gzip.compress(cpio.stdout, 6))
        shutil.rmtree(root)
        _publish(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def ensure_guest_image() -> tuple[str, str]:
    """Return (kernel_path, initrd_path), building them on first use."""
    cache = cache_dir()
    kdir = cache / "kernel"
    # The initrd dir is keyed by a hash of /init, so editing the script rebuilds it.
    idir = cache / f"initrd-{hashlib.sha256(INIT_SCRIPT.encode()).hexdigest()[:12]}"
    if not (kdir / "vmlinuz").exists():
        _build_kernel(kdir)
    if not (idir / "initrd.gz").exists():
        _build_initrd(idir)
    return str(kdir / "vmlinuz"), str(idir / "initrd.gz")


def guest_xml(
    name: str,
    kernel: str,
    initrd: str,
    mem_mib: int = 128,
    vcpus: int = 1,
    busy: bool = False,
    serial: bool = True,
    uuid: str | None = None,
    display: str | None = None,
    boot_args: str = "",
) -> str:
    """Minimal direct-kernel-boot TCG domain (nested KVM is unreliable on CI).

    display: None for no screen at all (the default); "vnc" adds a VGA card and VNC
    graphics listening on 127.0.0.1 (autoport) inside the host; "vnc:/PATH" the same
    on a unix socket at PATH. Such a guest has its kernel console on tty0 as well as
    ttyS0 (the serial port stays /dev/console) and a shell on tty1."""
    E = etree.SubElement
    dom = etree.Element("domain", type="qemu")
    E(dom, "name").text = name
    if uuid:
        E(dom, "uuid").text = str(uuid)
    E(dom, "memory", unit="MiB").text = str(int(mem_mib))
    E(dom, "vcpu").text = str(int(vcpus))
    os_ = E(dom, "os")
    E(os_, "type", arch="x86_64", machine="pc").text = "hvm"
    E(os_, "kernel").text = kernel
    E(os_, "initrd").text = initrd
    consoles = "console=tty0 console=ttyS0 vtui.tty1" if display else "console=ttyS0"
    extra = (" vtui.busy" if busy else "") + (f" {boot_args}" if boot_args else "")
    E(os_, "cmdline").text = f"{consoles} panic=-1 quiet{extra}"
    E(dom, "on_poweroff").text = "destroy"
    E(dom, "on_reboot").text = "restart"
    E(dom, "on_crash").text = "destroy"
    dev = E(dom, "devices")
    E(dev, "emulator").text = "/usr/bin/qemu-system-x86_64"
    E(dev, "controller", type="usb", model="none")
    if serial:
        E(E(dev, "serial", type="pty"), "target", port="0")
        E(E(dev, "console", type="pty"), "target", type="serial", port="0")
    if display:
        _add_display(dev, display)
    E(dev, "memballoon", model="none")
    return etree.tostring(dom, pretty_print=True, encoding="unicode")


def _add_display(devices: etree._Element, display: str) -> None:
    kind, _, socket = display.partition(":")
    if kind != "vnc":
        raise ValueError(f"unknown lab display {display!r} (vnc or vnc:/socket/path)")
    E = etree.SubElement
    if socket:
        graphics = E(devices, "graphics", type="vnc")
        E(graphics, "listen", type="socket", socket=socket)
    else:
        graphics = E(devices, "graphics", type="vnc", autoport="yes", listen="127.0.0.1")
        E(graphics, "listen", type="address", address="127.0.0.1")
    E(E(devices, "video"), "model", type="vga", vram="16384", heads="1")
