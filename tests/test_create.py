"""Creating guests through the core against the lab's real libvirtd (TCG guests): a
direct-kernel-boot guest that boots to the ready line, a cloud-image overlay with its
cloud-init seed read back from the host, an ISO install layout, a network install
tree served on 127.0.0.1, the remote host through vtui's SSH tunnel (with uploads),
every bad input refused before anything changes, and a failure after the volumes
were made leaving the host exactly as it was."""

from __future__ import annotations

import asyncio
import functools
import http.server
import shutil
import threading
from dataclasses import replace

import libvirt
import pytest
from lxml import etree

from tests.lab.console import SerialConsole
from tests.lab.events import ensure_event_loop
from tests.lab.images import READY_LINE
from tests.lab.pools import make_pool, remove_pool, volumes_in
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.guests.create import (
    CLOUD_IMAGE,
    EXISTING_DISK,
    IMPORT,
    ISO,
    KERNEL,
    MACVTAP,
    NEW_DISK,
    NO_DISK,
    NO_NETWORK,
    PXE,
    URL,
    CloudInitAnswer,
    CreateRefused,
    DiskAnswer,
    GuestAnswers,
    NetworkAnswer,
    SourceAnswer,
    create_guest,
    domain_xml,
    plan_guest,
    read_choices,
    read_seed_iso,
    seed_iso,
    virt_install_line,
)
from vtui.core.storage import Transfers, create_volume, start_download, start_upload

pytestmark = pytest.mark.lab
MiB = 1024 * 1024
GiB = 1024 * MiB
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb4dyYz1PeQT5sWhFq9YNVN9mrTh9PBcdRV7Y+Mm7pQ vtui@test"


def libvirt_call(uri: str, fn):
    conn = libvirt.open(uri)
    try:
        return fn(conn)
    finally:
        conn.close()


def host_state(uri: str) -> tuple:
    """Guests, volumes (with their pools) and networks: what a failed creation must not change."""

    def read(conn):
        guests = sorted(d.name() for d in conn.listAllDomains(0))
        volumes = []
        for pool in conn.listAllStoragePools(0):
            if pool.isActive():
                pool.refresh(0)
                volumes += [f"{pool.name()}/{v.name()}" for v in pool.listAllVolumes(0)]
        networks = sorted(n.name() for n in conn.listAllNetworks(0))
        return guests, sorted(volumes), networks

    return libvirt_call(uri, read)


def remove_guests(uri: str, names: list[str]) -> None:
    def remove(conn):
        for name in names:
            try:
                dom = conn.lookupByName(name)
            except libvirt.libvirtError:
                continue
            if dom.isActive():
                dom.destroy()
            if dom.isPersistent():
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_NVRAM)

    libvirt_call(uri, remove)


@pytest.fixture
def guests(local_host):
    """Names of the guests a test makes; removed afterwards (before its pools go)."""
    made: list[str] = []
    yield made
    remove_guests(local_host.uri, made)


def kernel_answers(name: str, guest_image, **changes) -> GuestAnswers:
    kernel, initrd = guest_image
    answers = GuestAnswers(
        name=name,
        memory=128 * MiB,
        source=SourceAnswer(
            kind=KERNEL, kernel=kernel, initrd=initrd, cmdline="console=ttyS0 quiet"
        ),
        disk=DiskAnswer(mode=NO_DISK),
        network=NetworkAnswer(kind=NO_NETWORK),
        os="linux-old",
        domain_type="qemu",  # TCG: nested KVM is unreliable on CI machines
    )
    for key, value in changes.items():
        setattr(answers, key, value)
    return answers


def console_of(uri: str, name: str):
    """(connection, domain, console) for a guest; the caller closes the connection."""
    ensure_event_loop()
    conn = libvirt.open(uri)
    dom = conn.lookupByName(name)
    return conn, dom, SerialConsole(conn, dom)


