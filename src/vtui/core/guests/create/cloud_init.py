"""cloud-init's NoCloud seed from the form's answers: user-data (#cloud-config),
meta-data and network-config, plus reading the SSH public keys they carry.

The documents are written as JSON, which is YAML too (cloud-init reads them with a
YAML parser): nothing the user typed can break out of its string. A password is
hashed (SHA-512 crypt) before it is put in; the clear text goes nowhere."""

from __future__ import annotations

import base64
import binascii
import glob
import ipaddress
import json
import os
import uuid
from dataclasses import dataclass

from vtui.core.guests.create.answers import CloudInitAnswer
from vtui.core.guests.create.passwords import sha512_crypt

KEY_TYPES = (
    "ssh-ed25519",
    "ssh-rsa",
    "ecdsa-sha2-nistp256",
    "ecdsa-sha2-nistp384",
    "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com",
    "sk-ecdsa-sha2-nistp256@openssh.com",
    "ssh-dss",
)
MAX_KEY_FILE = 64 * 1024


@dataclass(frozen=True, slots=True)
class SeedFiles:
    user_data: bytes
    meta_data: bytes
    network_config: bytes | None  # None: cloud-init's default (DHCP on the first NIC)

    def files(self) -> dict[str, bytes]:
        found = {"user-data": self.user_data, "meta-data": self.meta_data}
        if self.network_config is not None:
            found["network-config"] = self.network_config
        return found


def ssh_key_problem(line: str) -> str:
    """Why `line` is not one OpenSSH public key ("" when it is)."""
    parts = line.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        shown = line if len(line) < 40 else line[:37] + "..."
        return f"not an SSH public key: {shown!r} (expected e.g. 'ssh-ed25519 AAAA... comment')"
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return f"the {parts[0]} key's data is not base64"
    length = int.from_bytes(blob[:4], "big") if len(blob) >= 4 else -1
    if blob[4 : 4 + length].decode(errors="replace") != parts[0]:
        return f"the {parts[0]} key's data is damaged (it names another key type)"
    return ""


def read_key_file(path: str) -> list[str]:
    """The public keys in a local file (one per line, # comments skipped). Raises
    ValueError with one line when it is unreadable or holds no valid key."""
    shown = os.path.expanduser(path)
    try:
        with open(shown, encoding="utf-8") as f:
            text = f.read(MAX_KEY_FILE + 1)
    except OSError as exc:
        raise ValueError(f"cannot read SSH key file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ValueError(f"SSH key file {path} is not text (a private key in binary?)") from None
    if "PRIVATE KEY" in text:
        raise ValueError(f"{path} is a private key: give its .pub file")
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        raise ValueError(f"SSH key file {path} is empty")
    for line in lines:
        problem = ssh_key_problem(line)
        if problem:
            raise ValueError(f"{path}: {problem}")
    return lines


def local_public_keys(home: str | None = None) -> list[str]:
    """~/.ssh/*.pub on the machine vtui runs on, for the form to offer."""
    directory = os.path.join(home or os.path.expanduser("~"), ".ssh")
    return sorted(glob.glob(os.path.join(glob.escape(directory), "*.pub")))


def network_problem(answer: CloudInitAnswer) -> str:
    """Why the static address answers do not hold together ("" when they do)."""
    if not answer.static_address:
        return "a gateway or DNS server without a static address" if answer.gateway else ""
    try:
        interface = ipaddress.ip_interface(answer.static_address.strip())
    except ValueError:
        return f"static address {answer.static_address!r} is not an address/prefix like 192.168.122.50/24"
    if interface.network.prefixlen == interface.max_prefixlen:
        return f"static address {answer.static_address!r} needs its prefix (e.g. /24)"
    if answer.gateway:
        try:
            gateway = ipaddress.ip_address(answer.gateway.strip())
        except ValueError:
            return f"gateway {answer.gateway!r} is not an IP address"
        if gateway not in interface.network:
            return f"gateway {gateway} is outside {interface.network}"
    for server in answer.dns:
        try:
            ipaddress.ip_address(server.strip())
        except ValueError:
            return f"DNS server {server!r} is not an IP address"
    return ""


def _json(document: dict) -> bytes:
    return json.dumps(document, indent=2, ensure_ascii=True).encode() + b"\n"


def user_data(answer: CloudInitAnswer, hostname: str, keys: list[str]) -> bytes:
    if answer.user_data.strip():
        return answer.user_data.encode()
    config: dict = {"hostname": hostname, "preserve_hostname": False}
    if answer.user:
        user: dict = {"name": answer.user, "sudo": "ALL=(ALL) NOPASSWD:ALL"}
        if keys:
            user["ssh_authorized_keys"] = keys
        if answer.password:
            user["passwd"] = sha512_crypt(answer.password)
            user["lock_passwd"] = False
        config["users"] = ["default", user]
    elif keys:
        config["ssh_authorized_keys"] = keys  # the image's default user gets them
    config["ssh_pwauth"] = bool(answer.password)
    if answer.packages:
        config["package_update"] = True
        config["packages"] = list(answer.packages)
    return b"#cloud-config\n" + _json(config)


def network_config(answer: CloudInitAnswer, mac: str) -> bytes | None:
    """Network config v2 for the interface with `mac`; None for plain DHCP."""
    if not answer.static_address or not mac:
        return None
    interface = ipaddress.ip_interface(answer.static_address.strip())
    ethernet: dict = {"match": {"macaddress": mac}, "addresses": [str(interface)]}
    if answer.gateway:
        default = "0.0.0.0/0" if interface.version == 4 else "::/0"
        ethernet["routes"] = [{"to": default, "via": answer.gateway.strip()}]
    if answer.dns:
        ethernet["nameservers"] = {"addresses": [s.strip() for s in answer.dns]}
    return _json({"version": 2, "ethernets": {"primary": ethernet}})


def seed_files(answer: CloudInitAnswer, guest: str, keys: list[str], mac: str) -> SeedFiles:
    """The seed for a guest called `guest`; `keys` are the checked public keys
    (pasted and read from files), `mac` the interface's MAC ("" without one)."""
    hostname = answer.hostname.strip() or guest
    meta = {"instance-id": f"{guest}-{uuid.uuid4().hex[:12]}", "local-hostname": hostname}
    return SeedFiles(
        user_data=user_data(answer, hostname, keys),
        meta_data=_json(meta),
        network_config=network_config(answer, mac),
    )
