"""`vtui volume upload|download|copy`: move volume data through libvirt streams with the
core's transfers (vtui.core.storage), progress on stderr and the result on stdout.
Ctrl-C cancels: the half-made volume (or partial file) is removed, exit status 130.

    vtui volume upload FILE POOL[/NAME] [--host H]
    vtui volume download POOL/VOLUME FILE [--host H] [--overwrite]
    vtui volume copy POOL/VOLUME --to HOST [--to-pool POOL] [--name NAME] [--host H]
"""

from __future__ import annotations

import argparse
import asyncio

from vtui.core import units
from vtui.core.fleet import Fleet
from vtui.core.host import Host
from vtui.core.storage import Transfer, Transfers, start_copy, start_download, start_upload
from vtui.core.uri import default_uri

from .output import error_line
from .parsing import (
    EXIT_CODES_HELP,
    EXIT_UNREACHABLE,
    BatchParser,
    UsageError,
    add_connection_options,
    new_parser,
    positive_float,
)
from .progress import StatusLine
from .session import Session, add_host_text, build_fleet, finish_fleet

VERBS = {
    "upload": "Upload a local file into a new volume (qcow2 files make qcow2 volumes).",
    "download": "Download a volume into a local file.",
    "copy": "Copy a volume into a new volume on another host (or pool).",
}


class VolumeParser(BatchParser):
    """`vtui volume VERB ...`: the verb picks the parser of the rest."""

    def parse_intermixed_args(self, args=None, namespace=None):
        args = list(args or [])
        if not args:
            raise UsageError(
                f"volume: say what to do: {', '.join(VERBS)} (see '{self.prog} --help')"
            )
        if args[0] in ("-h", "--help"):
            self.print_help()
            raise SystemExit(0)
        verb = args[0]
        if verb not in VERBS:
            raise UsageError(f"volume: unknown action {verb!r}; one of: {', '.join(VERBS)}")
        parsed = verb_parser(verb).parse_intermixed_args(args[1:])
        parsed.verb = verb
        return parsed


def volume_parser() -> argparse.ArgumentParser:
    return VolumeParser(
        prog="vtui volume",
        usage="vtui volume {upload,download,copy} ... (see 'vtui volume VERB --help')",
        description="Move volume data through libvirt streams (over SSH too), with progress "
        "on stderr.\n\n" + "\n".join(f"  {verb:<9} {text}" for verb, text in VERBS.items()),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def verb_parser(verb: str) -> argparse.ArgumentParser:
    parser = new_parser(f"volume {verb}", VERBS[verb])
    if verb == "upload":
        parser.add_argument("file", metavar="FILE", help="the local file")
        parser.add_argument(
            "target",
            metavar="POOL[/NAME]",
            help="the pool, and the new volume's name (default: the file's name)",
        )
    elif verb == "download":
        parser.add_argument("source", metavar="POOL/VOLUME", help="the volume")
        parser.add_argument("file", metavar="FILE", help="the local file (or a directory)")
        parser.add_argument("--overwrite", action="store_true", help="replace FILE if it exists")
    else:
        parser.add_argument("source", metavar="POOL/VOLUME", help="the volume")
        parser.add_argument("--to", required=True, metavar="HOST", help="the destination host")
        parser.add_argument("--to-pool", metavar="POOL", help="its pool (default: the same name)")
        parser.add_argument(
            "--name", metavar="NAME", help="the new volume's name (default: the same)"
        )
    parser.add_argument(
        "--host",
        metavar="HOST",
        help="the host of the volume: the name of a -c/--demo host, a saved host, "
        "ssh target or ~/.ssh/config alias (default: the -c host, else the default URI)",
    )
    parser.add_argument(
        "--bandwidth", type=positive_float, metavar="MiB/s", help="limit the transfer rate"
    )
    parser.add_argument(
        "--no-sparse",
        action="store_true",
        help="send holes as zeros (sparse streams are used by default)",
    )
    add_connection_options(parser, positional_hosts=False)
    return parser


def split_volume(text: str, *, name_optional: bool = False) -> tuple[str, str | None]:
    pool, slash, name = text.partition("/")
    if not pool or (slash and not name) or (not slash and not name_optional):
        want = "POOL[/NAME]" if name_optional else "POOL/VOLUME"
        raise UsageError(f"volume: {text!r} is not {want}")
    return pool, name or None


def pick_hosts(args: argparse.Namespace, to: str | None) -> tuple[Fleet, Host, Host | None]:
    """The volume's host (--host, else the one -c host, else the default URI) and the
    destination of a copy (--to)."""
    fleet = build_fleet(args, default=False)
    named = dict(fleet.hosts)

    def resolve(text: str) -> Host:
        return named.get(text) or add_host_text(fleet, text, args)

    dst = resolve(to) if to else None
    if args.host:
        src = resolve(args.host)
    else:
        others = [h for h in named.values() if h is not dst]
        if len(others) > 1:
            raise UsageError("volume: several hosts given; say which has the volume with --host")
        src = others[0] if others else fleet.add(default_uri())
    fleet.hosts = {h.name: h for h in (src, dst) if h is not None}
    finish_fleet(fleet, args)
    return fleet, src, dst


async def run_volume(args: argparse.Namespace) -> int:
    fleet, src, dst = pick_hosts(args, getattr(args, "to", None))
    session = Session(fleet)
    try:
        await session.connect()
        if session.failures:
            return EXIT_UNREACHABLE  # already reported
        transfer = await _start(args, src, dst)
        return await follow(transfer)
    finally:
        await session.close()


async def _start(args: argparse.Namespace, src: Host, dst: Host | None) -> Transfer:
    limit = args.bandwidth * 1024 * 1024 if args.bandwidth else None
    sparse, jobs = not args.no_sparse, Transfers()
    if args.verb == "upload":
        pool, name = split_volume(args.target, name_optional=True)
        return await start_upload(
            src, pool, args.file, name=name, limit_bps=limit, sparse=sparse, jobs=jobs
        )
    pool, volume = split_volume(args.source)
    assert volume is not None
    if args.verb == "download":
        return await start_download(
            src,
            pool,
            volume,
            args.file,
            overwrite=args.overwrite,
            limit_bps=limit,
            sparse=sparse,
            jobs=jobs,
        )
    assert dst is not None
    to_pool = args.to_pool or pool
    return await start_copy(
        src, pool, volume, dst, to_pool, name=args.name, limit_bps=limit, sparse=sparse, jobs=jobs
    )


class ProgressLines(StatusLine):
    """A transfer's progress on stderr."""

    def __call__(self, transfer: Transfer) -> None:
        if transfer.done or not self.due():
            return
        p = transfer.progress
        text = f"{transfer.title}: "
        text += "cancelling" if transfer.cancelling else f"{(p.fraction or 0) * 100:.0f}%"
        text += f" ({units.size(p.done)} of {units.size(p.total)})"
        if p.rate_bps:
            text += f" at {units.size(p.rate_bps)}/s"
        if p.eta is not None:
            text += f", {p.eta:.0f} s left"
        self.show(text)


async def follow(transfer: Transfer) -> int:
    progress = ProgressLines()
    transfer.subscribe(progress)
    try:
        summary = await transfer.wait()
    except asyncio.CancelledError:  # Ctrl-C: stop the transfer and clean up, then exit 130
        transfer.unsubscribe(progress)
        progress.finish()
        error_line(f"{transfer.title}: cancelling")
        await transfer.cancel()
        error_line(f"{transfer.title}: {transfer.error}")
        raise
    finally:
        progress.finish()
    print(f"{transfer.title}: {summary.line()}", flush=True)
    return 0