# -- direct kernel boot --------------------------------------------------------------------------
async def test_direct_kernel_boot_guest_boots_to_its_ready_line(
    host, local_host, guest_image, guests
):
    answers = kernel_answers("vtui-c-kernel", guest_image, start=True, description="made by a test")
    guests.append(answers.name)
    plan = await plan_guest(host, answers)
    assert "QEMU TCG emulation (asked for): the guest runs much slower than with KVM" in plan.notes
    root = etree.fromstring(domain_xml(plan).encode())
    assert root.get("type") == "qemu" and root.findtext("os/kernel") == guest_image[0]
    assert root.find("devices/serial[@type='pty']") is not None
    assert root.find("devices/console/target").get("type") == "serial"
    line = virt_install_line(plan)
    assert line.startswith("virt-install --connect ") and f"kernel={guest_image[0]}" in line
    assert "--virt-type qemu" in line and "--disk none" in line and "--network none" in line

    steps: list[str] = []
    created = await create_guest(host, plan, paused=True, progress=lambda t, _x: steps.append(t))
    assert created.started and [m.kind for m in created.made] == ["guest"]
    assert steps[0] == "defining guest vtui-c-kernel" and steps[-1] == "created vtui-c-kernel"
    conn, dom, console = await asyncio.to_thread(console_of, local_host.uri, answers.name)
    try:
        assert dom.isActive() and dom.isPersistent()
        await asyncio.to_thread(dom.resume)
        await asyncio.to_thread(console.expect, READY_LINE, 60)
        kept = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
        assert kept.findtext("description") == "made by a test"
    finally:
        console.close()
        conn.close()


# -- cloud image ------------------------------------------------------------------------------
async def test_cloud_image_overlay_and_seed_hold_what_was_asked(
    host, local_host, pool, guests, tmp_path
):
    base = await create_volume(host, pool, "base.qcow2", 64 * MiB, format="qcow2")
    key_file = tmp_path / "id_test.pub"
    key_file.write_text(KEY.replace("vtui@test", "from-file") + "\n")
    other_key = KEY.replace("AAAAIHb4", "AAAAIHb5").replace("vtui@test", "pasted")
    answers = GuestAnswers(
        name="vtui-c-cloud",
        domain_type="qemu",
        source=SourceAnswer(kind=CLOUD_IMAGE, volume=f"{pool}/base.qcow2"),
        cloud_init=CloudInitAnswer(
            hostname="web-7",
            user="ann",
            ssh_keys=[other_key],
            ssh_key_files=[str(key_file)],
            password="s3cret pass",
            packages=["nginx"],
            static_address="10.78.40.5/24",
            gateway="10.78.40.1",
        ),
        disk=DiskAnswer(mode=NEW_DISK, pool=pool, size=1 * GiB),
        network=NetworkAnswer(kind=MACVTAP, source="eth0"),  # the lab host's interface
    )
    guests.append(answers.name)
    plan = await plan_guest(host, answers)
    created = await create_guest(host, plan)
    assert not created.started
    made = {m.role: m for m in created.made if m.kind == "volume"}
    assert set(made) == {"disk", "seed"}

    overlay = await asyncio.to_thread(
        libvirt_call,
        local_host.uri,
        lambda c: c.storageVolLookupByPath(made["disk"].path).XMLDesc(0),
    )
    overlay = etree.fromstring(overlay.encode())
    assert overlay.findtext("backingStore/path") == base.path
    assert int(overlay.findtext("capacity")) == 1 * GiB
    dom_xml = await asyncio.to_thread(
        libvirt_call, local_host.uri, lambda c: c.lookupByName(answers.name).XMLDesc(0)
    )
    root = etree.fromstring(dom_xml.encode())
    disk = root.find("devices/disk[@device='disk']")
    assert disk.find("source").get("file") == made["disk"].path
    assert disk.find("target").get("bus") == "virtio"  # modern Linux by default
    cdrom = root.find("devices/disk[@device='cdrom']")
    assert cdrom.find("source").get("file") == made["seed"].path

    # the seed, read back from the host with a download and opened with pycdlib
    target = tmp_path / "seed.iso"
    download = await start_download(host, pool, made["seed"].name, str(target), jobs=Transfers())
    await download.wait()
    label, files = read_seed_iso(target.read_bytes())
    assert label == "cidata" and set(files) == {"user-data", "meta-data", "network-config"}
    user_data = files["user-data"].decode()
    assert user_data.startswith("#cloud-config\n")
    assert '"name": "ann"' in user_data and '"hostname": "web-7"' in user_data
    assert "from-file" in user_data and "pasted" in user_data and '"nginx"' in user_data
    assert "s3cret" not in user_data and '"passwd": "$6$' in user_data
    assert '"local-hostname": "web-7"' in files["meta-data"].decode()
    network = files["network-config"].decode()
    mac = root.find("devices/interface[@type='direct']/mac").get("address")
    assert '"10.78.40.5/24"' in network and f'"macaddress": "{mac}"' in network


