"""`vtui` entry point: the interactive app, or a batch subcommand."""

from __future__ import annotations

import argparse
import sys

from vtui import __version__
from vtui.core.uri import default_uri, demo_uri


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vtui",
        description="Keyboard-driven terminal console for libvirt.",
        epilog="Batch commands: vtui list|top|host|start|shutdown|... --help",
    )
    parser.add_argument(
        "hosts",
        nargs="*",
        metavar="HOST",
        help="saved host, ssh target (user@host) or ~/.ssh/config alias",
    )
    parser.add_argument(
        "-c",
        "--connect",
        action="append",
        default=[],
        metavar="URI",
        help="libvirt URI to open (repeatable)",
    )
    parser.add_argument(
        "--demo",
        action="store_true",
        help="open the shipped demo host (libvirt's test driver, no hypervisor)",
    )
    parser.add_argument(
        "--readonly",
        "-r",
        action="store_true",
        help="open read-only connections; actions are refused",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=2.0,
        metavar="SECONDS",
        help="refresh interval (default 2)",
    )
    parser.add_argument("--version", action="version", version=f"vtui {__version__}")
    return parser


def _batch_commands() -> set[str]:
    try:
        from vtui.batch import BATCH_COMMANDS
    except ImportError:
        return set()
    return set(BATCH_COMMANDS)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from vtui.core import gctune

    gctune.tune()
    if argv and argv[0] in _batch_commands():
        from vtui.batch import main as batch_main

        return batch_main(argv)
    args = _parser().parse_args(argv)
    if args.interval <= 0:
        print("vtui: --interval must be a positive number of seconds", file=sys.stderr)
        return 2

    from vtui.core.errors import VtuiError
    from vtui.core.fleet import Fleet
    from vtui.core.fleet.targets import add_target, autoconnect_hosts
    from vtui.screens.dialogs import AppAsker

    fleet = Fleet(interval=args.interval, readonly=args.readonly)
    asker = AppAsker()  # host keys and passphrases are asked inside the app, once it runs
    readonly = True if args.readonly else None
    notes: list[str] = []
    try:
        # -c URIs go through add_target too: qemu+ssh:// then uses our SSH layer
        for target in [*args.connect, *args.hosts]:
            add_target(fleet, target, readonly=readonly, asker=asker)
    except VtuiError as exc:
        print(f"vtui: {exc}", file=sys.stderr)
        return 2
    if args.demo:
        fleet.add(demo_uri(), readonly=readonly)
    if not fleet.hosts:
        _hosts, errors = autoconnect_hosts(fleet, asker=asker)
        notes = [str(e) for e in errors]
    if not fleet.hosts:
        fleet.add(default_uri())

    from vtui.app import VtuiApp
    from vtui.screens.peek.terminal import detect_graphics

    detect_graphics()  # the terminal answers on stdin: ask before the app reads it
    app = VtuiApp(fleet, asker=asker, notes=notes)
    asker.app = app
    app.run()
    return 0
