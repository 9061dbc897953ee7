"""`vtui list` and `vtui host`: one look at the guests or the hosts, then exit."""

from __future__ import annotations

import argparse
import time
from typing import TYPE_CHECKING

from vtui.core import units

from .output import Column, pair, print_json, print_lines, rate, table, write_csv
from .parsing import (
    add_connection_options,
    add_rate_options,
    new_parser,
    rate_wait,
    state_filter,
    wants_rates,
)
from .records import FORMAT_VERSION, GUEST_FIELDS, guest_record, host_record

if TYPE_CHECKING:  # (a command's parser loads no host machinery: see batch/__init__.py)
    from vtui.core.host import Host
    from vtui.core.model import Guest

# -- list ----------------------------------------------------------------------------------


def list_parser() -> argparse.ArgumentParser:
    parser = new_parser("list", "List the guests of one or more hosts, like the main table.")
    add_connection_options(parser, positional_hosts=True)
    parser.add_argument(
        "--state",
        type=state_filter,
        action="append",
        default=[],
        metavar="STATE",
        help="only guests in this state: running, paused, shutoff, crashed, "
        "pmsuspended, active, inactive (comma list or repeat)",
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON (see docs/json.md)")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")
    parser.add_argument(
        "-w",
        "--wide",
        action="store_true",
        help="table: add memory used, reason, autostart, persistent and UUID",
    )
    add_rate_options(parser)
    return parser


def wanted_state(guest: Guest, wanted: set[str]) -> bool:
    if not wanted or "all" in wanted:
        return True
    if guest.state in wanted:
        return True
    return ("active" in wanted and guest.active) or ("inactive" in wanted and not guest.active)


def sorted_guests(hosts: list[Host], wanted: set[str]) -> list[Guest]:
    guests = [g for h in hosts for g in h.guests.values() if wanted_state(g, wanted)]
    return sorted(guests, key=lambda g: (g.host, g.name))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def guest_row(guest: Guest, *, with_host: bool, wide: bool, now: float) -> list[str]:
    row = [guest.name]
    if with_host:
        row.append(guest.host)
    row += [
        guest.state,
        str(guest.vcpus),
        units.kib(guest.memory_kib),
        units.percent(guest.cpu_pct),
        pair(rate(guest.disk_rd_bps), rate(guest.disk_wr_bps)),
        pair(rate(guest.net_rx_bps), rate(guest.net_tx_bps)),
        units.uptime(guest.started_at, now) if guest.active else "-",
    ]
    if wide:
        row += [
            units.kib(guest.memory_used_kib),
            guest.reason or "-",
            _yes(guest.autostart),
            _yes(guest.persistent),
            guest.uuid,
        ]
    return row


def guest_columns(*, with_host: bool, wide: bool) -> list[Column]:
    columns = [Column("NAME")]
    if with_host:
        columns.append(Column("HOST"))
    columns += [
        Column("STATE"),
        Column("VCPU", True),
        Column("MEM", True),
        Column("CPU%", True),
        Column("DISK R/W", True),
        Column("NET RX/TX", True),
        Column("UP", True),
    ]
    if wide:
        columns += [
            Column("MEM USED", True),
            Column("REASON"),
            Column("AUTOSTART"),
            Column("PERSISTENT"),
            Column("UUID"),
        ]
    return columns


def guest_table(guests: list[Guest], *, with_host: bool, wide: bool = False) -> list[str]:
    now = time.time()
    return table(
        guest_columns(with_host=with_host, wide=wide),
        (guest_row(g, with_host=with_host, wide=wide, now=now) for g in guests),
    )


async def run_list(args: argparse.Namespace) -> int:
    wanted = set().union(*args.state) if args.state else set()
    from .session import open_session

    rates = wants_rates(args)
    session = await open_session(args, args.hosts)
    try:
        if rates:
            await session.sample_rates(rate_wait(args))
        await session.details()
        hosts = session.connected
        guests = sorted_guests(hosts, wanted)
        now = time.time()
        if args.json:
            print_json(
                {
                    "format_version": FORMAT_VERSION,
                    "hosts": [h.name for h in hosts],
                    "guests": [guest_record(g, now) for g in guests],
                    "errors": session.errors(),
                }
            )
        elif args.csv:
            write_csv(GUEST_FIELDS, (guest_record(g, now) for g in guests))
        else:
            print_lines(guest_table(guests, with_host=len(session.fleet.hosts) > 1, wide=args.wide))
        return session.exit_code()
    finally:
        await session.close()


# -- host ----------------------------------------------------------------------------------


