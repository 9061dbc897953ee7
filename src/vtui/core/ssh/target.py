"""What an SSH target is and how a tunnel asks its user: plain data, no asyncssh, so
parsing a host argument does not pay for importing the SSH stack."""

from __future__ import annotations

from typing import NamedTuple, Protocol


class Asker(Protocol):
    """How the tunnel asks its user; the app shows modals, scripts may refuse."""

    async def confirm_host_key(self, host: str, fingerprint: str, key_type: str) -> bool: ...

    async def secret(self, prompt: str) -> str | None:
        """A passphrase or password, or None if the user declined."""


class RefusingAsker:
    """For unattended use: unknown host keys are refused, no secrets are given."""

    async def confirm_host_key(self, host: str, fingerprint: str, key_type: str) -> bool:
        return False

    async def secret(self, prompt: str) -> str | None:
        return None


class SshTarget(NamedTuple):
    host: str  # a hostname or a Host alias of the ssh config
    user: str | None = None  # None: the ssh config's User, else the local user
    port: int | None = None  # None: the ssh config's Port, else 22
    libvirt: str = "system"  # the remote daemon: system, or the user's session
    socket: str | None = None  # remote libvirt socket, when not the usual one
    readonly: bool = False  # use the read-only system socket
    driver: str = "qemu"
    key_file: str | None = None  # an identity file instead of the config's
    ssh_config: str | None = None  # extra ssh config read before ~/.ssh/config

    @property
    def uri(self) -> str:
        """The equivalent libvirt URI, for display."""
        user = f"{self.user}@" if self.user else ""
        port = f":{self.port}" if self.port else ""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.driver}+ssh://{user}{host}{port}/{self.libvirt}"