# -- ISO -------------------------------------------------------------------------------------
async def test_iso_install_makes_a_qcow2_disk_and_a_cd(host, local_host, pool, guests, tmp_path):
    iso = tmp_path / "installer.iso"
    iso.write_bytes(seed_iso({"README": b"an installer"}))
    upload = await start_upload(host, pool, str(iso), jobs=Transfers())
    await upload.wait()
    answers = GuestAnswers(
        name="vtui-c-iso",
        domain_type="qemu",
        os="windows",
        source=SourceAnswer(kind=ISO, volume=f"{pool}/installer.iso"),
        disk=DiskAnswer(mode=NEW_DISK, pool=pool, size=1 * GiB, format="qcow2"),
        network=NetworkAnswer(kind=NO_NETWORK),
        memory=2 * GiB,
    )
    guests.append(answers.name)
    plan = await plan_guest(host, answers)
    assert plan.models.disk_bus == "sata" and "no virtio drivers" in plan.models.reason
    await create_guest(host, plan)
    root = etree.fromstring(
        (
            await asyncio.to_thread(
                libvirt_call,
                local_host.uri,
                lambda c: c.lookupByName(answers.name).XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE),
            )
        ).encode()
    )
    disk = root.find("devices/disk[@device='disk']")
    assert disk.find("driver").get("type") == "qcow2"
    assert disk.find("target").get("bus") == "sata"
    assert disk.find("source").get("file").endswith(f"/{pool}/vtui-c-iso.qcow2")
    cdrom = root.find("devices/disk[@device='cdrom']")
    assert cdrom.find("target").get("bus") == "sata"  # q35: no IDE
    assert cdrom.find("source").get("file").endswith("/installer.iso")
    assert "q35" in root.find("os/type").get("machine")
    assert [b.get("dev") for b in root.iterfind("os/boot")] == ["hd", "cdrom"]
    assert root.find("devices/rng") is None  # Windows has no virtio RNG driver
    capacity = await asyncio.to_thread(
        libvirt_call, local_host.uri,
        lambda c: c.storageVolLookupByPath(disk.find("source").get("file")).info()[1],
    )  # fmt: skip
    assert capacity == 1 * GiB


# -- network install tree ----------------------------------------------------------------------
@pytest.fixture
def tree(tmp_path, guest_image):
    """An install tree on http://127.0.0.1 (vtui downloads from it, not the host)."""
    root = tmp_path / "tree"
    (root / "images/pxeboot").mkdir(parents=True)
    shutil.copy(guest_image[0], root / "images/pxeboot/vmlinuz")
    shutil.copy(guest_image[1], root / "images/pxeboot/initrd.img")
    (root / ".treeinfo").write_text(
        "[general]\nname = vtui test tree\n\n[images-x86_64]\n"
        "kernel = images/pxeboot/vmlinuz\ninitrd = images/pxeboot/initrd.img\n"
    )
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


