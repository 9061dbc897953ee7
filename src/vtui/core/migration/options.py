"""What a migration is asked to do: options -> libvirt flags, typed parameters, URIs.
Nothing here talks to libvirt."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

import libvirt

from vtui.core.host import Host

COPY_STORAGE = ("none", "full", "incremental")


@dataclass(slots=True)
class MigrationOptions:
    live: bool = True  # False: offline (moves the definition of a stopped guest)
    persist: bool = True  # keep a persistent definition on the destination
    undefine_source: bool = True  # remove the definition from the source afterwards
    copy_storage: str = "none"  # "none", "full" or "incremental"
    bandwidth_mib: int | None = None  # MiB/s; None = unlimited
    max_downtime_ms: int | None = None
    peer_to_peer: bool = False  # the source libvirtd talks to the destination itself
    tunnelled: bool = False  # data through the libvirtd connection (needs p2p)
    auto_converge: bool = False
    post_copy: bool = False  # switch to post-copy after the first full pass
    migration_uri: str = ""  # e.g. "tcp://10.77.0.2" or just "10.77.0.2"
    dest_uri: str = ""  # p2p: destination libvirt URI as the source sees it

    def problems(self) -> list[str]:
        """Why these options cannot work together, as sentences (empty if fine)."""
        out = []
        if self.copy_storage not in COPY_STORAGE:
            out.append(f"copy storage must be one of {', '.join(COPY_STORAGE)}")
        if self.bandwidth_mib is not None and self.bandwidth_mib <= 0:
            out.append("bandwidth must be a positive number of MiB/s")
        if self.max_downtime_ms is not None and self.max_downtime_ms <= 0:
            out.append("maximum downtime must be a positive number of ms")
        if self.migration_uri and not valid_migration_address(self.migration_uri):
            out.append(
                "the migration address must be a host name, an IP address or a URI such as "
                "tcp://10.0.0.2:49152"
            )
        if self.dest_uri and not valid_peer_uri(self.dest_uri):
            out.append("the destination URI must be a libvirt URI such as qemu+ssh://host/system")
        if self.tunnelled and not self.peer_to_peer:
            out.append("tunnelled migration needs peer-to-peer")
        if self.tunnelled and self.migration_uri:
            out.append(
                "tunnelled migration goes through libvirtd: leave the migration address empty"
            )
        if not self.live:
            if not self.persist:
                out.append(
                    "offline migration moves only the definition: "
                    "persist on destination must stay on"
                )
            if self.copy_storage != "none":
                out.append("offline migration copies no storage")
            if self.post_copy:
                out.append("post-copy applies to live migration only")
        return out

    def flags(self) -> int:
        f = 0
        if self.live:
            f |= libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_ABORT_ON_ERROR
        else:
            f |= libvirt.VIR_MIGRATE_OFFLINE
        if self.persist:
            f |= libvirt.VIR_MIGRATE_PERSIST_DEST
        if self.undefine_source:
            f |= libvirt.VIR_MIGRATE_UNDEFINE_SOURCE
        if self.peer_to_peer:
            f |= libvirt.VIR_MIGRATE_PEER2PEER
            if self.tunnelled:
                f |= libvirt.VIR_MIGRATE_TUNNELLED
        if self.live:
            if self.copy_storage == "full":
                f |= libvirt.VIR_MIGRATE_NON_SHARED_DISK
            elif self.copy_storage == "incremental":
                f |= libvirt.VIR_MIGRATE_NON_SHARED_INC
            if self.auto_converge:
                f |= libvirt.VIR_MIGRATE_AUTO_CONVERGE
            if self.post_copy:
                f |= libvirt.VIR_MIGRATE_POSTCOPY
        return f

    def params(self) -> dict:
        """Typed parameters for migrate3 / migrateToURI3 (max downtime is set apart)."""
        p: dict = {}
        if not self.live:
            return p
        if self.bandwidth_mib:
            p[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = int(self.bandwidth_mib)
        uri = migration_stream_uri(self.migration_uri)
        if uri and not self.tunnelled:
            p[libvirt.VIR_MIGRATE_PARAM_URI] = uri
        return p

    def describe(self) -> str:
        words = ["live" if self.live else "offline"]
        if self.live and self.copy_storage != "none":
            words.append(f"copy storage ({self.copy_storage})")
        if self.live and self.bandwidth_mib:
            words.append(f"{self.bandwidth_mib} MiB/s")
        if self.live and self.max_downtime_ms:
            words.append(f"downtime <= {self.max_downtime_ms} ms")
        for on, word in (
            (self.peer_to_peer, "peer-to-peer"),
            (self.tunnelled, "tunnelled"),
            (self.live and self.auto_converge, "auto-converge"),
            (self.live and self.post_copy, "post-copy"),
            (not self.persist, "transient on destination"),
            (not self.undefine_source, "source definition kept"),
        ):
            if on:
                words.append(word)
        return ", ".join(words)


_HOSTNAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_LIBVIRT_SCHEME = re.compile(r"^[a-z][a-z0-9]*(?:\+[a-z0-9]+)?$")


def _host_ok(host: str | None) -> bool:
    if not host:
        return False
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(_HOSTNAME.match(host))


def _split(uri: str) -> SplitResult | None:
    """The URI's parts, or None when it has white space or a port that is no port."""
    if any(c.isspace() for c in uri):
        return None
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return None
    return parts


def valid_migration_address(address: str) -> bool:
    """A host, an IP address, or tcp:// / rdma:// URI to one (what QEMU's migration
    stream is pointed at); never anything a shell or libvirt would read more into."""
    parts = _split(migration_stream_uri(address))
    if parts is None or parts.scheme not in ("tcp", "rdma"):
        return False
    return not (parts.path or parts.query or parts.fragment) and _host_ok(parts.hostname)


def valid_peer_uri(uri: str) -> bool:
    """A libvirt URI the source daemon can open (peer-to-peer)."""
    parts = _split(uri)
    if parts is None or not _LIBVIRT_SCHEME.match(parts.scheme):
        return False
    return not parts.netloc or _host_ok(parts.hostname)


def migration_stream_uri(address: str) -> str:
    """'10.77.0.2' -> 'tcp://10.77.0.2'; a full URI is kept as is."""
    address = address.strip()
    if not address or "://" in address:
        return address
    if address.count(":") > 1 and not address.startswith("["):
        address = f"[{address}]"  # a bare IPv6 address
    return f"tcp://{address}"


def peer_uri(dst: Host, options: MigrationOptions) -> str:
    """The destination's libvirt URI as the *source* libvirtd must open it (p2p).
    Our own URI for it may be a local socket or an SSH tunnel only we can use, so
    unless the user gave one, it is qemu+ssh to the name the destination calls itself."""
    if options.dest_uri:
        return options.dest_uri
    parts = urlsplit(dst.uri)
    if parts.hostname and "socket=" not in parts.query:
        return dst.uri
    driver = (dst.facts.driver if dst.facts else "") or parts.scheme.partition("+")[0] or "qemu"
    target = getattr(dst.tunnel, "target", None)
    user = getattr(target, "user", None)
    hostname = dst.facts.hostname if dst.facts and dst.facts.hostname else dst.name
    return f"{driver.lower()}+ssh://{user + '@' if user else ''}{hostname}/system"
