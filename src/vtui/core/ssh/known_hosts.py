"""known_hosts as OpenSSH keeps it: which files, which keys they trust for a host,
and saving a newly accepted key."""

from __future__ import annotations

import os
from pathlib import Path

import asyncssh


def known_hosts_files(settings) -> list[str]:
    """The known_hosts files asyncssh checks for these settings (config or default)."""
    files = settings.known_hosts
    if files is None:
        return []
    if isinstance(files, str | Path):
        files = [files]
    files = [os.path.expanduser(str(f)) for f in files]
    return files or [os.path.expanduser("~/.ssh/known_hosts")]


def user_known_hosts_file(settings) -> str:
    """Where an accepted key is saved: the config's first UserKnownHostsFile."""
    configured = settings.config.get("UserKnownHostsFile", ())
    if configured:
        return os.path.expanduser(str(configured[0]))
    return os.path.expanduser("~/.ssh/known_hosts")


def host_pattern(name: str, port: int) -> str:
    return name if port == 22 else f"[{name}]:{port}"


def trusted_keys(files: list[str], name: str, port: int) -> list[asyncssh.SSHKey]:
    keys: list[asyncssh.SSHKey] = []
    for path in files:
        if not os.path.isfile(path):
            continue
        try:
            trusted, ca_keys, *_ = asyncssh.match_known_hosts(
                path, name, "", None if port == 22 else port
            )
        except (OSError, ValueError):
            continue
        keys += [*trusted, *ca_keys]
    return keys


def save_host_key(path: str, name: str, port: int, key: asyncssh.SSHKey) -> None:
    """Append `name key` to a known_hosts file, as ssh does after 'yes'."""
    Path(path).parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    algorithm, blob = key.export_public_key().decode().split()[:2]
    with open(path, "a+", encoding="utf-8") as f:
        f.seek(0, os.SEEK_END)
        if f.tell():
            f.seek(f.tell() - 1)
            if f.read(1) != "\n":
                f.write("\n")
        f.write(f"{host_pattern(name, port)} {algorithm} {blob}\n")
