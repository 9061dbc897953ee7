"""`vtui devices [HOST...]`: the PCI devices, USB devices and network interfaces of
one or more hosts, with IOMMU groups, SR-IOV functions, drivers, which guest uses
each and whether it can be assigned (same core as the TUI)."""

from __future__ import annotations

import argparse

from vtui.core.host.devices import KINDS, HostDevice, list_devices

from .output import Column, table
from .parsing import add_connection_options, new_parser
from .per_host import print_listing, query_hosts
from .session import open_session

DEVICE_FIELDS = (
    "host",
    "name",
    "type",
    "address",
    "parent",
    "driver",
    "detached",
    "vendor_id",
    "vendor",
    "product_id",
    "product",
    "description",
    "pci_class",
    "iommu_group",
    "iommu_peers",
    "virtual_functions",
    "max_virtual_functions",
    "physical_function",
    "mac",
    "link_state",
    "link_speed_mbps",
    "host_uses",
    "guests",
    "guests_running",
    "assignable",
    "not_assignable_reason",
)
_LISTS = ("iommu_peers", "virtual_functions", "host_uses", "guests", "guests_running")


def kind_list(text: str) -> set[str]:
    kinds = {k.strip().lower() for k in text.split(",") if k.strip()}
    unknown = kinds - set(KINDS)
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown device type {sorted(unknown)[0]!r} (one of: {', '.join(KINDS)})"
        )
    return kinds


def devices_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "devices",
        "List the host devices of one or more hosts: PCI (IOMMU group, SR-IOV), USB and "
        "network interfaces, their drivers, the guests using them, whether each can be "
        "assigned to a guest.",
    )
    add_connection_options(parser, positional_hosts=True)
    parser.add_argument(
        "--type",
        type=kind_list,
        action="append",
        default=[],
        metavar="TYPE",
        help="only devices of this type: pci, usb, net (comma list or repeat)",
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON (see docs/json.md)")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    return parser


def device_record(host: str, dev: HostDevice) -> dict:
    return {
        "host": host,
        "name": dev.name,
        "type": dev.kind,
        "address": dev.address,
        "parent": dev.parent or None,
        "driver": dev.driver or None,
        "detached": dev.detached,
        "vendor_id": dev.vendor_id or None,
        "vendor": dev.vendor or None,
        "product_id": dev.product_id or None,
        "product": dev.product or None,
        "description": dev.description,
        "pci_class": None if dev.pci_class is None else f"0x{dev.pci_class:06x}",
        "iommu_group": dev.iommu_group,
        "iommu_peers": list(dev.iommu_peers),
        "virtual_functions": list(dev.virtual_functions),
        "max_virtual_functions": dev.max_virtual_functions,
        "physical_function": dev.physical_function or None,
        "mac": dev.mac or None,
        "link_state": dev.link_state or None,
        "link_speed_mbps": dev.link_speed_mbps,
        "host_uses": list(dev.host_uses),
        "guests": list(dev.used_by),
        "guests_running": list(dev.used_by_running),
        "assignable": dev.assignable,
        "not_assignable_reason": dev.not_assignable or None,
    }


def csv_record(record: dict) -> dict:
    return {**record, **{key: ";".join(record[key]) for key in _LISTS}}


def device_rows(records: list[dict], *, with_host: bool) -> list[str]:
    columns = [Column("TYPE"), Column("ADDRESS")]
    if with_host:
        columns.append(Column("HOST"))
    columns += [
        Column("DRIVER"),
        Column("IOMMU", True),
        Column("GUESTS"),
        Column("DEVICE"),
        Column("NOTE"),
    ]
    rows = []
    for rec in records:
        row = [rec["type"], rec["address"]]
        if with_host:
            row.append(rec["host"])
        note = rec["not_assignable_reason"] or ""
        if rec["type"] == "net":
            note = " ".join(x for x in (rec["mac"], rec["link_state"]) if x)
        elif rec["physical_function"]:
            note = f"SR-IOV VF of {rec['physical_function']}" + (f"; {note}" if note else "")
        elif rec["virtual_functions"]:
            note = f"SR-IOV PF, {len(rec['virtual_functions'])} VFs" + (f"; {note}" if note else "")
        row += [
            rec["driver"] or "-",
            "-" if rec["iommu_group"] is None else str(rec["iommu_group"]),
            ", ".join(rec["guests"]) or "-",
            rec["description"],
            note or "assignable",
        ]
        rows.append(row)
    return table(columns, rows)


async def run_devices(args: argparse.Namespace) -> int:
    kinds = set().union(*args.type) if args.type else set(KINDS)
    session = await open_session(args, args.hosts)
    try:
        found = await query_hosts(session, lambda h: list_devices(h, kinds))
        records = [device_record(h.name, d) for h, devs in found.answers for d in devs]
        with_host = len(session.fleet.hosts) > 1
        print_listing(
            args,
            found,
            "devices",
            records,
            csv_fields=DEVICE_FIELDS,
            csv_records=(csv_record(r) for r in records),
            table_lines=lambda: device_rows(records, with_host=with_host),
        )
        return found.code
    finally:
        await session.close()
