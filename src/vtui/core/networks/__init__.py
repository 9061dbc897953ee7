"""A host's virtual networks: listing (state, addresses, DHCP leases, attached
guests), start/stop/autostart, creating from checked answers, deleting."""

from vtui.core.networks.actions import (
    create_network,
    delete_network,
    set_network_autostart,
    start_network,
    stop_network,
)
from vtui.core.networks.listing import (
    get_network,
    list_network_names,
    list_networks,
    network_leases,
    network_users,
)
from vtui.core.networks.model import (
    CREATE_MODES,
    FORWARD_MODES,
    AttachedGuest,
    DhcpLease,
    DhcpRange,
    NetworkAddress,
    VirtualNetwork,
)
from vtui.core.networks.plan import InvalidAnswer, NetworkAnswers, NetworkPlan, plan_network

__all__ = [
    "CREATE_MODES",
    "FORWARD_MODES",
    "AttachedGuest",
    "DhcpLease",
    "DhcpRange",
    "InvalidAnswer",
    "NetworkAddress",
    "NetworkAnswers",
    "NetworkPlan",
    "VirtualNetwork",
    "create_network",
    "delete_network",
    "get_network",
    "list_network_names",
    "list_networks",
    "network_leases",
    "network_users",
    "plan_network",
    "set_network_autostart",
    "start_network",
    "stop_network",
]