async def test_network_install_boots_the_trees_kernel_once(host, local_host, pool, guests, tree):
    answers = kernel_answers(
        "vtui-c-url",
        ("", ""),
        source=SourceAnswer(kind=URL, url=tree, cmdline="quiet"),
        disk=DiskAnswer(mode=NEW_DISK, pool=pool, size=64 * MiB),
    )
    guests.append(answers.name)
    plan = await plan_guest(host, answers)
    assert plan.install_cmdline == "quiet console=ttyS0"
    created = await create_guest(host, plan, paused=True)
    assert created.started
    # the installer's kernel and initrd went to the pool for the first boot only
    assert await asyncio.to_thread(volumes_in, local_host.uri, pool) == ["vtui-c-url.qcow2"]
    conn, dom, console = await asyncio.to_thread(console_of, local_host.uri, answers.name)
    try:
        live = etree.fromstring(dom.XMLDesc(0).encode())
        assert live.findtext("os/cmdline") == "quiet console=ttyS0"
        assert live.findtext("on_reboot") == "destroy"
        await asyncio.to_thread(dom.resume)
        await asyncio.to_thread(console.expect, READY_LINE, 60)
        kept = etree.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE).encode())
        assert kept.find("os/kernel") is None and kept.find("os/boot").get("dev") == "hd"
    finally:
        console.close()
        conn.close()


# -- bad input ---------------------------------------------------------------------------------
async def test_each_bad_input_is_refused_before_anything_changes(
    host, local_host, pool, guest_image, make_guest, tmp_path
):
    existing = make_guest(local_host, start=False)
    before = await asyncio.to_thread(host_state, local_host.uri)
    choices = await read_choices(host)
    unreadable = tmp_path / "keys.pub"
    unreadable.mkdir()  # the tests run as root, who reads any file: a directory it cannot

    def cloud(**changes) -> GuestAnswers:
        answers = kernel_answers("vtui-c-bad", guest_image)
        answers.source = SourceAnswer(kind=CLOUD_IMAGE, volume=f"{pool}/nothing.qcow2")
        answers.disk = DiskAnswer(mode=NEW_DISK, pool=pool, size=GiB)
        for key, value in changes.items():
            setattr(answers, key, value)
        return answers

    cases = {
        f"already has a guest called {existing!r}": kernel_answers(existing, guest_image),
        "contains < &: a name cannot contain": kernel_answers("web<&1", guest_image),
        "contains /: a name cannot contain": kernel_answers("a/b", guest_image),
        "contains ' \"": kernel_answers("it's\"", guest_image),
        "memory must be more than 0": kernel_answers("vtui-c-bad", guest_image, memory=0),
        "is more than lab-a has": kernel_answers("vtui-c-bad", guest_image, memory=1 << 50),
        "vCPUs is more than lab-a has": kernel_answers("vtui-c-bad", guest_image, vcpus=4096),
        f"ISO: no volume 'missing.iso' in pool {pool!r}": kernel_answers(
            "vtui-c-bad", guest_image, source=SourceAnswer(kind=ISO, volume=f"{pool}/missing.iso")
        ),
        f"cloud image: no volume 'nothing.qcow2' in pool {pool!r}": cloud(),
        "disk image: /nonexistent/disk.img does not exist on the host": kernel_answers(
            "vtui-c-bad",
            guest_image,
            source=SourceAnswer(kind=IMPORT, volume="/nonexistent/disk.img"),
        ),
        f"pool {pool!r} has": kernel_answers(
            "vtui-c-bad",
            guest_image,
            disk=DiskAnswer(mode=NEW_DISK, pool=pool, size=1 << 50, format="raw"),
        ),  # fmt: skip
        f"cannot read SSH key file {unreadable}": cloud(
            cloud_init=CloudInitAnswer(ssh_key_files=[str(unreadable)])
        ),
        "cannot read SSH key file /nonexistent/key.pub: No such file": cloud(
            cloud_init=CloudInitAnswer(ssh_key_files=["/nonexistent/key.pub"])
        ),
        "not an SSH public key": cloud(cloud_init=CloudInitAnswer(ssh_keys=["hello there"])),
        "no storage pool called 'nopool'": kernel_answers(
            "vtui-c-bad", guest_image, disk=DiskAnswer(mode=NEW_DISK, pool="nopool")
        ),
        "no virtual network called 'nonet'": kernel_answers(
            "vtui-c-bad", guest_image, network=NetworkAnswer(source="nonet")
        ),
        "is a multicast address": kernel_answers(
            "vtui-c-bad", guest_image, network=NetworkAnswer(source="x", mac="01:00:5e:00:00:01")
        ),
        "lab-a offers no UEFI firmware": kernel_answers("vtui-c-bad", guest_image, firmware="efi"),
        "existing volume": kernel_answers(
            "vtui-c-bad", guest_image, disk=DiskAnswer(mode=EXISTING_DISK)
        ),
    }
    for expected, answers in cases.items():
        with pytest.raises(CreateRefused) as refused:
            await plan_guest(host, answers, choices)
        text = str(refused.value)
        assert "\n" not in text and expected in text, (expected, text)
        assert all("\n" not in p for p in refused.value.problems)
    assert await asyncio.to_thread(host_state, local_host.uri) == before