def host_parser() -> argparse.ArgumentParser:
    parser = new_parser("host", "Host facts: CPU, memory, NUMA, KSM, guests, commitment.")
    add_connection_options(parser, positional_hosts=True)
    parser.add_argument("--json", action="store_true", help="JSON (see docs/json.md)")
    add_rate_options(parser)
    return parser


def _gib(num_bytes: int | None) -> str:
    return "-" if num_bytes is None else f"{num_bytes / 1024**3:.1f} GiB"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def cpu_ranges(cpus: list[int]) -> str:
    """' (CPUs 0-7,16-23)' for a NUMA cell's CPU ids; '' when not known."""
    if not cpus:
        return ""
    spans: list[list[int]] = []
    for cpu in sorted(cpus):
        if spans and cpu == spans[-1][1] + 1:
            spans[-1][1] = cpu
        else:
            spans.append([cpu, cpu])
    text = ",".join(f"{a}-{b}" if b > a else str(a) for a, b in spans)
    return f" (CPUs {text})"


def host_lines(rec: dict) -> list[str]:
    """A host's facts as `label  value` lines under its name."""
    version = f"libvirt {rec['libvirt_version']}, {rec['driver']} {rec['hypervisor_version']}"
    threads = (
        f"{rec['sockets']} socket(s) x {rec['cores_per_socket']} core(s) x "
        f"{rec['threads_per_core']} thread(s)"
    )
    model = rec["cpu_model"]
    if model != rec["arch"]:
        model += f" ({rec['arch']})"
    cpu = f"{model}, {rec['cpus']} CPUs: {threads}"
    if rec["mhz"]:
        cpu += f", {rec['mhz']} MHz"
    cpu += ", KVM" if rec["kvm"] else ", no KVM"
    total, used = rec["memory_total_bytes"], rec["memory_used_bytes"]
    memory = f"{_gib(used)} used of {_gib(total)}"
    if used is not None and total:
        memory += f" ({100 * used / total:.0f}%)"
    numa = (
        "; ".join(
            f"cell {c['id']}{cpu_ranges(c['cpus'])}: {_gib(c['memory_free_bytes'])} free of "
            f"{_gib(c['memory_total_bytes'])}"
            for c in rec["numa_cells"]
        )
        or "-"
    )
    ksm = rec["ksm"]
    if ksm is None:
        ksm_text = rec["ksm_unavailable_reason"]
    else:
        ksm_text = (
            f"{'running' if ksm['running'] else 'idle'}, {ksm['pages_shared']} pages "
            f"shared, {ksm['pages_sharing']} sharing, {_gib(ksm['saved_bytes'])} saved"
        )
        if ksm["pages_to_scan"] is not None and ksm["sleep_millisecs"] is not None:
            ksm_text += f"; scans {ksm['pages_to_scan']} pages every {ksm['sleep_millisecs']} ms"
    counts = ", ".join(f"{n} {state}" for state, n in rec["guests_by_state"].items())
    guests = f"{rec['guests_total']}" + (f": {counts}" if counts else "")
    commitment = (
        f"vCPUs {_ratio(rec['vcpu_commitment'])} ({rec['active_vcpus']} on "
        f"{rec['cpus']} CPUs), memory {_ratio(rec['memory_commitment'])} "
        f"({_gib(rec['active_memory_bytes'])} of {_gib(total)})"
    )
    facts = [
        ("hostname", rec["hostname"]),
        ("uri", rec["uri"] + (" (read-only)" if rec["readonly"] else "")),
        ("versions", version),
        ("cpu", cpu),
        ("cpu usage", "-" if rec["cpu_percent"] is None else f"{rec['cpu_percent']:.1f}%"),
        ("memory", memory),
        ("numa", numa),
        ("ksm", ksm_text),
        ("guests", guests),
        ("commitment", commitment),
    ]
    return [rec["name"], *(f"  {label:<11} {value}" for label, value in facts)]


async def run_host(args: argparse.Namespace) -> int:
    from .session import open_session

    rates = wants_rates(args)
    session = await open_session(args, args.hosts, facts=True)
    try:
        if rates:
            await session.sample_rates(rate_wait(args))
        await session.details()
        records = [host_record(h) for h in session.connected]
        if args.json:
            print_json(
                {"format_version": FORMAT_VERSION, "hosts": records, "errors": session.errors()}
            )
        else:
            lines: list[str] = []
            for rec in records:
                if lines:
                    lines.append("")
                lines += host_lines(rec)
            print_lines(lines)
        return session.exit_code()
    finally:
        await session.close()
