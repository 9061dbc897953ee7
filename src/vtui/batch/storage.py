"""`vtui pools` and `vtui volumes`: a host's storage pools, a pool's volumes (with the
guests using each), through the same core as the TUI (vtui.core.storage)."""

from __future__ import annotations

import argparse
import asyncio

from vtui.core import units
from vtui.core.host import Host
from vtui.core.storage import Pool, Volume, list_pools, list_volumes

from .output import Column, table
from .parsing import add_connection_options, new_parser
from .per_host import print_listing, query_hosts
from .session import open_session
from .storage_records import (
    POOL_FIELDS,
    VOLUME_FIELDS,
    csv_ready,
    pool_record,
    volume_record,
)


def _add_format_options(parser: argparse.ArgumentParser) -> None:
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="JSON (see docs/json.md)")
    fmt.add_argument("--csv", action="store_true", help="CSV with a header row")


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _size(value: int | None) -> str:
    return units.size(value)


def _pool_order(pair: tuple[str, Pool]) -> tuple[str, str]:
    return pair[0], pair[1].name


def _volume_order(pair: tuple[str, Volume]) -> tuple[str, str, str]:
    return pair[0], pair[1].pool, pair[1].name


# -- pools -----------------------------------------------------------------------------------
def pools_parser() -> argparse.ArgumentParser:
    parser = new_parser("pools", "List the storage pools of one or more hosts.")
    add_connection_options(parser, positional_hosts=True)
    _add_format_options(parser)
    return parser


def pool_row(host: str, pool: Pool, with_host: bool) -> list[str]:
    row = [pool.name] + ([host] if with_host else [])
    return row + [
        pool.state,
        _yes(pool.autostart),
        pool.type,
        _size(pool.capacity),
        _size(pool.allocation),
        _size(pool.available),
        "-" if pool.volumes is None else str(pool.volumes),
        pool.target_path or pool.source or "-",
    ]


def pool_columns(with_host: bool) -> list[Column]:
    columns = [Column("NAME")] + ([Column("HOST")] if with_host else [])
    return columns + [
        Column("STATE"),
        Column("AUTOSTART"),
        Column("TYPE"),
        Column("SIZE", True),
        Column("USED", True),
        Column("FREE", True),
        Column("VOLS", True),
        Column("PATH"),
    ]


async def run_pools(args: argparse.Namespace) -> int:
    session = await open_session(args, args.hosts)
    try:
        found = await query_hosts(session, list_pools)
        pairs = sorted(((h.name, p) for h, pools in found.answers for p in pools), key=_pool_order)
        records = [pool_record(name, pool) for name, pool in pairs]
        with_host = len(session.fleet.hosts) > 1
        print_listing(
            args,
            found,
            "pools",
            records,
            csv_fields=POOL_FIELDS,
            table_lines=lambda: table(
                pool_columns(with_host), (pool_row(n, p, with_host) for n, p in pairs)
            ),
        )
        return found.code
    finally:
        await session.close()


# -- volumes ---------------------------------------------------------------------------------
def volumes_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "volumes",
        "List the volumes of a storage pool (of every active pool with --all-pools or "
        "when nothing is named), with the guests that use each.",
    )
    parser.add_argument(
        "names",
        nargs="*",
        metavar="POOL [HOST...]",
        help="the pool, then the hosts (with --all-pools, every name is a host)",
    )
    parser.add_argument(
        "-a", "--all-pools", action="store_true", help="every active pool of the hosts"
    )
    add_connection_options(parser, positional_hosts=False)
    _add_format_options(parser)
    return parser


async def _volumes_of(host: Host, pool: str | None) -> list[Volume]:
    if pool is not None:
        return await list_volumes(host, pool)
    pools = [p.name for p in await list_pools(host) if p.state == "active"]
    listed = await asyncio.gather(*(list_volumes(host, p) for p in pools))
    return [v for volumes in listed for v in volumes]


def volume_row(host: str, volume: Volume, with_host: bool, with_pool: bool) -> list[str]:
    row = [volume.name] + ([host] if with_host else []) + ([volume.pool] if with_pool else [])
    return row + [
        volume.format or "-",
        _size(volume.capacity),
        _size(volume.allocation),
        ", ".join(u.describe() for u in volume.users) or "-",
        volume.path,
    ]


def volume_columns(with_host: bool, with_pool: bool) -> list[Column]:
    columns = [Column("NAME")] + ([Column("HOST")] if with_host else [])
    columns += [Column("POOL")] if with_pool else []
    return columns + [
        Column("FORMAT"),
        Column("SIZE", True),
        Column("ALLOC", True),
        Column("USED BY"),
        Column("PATH"),
    ]


async def run_volumes(args: argparse.Namespace) -> int:
    pool = None if args.all_pools or not args.names else args.names[0]
    hosts = args.names if pool is None else args.names[1:]
    session = await open_session(args, hosts)
    try:
        found = await query_hosts(session, lambda h: _volumes_of(h, pool))
        pairs = sorted(
            ((h.name, v) for h, volumes in found.answers for v in volumes), key=_volume_order
        )
        records = [volume_record(name, volume) for name, volume in pairs]
        with_host, with_pool = len(session.fleet.hosts) > 1, pool is None
        print_listing(
            args,
            found,
            "volumes",
            records,
            csv_fields=VOLUME_FIELDS,
            csv_records=(csv_ready(r) for r in records),
            table_lines=lambda: table(
                volume_columns(with_host, with_pool),
                (volume_row(n, v, with_host, with_pool) for n, v in pairs),
            ),
            extra={"pool": pool},
        )
        return found.code
    finally:
        await session.close()
