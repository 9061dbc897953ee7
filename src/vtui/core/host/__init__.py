"""One libvirt host: its connection and link keeping, facts, sampler, events, uptime."""

from vtui.core.host.connection import CONNECT_TIMEOUT, Host
from vtui.core.host.state import Change, HostStatus, Tunnel

__all__ = ["CONNECT_TIMEOUT", "Change", "Host", "HostStatus", "Tunnel"]
