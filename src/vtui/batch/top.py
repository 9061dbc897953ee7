"""`vtui top --batch`: virt-top's batch mode. Every DELAY seconds one block (a header
with the time, hosts, guest counts and host load, then the guests with rates) and,
with --csv FILE, one CSV row per guest per refresh for monitoring feeds."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from typing import TYPE_CHECKING, Any

from vtui.core import units

from .commands import guest_table, wanted_state
from .output import csv_cell, csv_writer, print_lines
from .parsing import (
    UsageError,
    add_connection_options,
    interval_seconds,
    new_parser,
    positive_int,
)
from .records import GUEST_FIELDS, guest_record, iso_time

if TYPE_CHECKING:  # (a command's parser loads no host machinery: see batch/__init__.py)
    from vtui.core.host import Host
    from vtui.core.model import Guest

    from .session import Session

CSV_FIELDS = ("timestamp", *GUEST_FIELDS)


def _num(value: float | None) -> float:
    return -1.0 if value is None else value


def _sum(*values: float | None) -> float:
    return sum(v for v in values if v is not None) if any(v is not None for v in values) else -1


# column -> (key, biggest first?)
SORT_KEYS: dict[str, tuple[Callable[[Guest], Any], bool]] = {
    "cpu": (lambda g: _num(g.cpu_pct), True),
    "mem": (lambda g: g.memory_kib, True),
    "vcpus": (lambda g: g.vcpus, True),
    "rd": (lambda g: _num(g.disk_rd_bps), True),
    "wr": (lambda g: _num(g.disk_wr_bps), True),
    "disk": (lambda g: _sum(g.disk_rd_bps, g.disk_wr_bps), True),
    "rx": (lambda g: _num(g.net_rx_bps), True),
    "tx": (lambda g: _num(g.net_tx_bps), True),
    "net": (lambda g: _sum(g.net_rx_bps, g.net_tx_bps), True),
    "uptime": (lambda g: -(g.started_at or float("inf")), True),
    "name": (lambda g: g.name, False),
    "host": (lambda g: g.host, False),
    "state": (lambda g: g.state, False),
}


def top_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "top",
        "Guests with live rates, one block per refresh (virt-top -b). "
        "The interactive view is plain `vtui`.",
    )
    add_connection_options(parser, positional_hosts=True)
    parser.add_argument(
        "-b",
        "--batch",
        action="store_true",
        help="print blocks of text (required: the interactive view is `vtui`)",
    )
    parser.add_argument(
        "-n",
        "--iterations",
        type=positive_int,
        metavar="COUNT",
        help="stop after COUNT refreshes (default: until interrupted)",
    )
    parser.add_argument(
        "-d",
        "--delay",
        type=interval_seconds,  # the same bounds as the app's --interval
        default=2.0,
        metavar="SECONDS",
        help="time between refreshes (default 2; 0.2 to 3600)",
    )
    parser.add_argument(
        "--sort",
        choices=sorted(SORT_KEYS),
        default="cpu",
        metavar="COL",
        help=f"sort by one of {', '.join(sorted(SORT_KEYS))} (default cpu)",
    )
    parser.add_argument(
        "--csv",
        metavar="FILE",
        help="also write one CSV row per guest per refresh to FILE "
        "('-': CSV on stdout instead of the blocks)",
    )
    parser.add_argument(
        "-a",
        "--all",
        action="store_true",
        help="include guests that are not running (default: active only)",
    )
    return parser


def sorted_for_top(guests: list[Guest], column: str) -> list[Guest]:
    key, biggest_first = SORT_KEYS[column]
    ordered = sorted(guests, key=lambda g: (g.host, g.name))  # stable tie-break
    return sorted(ordered, key=key, reverse=biggest_first)


def _host_line(host: Host) -> str:
    from vtui.core.host import HostStatus

    facts = host.facts
    if host.status is not HostStatus.CONNECTED or facts is None:
        return f"  {host.name}: {host.status.value}" + (f" ({host.error})" if host.error else "")
    used = units.kib(facts.memory_used_kib)
    active = sum(1 for g in host.guests.values() if g.active)
    cpu = "-" if facts.cpu_pct is None else f"{facts.cpu_pct:.1f}%"
    return (
        f"  {host.name}: cpu {cpu}  mem {used}/"
        f"{units.kib(facts.memory_total_kib)}  {facts.cpus} CPUs  "
        f"{active}/{len(host.guests)} guests active"
    )


def block_lines(session: Session, guests: list[Guest], now: float) -> list[str]:
    from vtui.core.host import HostStatus

    hosts = list(session.fleet.hosts.values())
    everyone = [g for h in session.live for g in h.guests.values()]
    counts: dict[str, int] = {}
    for guest in everyone:
        counts[guest.state] = counts.get(guest.state, 0) + 1
    down = sum(1 for h in hosts if h.status is not HostStatus.CONNECTED)
    by_state = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    header = (
        f"vtui top {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(now))}  "
        f"hosts: {len(hosts)}"
        + (f" ({down} down)" if down else "")
        + f"  guests: {len(everyone)}"
        + (f" ({by_state})" if by_state else "")
    )
    return [header, *(_host_line(h) for h in hosts), *guest_table(guests, with_host=len(hosts) > 1)]


async def run_top(args: argparse.Namespace) -> int:
    if not args.batch:
        raise UsageError(
            "top: the interactive view is plain `vtui`; add --batch (-b) for text output"
        )
    with ExitStack() as stack:
        csv_out = None
        if args.csv == "-":
            csv_out = sys.stdout
        elif args.csv:
            try:
                csv_out = stack.enter_context(open(args.csv, "w", newline="", encoding="utf-8"))
            except OSError as exc:
                raise UsageError(f"cannot write {args.csv}: {exc.strerror}") from None
        from .session import open_session

        # Following events (one call more at connect) lets four samples in five ask for
        # the running guests only, without their vCPU group, as the app does; a
        # single sample has no use for it.
        repeats = args.iterations is None or args.iterations > 1
        session = await open_session(args, args.hosts, facts=True, follow_events=repeats)
        try:
            await _refresh_loop(session, args, csv_out)
            return session.exit_code()
        finally:
            await session.close()


async def _refresh_loop(session: Session, args: argparse.Namespace, csv_out) -> None:
    import asyncio

    from vtui.core.host import HostStatus

    from .session import Unreachable

    writer = csv_writer(csv_out) if csv_out is not None else None
    if writer is not None:
        writer.writerow(CSV_FIELDS)
    loop = asyncio.get_running_loop()
    next_at = loop.time()
    done = 0
    while args.iterations is None or done < args.iterations:
        next_at += args.delay
        await asyncio.sleep(max(next_at - loop.time(), 0))
        await session.sample_live()
        if not any(
            h.status in (HostStatus.CONNECTED, HostStatus.DISCONNECTED)
            for h in session.fleet.hosts.values()
        ):
            raise Unreachable  # nothing left that could come back
        now = time.time()
        shown = [
            g
            for h in session.live
            for g in h.guests.values()
            if args.all or wanted_state(g, {"active"})
        ]
        shown = sorted_for_top(shown, args.sort)
        if args.csv != "-":
            if done:
                sys.stdout.write("\n")
            print_lines(block_lines(session, shown, now))
            sys.stdout.flush()
        if writer is not None:
            stamp = iso_time(now)
            for guest in shown:
                record = guest_record(guest, now)
                writer.writerow([stamp, *(csv_cell(record[f]) for f in GUEST_FIELDS)])
            csv_out.flush()
        done += 1
