"""`vtui` entry point: the interactive app, or a batch subcommand.

The TUI and the batch commands share one definition of their options (hosts, URIs,
--demo, --readonly, --ssh-config, --timeout, the log): vtui.batch.parsing.
"""

from __future__ import annotations

import argparse
import sys

from vtui import __version__
from vtui.batch.parsing import (
    BatchParser,
    UsageError,
    add_connection_options,
    configure_logging,
    interval_seconds,
)
from vtui.core.uri import default_uri, demo_uri


def _parser() -> argparse.ArgumentParser:
    parser = BatchParser(  # one-line errors, like the batch commands
        prog="vtui",
        description="Keyboard-driven terminal console for libvirt.",
        epilog="Batch commands: vtui list|top|host|start|shutdown|... --help",
    )
    add_connection_options(parser, positional_hosts=True)
    parser.add_argument(
        "--interval",
        type=interval_seconds,
        default=2.0,
        metavar="SECONDS",
        help="refresh interval, 0.2 to 3600 (default 2)",
    )
    parser.add_argument("--version", action="version", version=f"vtui {__version__}")
    return parser


def _batch_commands() -> set[str]:
    try:
        from vtui.batch import BATCH_COMMANDS
    except ImportError:
        return set()
    return set(BATCH_COMMANDS)


def mistyped_command(word: str, commands: set[str], ssh_config: str | None = None) -> str | None:
    """The batch command `word` is probably a typo of, when it names no host we know
    (`vtui lst` must not quietly try to SSH to a machine called lst)."""
    import difflib

    if not word or word.startswith("-") or any(c in word for c in "@:/."):
        return None  # user@host, host:port, URIs and dotted names are hosts
    close = difflib.get_close_matches(word, sorted(commands), n=1, cutoff=0.75)
    if not close:
        return None
    from vtui.core.settings import saved_hosts
    from vtui.core.ssh.aliases import ssh_aliases

    if saved_hosts.find(word, saved_hosts.load()[0]) or word in ssh_aliases(ssh_config):
        return None
    return close[0]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    from vtui.core import gctune

    gctune.tune()
    if argv and argv[0] in _batch_commands():
        from vtui.batch import main_and_exit

        main_and_exit(argv)
    try:
        args = _parser().parse_args(argv)
    except UsageError as exc:
        print(f"vtui: {exc}", file=sys.stderr)
        return 2
    for word in args.hosts:
        typo = mistyped_command(word, _batch_commands(), args.ssh_config)
        if typo:
            print(
                f"vtui: unknown command {word!r}: did you mean '{typo}'? (to reach a host "
                f"called {word}, write user@{word} or save it with C)",
                file=sys.stderr,
            )
            return 2
    notes: list[str] = []
    problem = configure_logging(args)
    if problem:
        notes.append(problem)

    from vtui.core.errors import VtuiError
    from vtui.core.fleet import Fleet
    from vtui.core.fleet.targets import add_target, autoconnect_hosts
    from vtui.core.ssh.later_asker import LaterAsker

    fleet = Fleet(interval=args.interval, readonly=args.readonly, connect_timeout=args.timeout)
    asker = LaterAsker()  # host keys and passphrases are asked inside the app, once it runs
    readonly = True if args.readonly else None
    try:
        # -c URIs go through add_target too: qemu+ssh:// then uses our SSH layer
        for target in [*args.connect, *args.hosts]:
            add_target(fleet, target, readonly=readonly, asker=asker, ssh_config=args.ssh_config)
    except VtuiError as exc:
        print(f"vtui: {exc}", file=sys.stderr)
        return 2
    if args.demo:
        fleet.add(demo_uri(), readonly=readonly)
    if not fleet.hosts:
        _hosts, errors = autoconnect_hosts(fleet, asker=asker, ssh_config=args.ssh_config)
        notes += [str(e) for e in errors]
    else:  # a broken saved-hosts file is said even when no saved host is used now
        from vtui.core.settings import saved_hosts

        _saved, problem = saved_hosts.load()
        if problem is not None:
            notes.append(str(problem))
    if not fleet.hosts:
        fleet.add(default_uri())

    from vtui.core import eventloop

    eventloop.run(run_app(fleet, asker, notes))
    return 0


async def run_app(fleet, asker, notes: list[str], run=None) -> None:
    """Connect the fleet while the app's modules load, then run the app.

    Importing Textual and vtui's screens takes about half a second, about as long as an
    SSH login and opening libvirt's connection: the hosts start connecting first (on
    this loop) and the imports run in a thread meanwhile, so their rows come that much
    sooner. `run(app)` runs it (default: app.run_async(); the benchmarks run it
    headless); asker is the LaterAsker the hosts were given."""
    import asyncio

    connecting = asyncio.ensure_future(fleet.connect_all())
    try:
        VtuiApp, keymap, problems = await asyncio.to_thread(_load_app)
        app = VtuiApp(
            fleet, asker=asker, notes=[*notes, *problems], keymap=keymap, connecting=connecting
        )
        await (run(app) if run is not None else app.run_async())
    finally:
        asker.give(None)  # (a login still waiting for the app: refused, it is not coming)
        if not connecting.done():
            connecting.cancel()
        await fleet.close()  # (the app closes it too; closing again does nothing)


def _load_app():
    """The app's class, the user's keymap and what was wrong in the settings (in a
    thread: the imports are most of vtui's start-up time)."""
    from vtui.app import VtuiApp
    from vtui.core.settings import preferences
    from vtui.keymap import load_keymap
    from vtui.screens.peek.terminal import detect_graphics

    prefs = preferences.load()
    keymap = load_keymap(prefs)
    detect_graphics()  # the terminal answers on stdin: ask before the app reads it
    return VtuiApp, keymap, prefs.problems
