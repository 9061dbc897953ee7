"""`vtui create`: the dry run on the demo host (libvirt's test driver), real guests
on the lab's libvirtd (a direct-kernel-boot guest that boots to its ready line, an
ISO install with an upload), and bad input refused with one line each, exit 1."""

from __future__ import annotations

import json
import shlex
import time

import libvirt
import pytest
from lxml import etree

from tests.lab.console import SerialConsole
from tests.lab.disks import shell
from tests.lab.events import ensure_event_loop
from tests.lab.pools import make_pool, remove_pool, volumes_in
from vtui.batch import BATCH_COMMANDS, main
from vtui.core.guests.create import seed_iso


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_create_is_registered():
    assert "create" in BATCH_COMMANDS


def test_dry_run_prints_the_xml_and_the_virt_install_line(capsys):
    argv = ["create", "--demo", "--name", "new web $1", "--memory", "2G", "--vcpus", "2"]
    argv += ["--disk", "pool=default,size=20G,bus=sata", "--network", "default,model=e1000"]
    argv += ["--pxe", "--dry-run"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    xml, _, rest = out.partition("\n# the same with virt-install:\n")
    root = etree.fromstring(xml.encode())
    assert root.findtext("name") == "new web $1" and root.findtext("vcpu") == "2"
    assert root.find("memory").text == str(2 * 1024 * 1024)
    assert root.find("devices/disk/target").get("bus") == "sata"
    assert root.find("devices/interface/model").get("type") == "e1000"
    assert [b.get("dev") for b in root.iterfind("os/boot")] == ["network", "hd"]
    args = shlex.split(rest.strip())  # quoted for a shell: the name survives
    assert (
        args[:2] == ["virt-install", "--connect"] and args[args.index("--name") + 1] == "new web $1"
    )
    assert "size=20,format=qcow2,bus=sata" in args[args.index("--disk") + 1]
    conn = libvirt.openReadOnly("test:///default")  # nothing was made (another private copy)
    conn.close()


def test_dry_run_json(capsys):
    code, out, err = run(capsys, "create", "--demo", "--name", "n1", "--pxe", "--dry-run", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["format_version"] == 1 and doc["dry_run"] is True and doc["host"] == "demo"
    assert doc["xml"].startswith("<domain") and doc["virt_install"].startswith("virt-install ")
    assert any("virtio" in note for note in doc["notes"])


def test_bad_options_are_one_line_each(capsys):
    code, _out, err = run(capsys, "create", "--demo", "--name", "a/b", "--memory", "0", "--pxe")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines == [
        "vtui: demo: cannot create guest a/b: name 'a/b' contains /: a name cannot contain any of < & ' \" /",
        "vtui: demo: cannot create guest a/b: memory must be more than 0",
    ]
    code, _out, err = run(capsys, "create", "--demo", "--name", "web-01", "--pxe", "--dry-run")
    assert (
        code == 1
        and err.strip()
        == "vtui: demo: cannot create guest web-01: demo already has a guest called 'web-01'"
    )
    code, _out, err = run(
        capsys, "create", "--demo", "--name", "x", "--pxe", "--disk", "pool=default,size=lots"
    )
    assert code == 2 and err.startswith("vtui: create: --disk: not a size: 'lots'")
    code, _out, err = run(capsys, "create", "--demo", "--name", "x")
    assert code == 2 and "say how the guest gets its OS" in err


# -- the lab -----------------------------------------------------------------------------------
@pytest.fixture
def lab_pool(local_host):
    name = make_pool(local_host.uri)
    yield name
    remove_pool(local_host.uri, name)


@pytest.fixture
def made_guests(local_host):
    names: list[str] = []
    yield names
    conn = libvirt.open(local_host.uri)
    try:
        for name in names:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            if dom.isActive():
                dom.destroy()
            dom.undefine()
    finally:
        conn.close()


def shell_answers(console: SerialConsole, command: str, wanted: str, boot: float = 90) -> str:
    """Type a shell line on the guest's console every few seconds until its output
    holds `wanted`: the guest may still be booting (what is typed before its shell runs
    is lost, whole or in part). Fails after `boot` seconds with the last output."""
    deadline = time.monotonic() + boot
    answer = ""
    while time.monotonic() < deadline:
        try:
            answer = shell(console, command, timeout=5)
        except AssertionError as exc:
            answer = str(exc)
        if wanted in answer:
            return answer
    raise AssertionError(f"{command!r}: {wanted!r} not seen in {boot:.0f} s; last: {answer!r}")


def test_kernel_boot_guest_created_started_and_booting(
    local_host, guest_image, made_guests, capsys
):
    kernel, initrd = guest_image
    name = "vtui-cb-kernel"
    made_guests.append(name)
    argv = ["create", "-c", local_host.uri, "--name", name, "--memory", "128", "--os", "linux-old"]
    argv += ["--kernel", kernel, "--initrd", initrd, "--cmdline", "console=ttyS0 quiet"]
    argv += ["--disk", "none", "--network", "none", "--virt-type", "qemu", "--start", "--json"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    doc = json.loads(out)
    assert doc["started"] is True and doc["created"] == [
        {"kind": "guest", "name": name, "pool": None, "path": None, "role": None}
    ]
    ensure_event_loop()
    conn = libvirt.open(local_host.uri)
    try:
        dom = conn.lookupByName(name)
        assert dom.UUIDString() == doc["uuid"] and dom.isActive()
        console = SerialConsole(conn, dom)
        try:
            # The boot may be past its ready line by now (and a reset this early in a
            # TCG boot could leave the guest silent), so ask its shell until it answers:
            # the kernel command line it reports is the one given to vtui create.
            shell_answers(console, "cat /proc/cmdline", "console=ttyS0 quiet")
        finally:
            console.close()
    finally:
        conn.close()


def test_iso_upload_and_new_disk(local_host, lab_pool, made_guests, tmp_path, capsys):
    iso = tmp_path / "setup.iso"
    iso.write_bytes(seed_iso({"hello": b"hi"}))
    name = "vtui-cb-iso"
    made_guests.append(name)
    argv = ["create", "-c", local_host.uri, "--name", name, "--iso-file", str(iso)]
    argv += ["--disk", f"pool={lab_pool},size=1G", "--network", "none", "--virt-type", "qemu"]
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    assert out.startswith(f"{name} on ") and "created (defined, not started)" in out
    assert f"  volume {lab_pool}/setup.iso (image): " in out
    assert volumes_in(local_host.uri, lab_pool) == ["setup.iso", f"{name}.qcow2"]


def test_a_network_install_over_https_reaches_the_server():
    # batch commands keep Python's TLS unloaded for speed, except create: it fetches
    # install trees itself (in a fresh process, as a script runs it)
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-m", "vtui", "create", "--demo", "--name", "tls-check"]
        + ["--location", "https://127.0.0.1:9/tree", "--disk", "pool=default,size=4G"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "cannot fetch https://127.0.0.1:9/tree/.treeinfo" in out.stderr
    assert "unknown url type" not in out.stderr and "Connection refused" in out.stderr
