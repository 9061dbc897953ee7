"""`vtui networks [HOST...]`: the virtual networks of one or more hosts, with their
addresses, DHCP ranges and leases, and the guests attached (same core as the TUI)."""

from __future__ import annotations

import argparse
from collections.abc import Iterable

from vtui.core.networks import NetworkAddress, VirtualNetwork, list_networks

from .output import Column, table
from .parsing import add_connection_options, new_parser
from .per_host import print_listing, query_hosts, yes_no
from .records import iso_time
from .session import open_session

NETWORK_FIELDS = (
    "host",
    "name",
    "uuid",
    "state",
    "autostart",
    "persistent",
    "bridge",
    "forward_mode",
    "forward_dev",
    "ipv4",
    "ipv6",
    "dhcp_leases",
    "guests",
)
# CSV cannot nest: the DHCP ranges of every subnet get a column of their own
NETWORK_CSV_FIELDS = (*NETWORK_FIELDS[:11], "dhcp_ranges", *NETWORK_FIELDS[11:])


def networks_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "networks",
        "List the virtual networks of one or more hosts: state, forward mode, bridge, "
        "addresses, DHCP ranges and leases, attached guests.",
    )
    add_connection_options(parser, positional_hosts=True)
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON (see docs/json.md)")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    return parser


def _address_record(address: NetworkAddress) -> dict:
    return {
        "address": address.address,
        "prefix": address.prefix,
        "dhcp_ranges": [{"start": r.start, "end": r.end} for r in address.dhcp_ranges],
    }


def network_record(host: str, net: VirtualNetwork) -> dict:
    return {
        "host": host,
        "name": net.name,
        "uuid": net.uuid,
        "state": net.state,
        "autostart": net.autostart,
        "persistent": net.persistent,
        "bridge": net.bridge or None,
        "forward_mode": net.forward_mode,
        "forward_dev": net.forward_dev or None,
        "ipv4": [_address_record(a) for a in net.ipv4],
        "ipv6": [_address_record(a) for a in net.ipv6],
        "dhcp_leases": None
        if net.leases is None
        else [
            {
                "mac": lease.mac,
                "ip": lease.ip,
                "prefix": lease.prefix,
                "hostname": lease.hostname or None,
                "expires_at": iso_time(lease.expires_at),
                "client_id": lease.client_id or None,
            }
            for lease in net.leases
        ],
        "guests": [
            {"name": g.name, "uuid": g.uuid, "active": g.active, "macs": list(g.macs)}
            for g in net.guests or []
        ],
    }


def csv_record(record: dict) -> dict:
    """Lists become `;`-separated cells: CIDRs, start-end ranges, ip=mac leases, names."""
    addresses = record["ipv4"] + record["ipv6"]
    leases = record["dhcp_leases"]
    return {
        **record,
        "ipv4": ";".join(f"{a['address']}/{a['prefix']}" for a in record["ipv4"]),
        "ipv6": ";".join(f"{a['address']}/{a['prefix']}" for a in record["ipv6"]),
        "dhcp_ranges": ";".join(
            f"{r['start']}-{r['end']}" for a in addresses for r in a["dhcp_ranges"]
        ),
        "dhcp_leases": None
        if leases is None
        else ";".join(f"{x['ip']}={x['mac']}" for x in leases),
        "guests": ";".join(g["name"] for g in record["guests"]),
    }


def _some(names: Iterable[str], shown: int = 3) -> str:
    """A few names and how many more: a table row stays readable."""
    names = list(names)
    if len(names) > shown:
        return f"{', '.join(names[:shown])} +{len(names) - shown} more"
    return ", ".join(names) or "-"


def network_rows(records: list[dict], *, with_host: bool) -> list[str]:
    columns = [Column("NAME")]
    if with_host:
        columns.append(Column("HOST"))
    columns += [
        Column("STATE"),
        Column("AUTOSTART"),
        Column("MODE"),
        Column("BRIDGE"),
        Column("IPV4"),
        Column("DHCP"),
        Column("LEASES", True),
        Column("GUESTS"),
    ]
    rows = []
    for rec in records:
        row = [rec["name"]]
        if with_host:
            row.append(rec["host"])
        ranges = [f"{r['start']}-{r['end']}" for a in rec["ipv4"] for r in a["dhcp_ranges"]]
        leases = rec["dhcp_leases"]
        row += [
            rec["state"],
            yes_no(rec["autostart"]),
            rec["forward_mode"],
            rec["bridge"] or "-",
            " ".join(f"{a['address']}/{a['prefix']}" for a in rec["ipv4"]) or "-",
            " ".join(ranges) or "-",
            "-" if leases is None else str(len(leases)),
            _some(g["name"] for g in rec["guests"]),
        ]
        rows.append(row)
    return table(columns, rows)


async def run_networks(args: argparse.Namespace) -> int:
    session = await open_session(args, args.hosts)
    try:
        found = await query_hosts(session, lambda h: list_networks(h, leases=True))
        records = [network_record(h.name, n) for h, nets in found.answers for n in nets]
        with_host = len(session.fleet.hosts) > 1
        print_listing(
            args,
            found,
            "networks",
            records,
            csv_fields=NETWORK_CSV_FIELDS,
            csv_records=(csv_record(r) for r in records),
            table_lines=lambda: network_rows(records, with_host=with_host),
        )
        return found.code
    finally:
        await session.close()
