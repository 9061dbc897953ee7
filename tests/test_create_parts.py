"""The parts of guest creation that need no host: password hashes, the seed image,
cloud-init documents, the OS database (Debian's osinfo-db, and the built-in list
without it), device models, names, MACs, SSH keys and the device element builders."""

from __future__ import annotations

import json
import os
import warnings

import pytest
from lxml import etree

from vtui.core.errors import VtuiError
from vtui.core.guests.create import (
    BUILTIN,
    CloudInitAnswer,
    device_models,
    load_os_database,
    mac_problem,
    name_problem,
    read_key_file,
    read_seed_iso,
    seed_iso,
    sha512_crypt,
    ssh_key_problem,
)
from vtui.core.guests.create.cloud_init import network_problem, seed_files
from vtui.core.guests.devices import (
    channel_element,
    disk_element,
    graphics_element,
    interface_element,
    next_target,
    rng_element,
    serial_console_elements,
    target_name,
)
from vtui.core.guests.macs import random_mac

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHb4dyYz1PeQT5sWhFq9YNVN9mrTh9PBcdRV7Y+Mm7pQ me@here"


def test_sha512_crypt_matches_the_published_vectors_and_libc():
    assert sha512_crypt("Hello world!", "saltstring") == (
        "$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1"
    )
    assert sha512_crypt("Hello world!", "saltstringsaltstring", 10000) == (
        "$6$rounds=10000$saltstringsaltst$OW1/O6BYHV6BcXZu8QVeXbDWra3Oeqh0sbHbbMCVNSnCM/Urjm"
        "M0Dp8vOuZeHBy/YTBmSK6H9qs/y3RnOaw5v."
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = pytest.importorskip("crypt")  # libc's own, while Python still has it
    for password in ("", "a", "x" * 200, "pässwörd ✓"):
        hashed = sha512_crypt(password)
        assert hashed.startswith("$6$") and crypt.crypt(password, hashed) == hashed


def test_seed_image_has_the_cidata_label_and_the_files_by_name():
    files = {"user-data": b"#cloud-config\n{}\n", "meta-data": b"{}", "network-config": b"{}"}
    image = seed_iso(files)
    assert len(image) % 2048 == 0
    assert read_seed_iso(image) == ("cidata", files)


def test_cloud_config_is_json_so_nothing_typed_escapes_its_string():
    answer = CloudInitAnswer(
        user="ann",
        password="clear-text-pw",
        packages=['nginx"\nruncmd: [reboot]'],
        static_address="10.0.0.5/24",
        gateway="10.0.0.1",
        dns=["10.0.0.1"],
    )
    seed = seed_files(answer, "web", [KEY], "52:54:00:aa:bb:cc")
    header, _, body = seed.user_data.decode().partition("\n")
    assert header == "#cloud-config"
    config = json.loads(body)
    assert config["packages"] == ['nginx"\nruncmd: [reboot]'] and "runcmd" not in config
    user = config["users"][1]
    assert user["name"] == "ann" and user["ssh_authorized_keys"] == [KEY]
    assert user["passwd"].startswith("$6$") and "clear-text-pw" not in json.dumps(config).replace(
        user["passwd"], ""
    )
    network = json.loads(seed.network_config)
    assert network["ethernets"]["primary"]["match"] == {"macaddress": "52:54:00:aa:bb:cc"}
    assert network["ethernets"]["primary"]["routes"] == [{"to": "0.0.0.0/0", "via": "10.0.0.1"}]
    assert json.loads(seed.meta_data)["local-hostname"] == "web"
    assert seed_files(CloudInitAnswer(), "web", [], "").network_config is None  # DHCP


def test_static_network_answers_are_checked():
    assert network_problem(CloudInitAnswer(static_address="10.0.0.5")).endswith(
        "needs its prefix (e.g. /24)"
    )
    assert "is outside 10.0.0.0/24" in network_problem(
        CloudInitAnswer(static_address="10.0.0.5/24", gateway="10.0.1.1")
    )
    assert network_problem(CloudInitAnswer(gateway="10.0.0.1")).startswith("a gateway or DNS")
    assert network_problem(CloudInitAnswer(static_address="fd00::5/64", gateway="fd00::1")) == ""


def test_ssh_keys_are_checked_and_read(tmp_path):
    assert ssh_key_problem(KEY) == ""
    assert ssh_key_problem("ssh-rsa notbase64!") == "the ssh-rsa key's data is not base64"
    assert "names another key type" in ssh_key_problem(KEY.replace("ssh-ed25519", "ssh-rsa", 1))
    assert ssh_key_problem("hello").startswith("not an SSH public key")
    good = tmp_path / "id.pub"
    good.write_text(f"# mine\n{KEY}\n\n")
    assert read_key_file(str(good)) == [KEY]
    private = tmp_path / "id"
    private.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    with pytest.raises(ValueError, match="is a private key: give its .pub file"):
        read_key_file(str(private))
    with pytest.raises(ValueError, match=f"cannot read SSH key file {tmp_path}: Is a directory"):
        read_key_file(str(tmp_path))


def test_names_and_macs():
    assert name_problem("web-01") == "" and name_problem("web 01 é") == ""
    for bad, part in [("a/b", "contains /"), ("<x>", "contains <"), ("it's", "contains '"),
                      ("a&b", "contains &"), ('"q"', 'contains "'), ("", "needs a name"),
                      (" web", "starts or ends with a space"), ("a\tb", "control character")]:  # fmt: skip
        assert part in name_problem(bad), bad
    assert mac_problem("52:54:00:AB:cd:01") == "" and mac_problem("52-54-00-ab-cd-01") == ""
    assert "multicast" in mac_problem("01:00:5e:00:00:01")
    assert "six hex pairs" in mac_problem("52:54:00:ab:cd")
    taken = {f"52:54:00:00:00:{i:02x}" for i in range(256)}
    mac = random_mac(taken)
    assert mac.startswith("52:54:00:") and mac not in taken and mac_problem(mac) == ""


def test_the_built_in_list_is_there_without_osinfo():
    db = load_os_database("/nonexistent/osinfo")
    assert [e.id for e in db.entries.values()] == [e.id for e in BUILTIN]
    assert db.source == "built-in list (no osinfo database found)" and not db.from_osinfo
    modern = device_models(db.find(""), "q35")
    assert (modern.disk_bus, modern.net_model, modern.cdrom_bus) == ("virtio", "virtio", "sata")
    assert device_models(db.find("windows"), "q35").disk_bus == "sata"
    old = device_models(db.find("linux-old"), "pc")
    assert (old.disk_bus, old.net_model, old.balloon) == ("ide", "e1000", "none")
    assert "any OS drives them" in old.reason


@pytest.mark.skipif(
    not os.path.isdir("/usr/share/osinfo/os"), reason="Debian's osinfo-db is not installed"
)
def test_osinfo_database_gives_resources_and_inherited_devices():
    db = load_os_database("/usr/share/osinfo")
    assert db.from_osinfo and db.source.startswith("osinfo-db ")
    debian = db.find("debian11")
    assert debian is not None and debian.osinfo_id == "http://debian.org/debian/11"
    assert debian.min_memory == 1024**3 and debian.recommended_disk == 20 * 1024**3
    # debian 11 lists no virtio disk itself: it inherits it from debian 9 through 10
    assert debian.virtio_disk and debian.virtio_net and debian.q35
    assert debian.tree_for("x86_64").kernel.endswith("/linux")
    windows = db.find("win10")
    assert not windows.virtio_disk and windows.e1000e and windows.min_memory == 2 * 1024**3
    assert device_models(windows, "q35").reason.startswith(
        "Microsoft Windows 10 has no virtio drivers"
    )


def test_device_builders_make_the_expected_elements():
    assert [target_name("virtio", i) for i in (0, 1, 25, 26, 27)] == [
        "vda",
        "vdb",
        "vdz",
        "vdaa",
        "vdab",
    ]
    assert next_target("sata", ["sda", "vda"]) == "sdb" and next_target("ide", []) == "hda"
    disk = disk_element("vda", path="/p/a b.qcow2", format="qcow2")
    assert etree.tostring(disk).decode() == (
        '<disk type="file" device="disk"><driver name="qemu" type="qcow2" discard="unmap"/>'
        '<source file="/p/a b.qcow2"/><target dev="vda" bus="virtio"/></disk>'
    )
    lvm = disk_element("sda", "sata", path="/dev/vg/x", format="raw", source_type="block")
    assert lvm.find("source").get("dev") == "/dev/vg/x"
    direct = interface_element("macvtap", "eth0", mac="52:54:00:00:00:01", model="e1000")
    assert direct.get("type") == "direct" and direct.find("source").attrib == {
        "dev": "eth0",
        "mode": "bridge",
    }
    with pytest.raises(VtuiError, match="unknown interface type 'tunnel'"):
        interface_element("tunnel", "x")
    assert graphics_element("vnc").get("listen") == "127.0.0.1"
    serial, console = serial_console_elements()
    assert (serial.tag, console.find("target").get("type")) == ("serial", "serial")
    assert channel_element().find("target").get("name") == "org.qemu.guest_agent.0"
    assert rng_element().find("backend").text == "/dev/urandom"
