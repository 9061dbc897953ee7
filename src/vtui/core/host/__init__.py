"""One libvirt host: its connection and link keeping, facts, sampler, events, uptime."""

from vtui.core.host.connection import Host
from vtui.core.host.state import Change, HostStatus, Tunnel

__all__ = ["Change", "Host", "HostStatus", "Tunnel"]