# -- a failure after the volumes were made ------------------------------------------------------
async def test_a_refused_definition_leaves_nothing_behind(
    host, local_host, pool, make_guest, guest_image, guests, tmp_path
):
    existing = make_guest(local_host, start=False)
    taken_uuid = await asyncio.to_thread(
        libvirt_call, local_host.uri, lambda c: c.lookupByName(existing).UUIDString()
    )
    image = tmp_path / "cloud.img"
    image.write_bytes(b"\xeb" * (2 * MiB))
    before = await asyncio.to_thread(host_state, local_host.uri)
    answers = GuestAnswers(
        name="vtui-c-dup",
        domain_type="qemu",
        uuid=taken_uuid,  # libvirt refuses a second guest with this UUID: after the volumes
        source=SourceAnswer(kind=CLOUD_IMAGE, local_file=str(image)),
        cloud_init=CloudInitAnswer(user="ann", ssh_keys=[KEY]),
        disk=DiskAnswer(mode=NEW_DISK, pool=pool, size=GiB),
        network=NetworkAnswer(kind=NO_NETWORK),
        memory=128 * MiB,
    )
    guests.append(answers.name)
    plan = await plan_guest(host, answers)
    steps: list[str] = []
    with pytest.raises(VtuiError) as failed:
        await create_guest(host, plan, progress=lambda t, _x: steps.append(t))
    message = str(failed.value)
    assert "cannot define guest vtui-c-dup" in message and taken_uuid in message
    assert message.endswith("(nothing was left behind)") and "\n" not in message
    assert any(s.startswith("uploading cloud.img") for s in steps)  # the volumes were made
    assert any(s.startswith("creating volume") for s in steps)
    assert steps[-1] == "removing what was made"
    assert await asyncio.to_thread(host_state, local_host.uri) == before


# -- the remote host, through vtui's SSH tunnel --------------------------------------------------
@pytest.mark.usefixtures("private_home")
async def test_remote_host_through_ssh_with_uploads(lab, guest_image, tmp_path):
    fleet = Fleet(interval=3600)
    remote = add_target(fleet, "lab-b", ssh_config=lab.ssh_config)
    assert await fleet.connect_all() == [] and remote.tunnel is not None
    pool = make_pool(lab["b"].uri)
    names = ["vtui-c-remote", "vtui-c-remote-boot"]
    try:
        image = tmp_path / "cloud.qcow2"
        image.write_bytes(b"\0" * MiB)
        answers = GuestAnswers(
            name=names[0],
            domain_type="qemu",
            source=SourceAnswer(kind=CLOUD_IMAGE, local_file=str(image)),
            cloud_init=CloudInitAnswer(user="bob", ssh_keys=[KEY], hostname="far"),
            disk=DiskAnswer(mode=NEW_DISK, pool=pool, size=GiB),
            network=NetworkAnswer(kind=NO_NETWORK),
        )
        uploads: list[str] = []
        plan = await plan_guest(remote, answers)
        created = await create_guest(
            remote, plan, progress=lambda t, x: uploads.append(t) if x is not None else None
        )
        assert uploads == [
            f"uploading cloud.qcow2 to {pool}/cloud.qcow2",
            f"uploading the cloud-init seed to {pool}/{names[0]}-cidata.iso",
        ]
        assert sorted(m.role for m in created.made) == ["", "disk", "image", "seed"]
        assert await asyncio.to_thread(volumes_in, lab["b"].uri, pool) == [
            "cloud.qcow2", f"{names[0]}-cidata.iso", f"{names[0]}.qcow2",
        ]  # fmt: skip

        boot = kernel_answers(names[1], guest_image, start=True)
        created = await create_guest(remote, await plan_guest(remote, boot), paused=True)
        conn, dom, console = await asyncio.to_thread(console_of, lab["b"].uri, names[1])
        try:
            await asyncio.to_thread(dom.resume)
            await asyncio.to_thread(console.expect, READY_LINE, 60)
        finally:
            console.close()
            conn.close()
    finally:
        await asyncio.to_thread(remove_guests, lab["b"].uri, names)
        remove_pool(lab["b"].uri, pool)
        await fleet.close()


