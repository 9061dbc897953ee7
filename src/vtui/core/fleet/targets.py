"""What the user typed -> which host to watch, and how to reach it.

    vtui                         local default URI (handled by the caller)
    vtui web1 db1                saved host names, else ssh config aliases / hostnames
    vtui root@web1:2222          user@host[:port][/system|/session]
    vtui -c qemu+ssh://root@web1/system    converted to our own SSH tunnel
    vtui -c qemu:///session      any other libvirt URI, opened by libvirt directly

`add_target` is the single entry point: the CLI and the app call it for each host.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple
from urllib.parse import parse_qs, unquote, urlsplit

from vtui.core.errors import VtuiError
from vtui.core.settings import saved_hosts as config
from vtui.core.settings.saved_hosts import SavedHost
from vtui.core.ssh.target import Asker, SshTarget
from vtui.core.uri import display_name

if TYPE_CHECKING:  # (parsing a host argument must not load the hosts' machinery)
    from pathlib import Path

    from vtui.core.fleet.fleet import Fleet
    from vtui.core.host import Host, Tunnel

_NAME = r"[A-Za-z0-9_](?:[A-Za-z0-9_.%+-]*[A-Za-z0-9_])?"
_SHORT = re.compile(
    rf"^(?:(?P<user>[A-Za-z0-9_][A-Za-z0-9_.-]*)@)?"
    rf"(?:\[(?P<ipv6>[0-9A-Fa-f:.%]+)\]|(?P<host>{_NAME}))"
    rf"(?::(?P<port>\d{{1,5}}))?"
    rf"(?:/(?P<path>system|session))?$"
)
_SSH_TRANSPORTS = ("ssh",)  # libssh/libssh2 URIs keep libvirt's own transport


class HostSpec(NamedTuple):
    """A parsed target: an SSH tunnel to open, or a URI libvirt opens itself."""

    name: str  # the label in the fleet
    uri: str  # shown to the user; opened directly when ssh is None
    ssh: SshTarget | None = None
    readonly: bool | None = None  # None: the caller's default


def parse_target(text: str, *, saved: list[SavedHost] | None = None) -> HostSpec:
    """Parse a host argument. Saved host names win over ssh aliases of the same name.
    `saved` defaults to the saved hosts file (ignored if it is broken)."""
    text = text.strip()
    if not text:
        raise VtuiError("no host given")
    if "://" in text:
        return _parse_uri(text)
    if saved is None:
        saved, _error = config.load()
    found = config.find(text, saved)
    if found is not None:
        return spec_of_saved(found)
    return _parse_short(text)


def spec_of_saved(saved: SavedHost) -> HostSpec:
    spec = parse_target(saved.target, saved=[])
    ssh = spec.ssh
    if ssh is not None:  # the form's libvirt choice applies to SSH targets
        ssh = ssh._replace(libvirt=saved.libvirt)
        return HostSpec(saved.name, ssh.uri, ssh, saved.readonly)
    return HostSpec(saved.name, spec.uri, None, saved.readonly)


def _parse_short(text: str) -> HostSpec:
    m = _SHORT.match(text)
    if m is None:
        raise VtuiError(
            f"not a host: {text!r} (expected [user@]host[:port], an ssh alias, "
            "a saved host or a libvirt URI)"
        )
    port = int(m["port"]) if m["port"] else None
    if port is not None and not 0 < port < 65536:
        raise VtuiError(f"not a port: {port}")
    host = m["ipv6"] or m["host"]
    ssh = SshTarget(host=host, user=m["user"], port=port, libvirt=m["path"] or "system")
    return HostSpec(host, ssh.uri, ssh)


def _parse_uri(text: str) -> HostSpec:
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise VtuiError(f"not a libvirt URI: {text!r} ({exc})") from None
    driver, _, transport = parts.scheme.partition("+")
    if not driver or not re.fullmatch(r"[a-z][a-z0-9]*", driver):
        raise VtuiError(f"not a libvirt URI: {text!r}")
    if transport not in _SSH_TRANSPORTS:
        return HostSpec(display_name(text), text)
    if not parts.hostname:
        raise VtuiError(f"no host in {text!r}")
    path = parts.path.strip("/") or "system"
    # the test driver names a host description file on the server (demos, benchmarks)
    test_file = driver == "test" and path.endswith(".xml")
    if path not in config.LIBVIRT_PATHS and not test_file:
        raise VtuiError(f"unsupported libvirt path /{path} in {text!r} (system or session)")
    query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    ssh = SshTarget(
        host=parts.hostname,
        user=unquote(parts.username) if parts.username else None,
        port=port,
        libvirt=path,
        driver=driver,
        socket=query.get("socket"),
        key_file=query.get("keyfile"),
    )
    return HostSpec(parts.hostname, text, ssh)


def validate_saved(
    host: SavedHost, existing: list[SavedHost], *, old_name: str | None = None
) -> None:
    """Everything the connection form checks: name, duplicates, target syntax."""
    config.validate(host, existing, old_name=old_name)
    parse_target(host.target, saved=[])


def add_target(
    fleet: Fleet,
    text: str,
    *,
    readonly: bool | None = None,
    asker: Asker | None = None,
    ssh_config: str | Path | None = None,
    saved: list[SavedHost] | None = None,
    openssh: bool = False,
) -> Host:
    """Add the host `text` names to the fleet (not connected yet: call host.connect()).
    readonly=None keeps the saved host's or the fleet's choice; ssh_config is an extra
    ssh config file read before ~/.ssh/config. openssh=True reaches SSH hosts with the
    OpenSSH client instead of vtui's own SSH layer: for commands that never prompt
    (see core/fleet/openssh.py)."""
    spec = parse_target(text, saved=saved)
    ro = readonly if readonly is not None else spec.readonly
    if ro is None:
        ro = fleet.readonly
    tunnel: Tunnel | None = None
    if spec.ssh is not None:
        target = _with_config(spec.ssh, ssh_config)._replace(readonly=ro)
        if openssh:
            from vtui.core.fleet.openssh import OpenSshRoute

            tunnel = OpenSshRoute(target, timeout=fleet.connect_timeout)
        else:
            from vtui.core.ssh.tunnel import SshTunnel  # asyncssh: only when a host needs it

            tunnel = SshTunnel(target, asker, timeout=fleet.connect_timeout)
    return fleet.add(spec.uri, name=spec.name, readonly=ro, tunnel=tunnel)


def _with_config(target: SshTarget, ssh_config: str | Path | None) -> SshTarget:
    return target._replace(ssh_config=str(ssh_config)) if ssh_config else target


def ssh_target_of(text: str, *, ssh_config: str | Path | None = None) -> SshTarget | None:
    """The SSH login add_target would make for `text` (None: not an SSH host, or not a
    host at all: add_target will say why)."""
    try:
        spec = parse_target(text)
    except VtuiError:
        return None
    return None if spec.ssh is None else _with_config(spec.ssh, ssh_config)


def autoconnect_hosts(
    fleet: Fleet, *, asker: Asker | None = None, ssh_config: str | Path | None = None
) -> tuple[list[Host], list[VtuiError]]:
    """Add the saved hosts marked autoconnect (skipping names already in the fleet).
    Returns them (not connected yet) and the errors: the config file's, bad targets."""
    saved, error = config.load()
    errors = [error] if error is not None else []
    added = []
    for entry in saved:
        if not entry.autoconnect or entry.name in fleet.hosts:
            continue
        try:
            added.append(
                add_target(fleet, entry.name, asker=asker, ssh_config=ssh_config, saved=saved)
            )
        except VtuiError as exc:
            errors.append(VtuiError(f"saved host {entry.name}: {exc.message}"))
    return added, errors