# -- what the host offers decides --------------------------------------------------------------
async def test_without_kvm_the_guest_is_tcg_and_the_review_says_so(host, guest_image):
    choices = await read_choices(host)
    assert choices.caps is not None
    no_kvm = [
        replace(g, domain_types=tuple(t for t in g.domain_types if t != "kvm"))
        for g in choices.caps.guests
    ]
    choices.caps = replace(choices.caps, guests=tuple(no_kvm))  # a host without /dev/kvm
    answers = kernel_answers("vtui-c-tcg", guest_image, domain_type="")
    plan = await plan_guest(host, answers, choices)
    assert plan.domain_type == "qemu"
    assert (
        "QEMU TCG emulation (KVM is not available on lab-a): the guest runs much slower than with KVM"
        in plan.notes
    )
    assert etree.fromstring(domain_xml(plan).encode()).get("type") == "qemu"


async def test_import_and_pxe_plans(host, local_host, pool, guests):
    image = await create_volume(host, pool, "old.img", 64 * MiB, format="raw")
    imported = GuestAnswers(
        name="vtui-c-import", domain_type="qemu", os="linux-old",
        source=SourceAnswer(kind=IMPORT, volume=image.path),
        disk=DiskAnswer(bus="sata"), network=NetworkAnswer(kind=NO_NETWORK),
    )  # fmt: skip
    guests.append(imported.name)
    plan = await plan_guest(host, imported)
    assert [(d.device, d.bus, d.path, d.format) for d in plan.disks] == [
        ("disk", "sata", image.path, "raw")
    ]
    assert plan.volumes == [] and plan.boot == ["hd"]
    await create_guest(host, plan)
    # the disk is now in use: importing it into a second guest is refused
    again = replace(imported, name="vtui-c-import2")
    with pytest.raises(CreateRefused, match=f"disk image {image.path} is in use by vtui-c-import"):
        await plan_guest(host, again)

    pxe = GuestAnswers(
        name="vtui-c-pxe", domain_type="qemu",
        source=SourceAnswer(kind=PXE), disk=DiskAnswer(mode=NO_DISK),
        network=NetworkAnswer(kind=MACVTAP, source="eth0", model="e1000", mac="52:54:00:0c:0c:01"),
    )  # fmt: skip
    root = etree.fromstring(domain_xml(await plan_guest(host, pxe)).encode())
    assert [b.get("dev") for b in root.iterfind("os/boot")] == ["network"]
    interface = root.find("devices/interface")
    assert (
        interface.get("type") == "direct"
        and interface.find("mac").get("address") == "52:54:00:0c:0c:01"
    )
    assert interface.find("model").get("type") == "e1000"
    bridge = replace(pxe, network=NetworkAnswer(kind="bridge", source="eth0"))
    with pytest.raises(CreateRefused, match="eth0 is not a bridge"):
        await plan_guest(host, bridge)
