"""vtui as a command-line tool: `vtui list|top|host|start|...` for scripts and cron.

`main(argv)` runs one subcommand (argv[0] is its name) and returns the exit status:
0 success, 1 operation failed, 2 bad usage, 3 a host could not be connected.
Errors are one line on stderr (`vtui: ...`), never a traceback. No Textual here.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial

from vtui.core.errors import VtuiError

from . import (
    clone,
    commands,
    create,
    devices,
    lifecycle,
    migrate,
    networks,
    screenshot,
    snapshot,
    storage,
    top,
    volume,
)
from .output import error_line
from .parsing import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    UsageError,
    configure_logging,
)
from .session import Unreachable, close_leftover_sessions


@dataclass(frozen=True, slots=True)
class Command:
    parser: Callable[[], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace], Awaitable[int]]


COMMANDS: dict[str, Command] = {
    "list": Command(commands.list_parser, commands.run_list),
    "host": Command(commands.host_parser, commands.run_host),
    "top": Command(top.top_parser, top.run_top),
    **{
        name: Command(partial(lifecycle.action_parser, name), lifecycle.run_action_command)
        for name in lifecycle.ACTION_COMMANDS
    },
    "migrate": Command(migrate.migrate_parser, migrate.run_migrate),
    "snapshot": Command(snapshot.snapshot_parser, snapshot.run_snapshot),
    "clone": Command(clone.clone_parser, clone.run_clone),
    "rename": Command(clone.rename_parser, clone.run_rename),
    "networks": Command(networks.networks_parser, networks.run_networks),
    "devices": Command(devices.devices_parser, devices.run_devices),
    "pools": Command(storage.pools_parser, storage.run_pools),
    "volumes": Command(storage.volumes_parser, storage.run_volumes),
    "volume": Command(volume.volume_parser, volume.run_volume),
    "screenshot": Command(screenshot.screenshot_parser, screenshot.run_screenshot),
    "create": Command(create.create_parser, create.run_create),
}
BATCH_COMMANDS = frozenset(COMMANDS)


def main(argv: list[str]) -> int:
    """Run `vtui <command> ...`; returns the exit status (never raises)."""
    if not argv or argv[0] not in COMMANDS:
        error_line(
            f"unknown command {argv[0] if argv else ''!r}; one of: {', '.join(sorted(COMMANDS))}"
        )
        return EXIT_USAGE
    command = COMMANDS[argv[0]]
    before = set(threading.enumerate())
    try:
        parser = command.parser()
        args = parser.parse_intermixed_args(argv[1:])  # HOSTs before or after options
    except UsageError as exc:
        error_line(str(exc))
        return EXIT_USAGE
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else 0
    problem = configure_logging(args)
    if problem:
        error_line(f"warning: {problem}")
    code = _run(command, args)
    _exit_if_stuck(before, code)
    return code


def _loop_error(_loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """asyncio reports errors of callbacks and forgotten tasks with a traceback; here
    they become one line. A cancelled task reported this way is Python 3.11 noise
    (asyncio.start_unix_server's callback asks a cancelled task for its exception)."""
    exc = context.get("exception")
    if isinstance(exc, asyncio.CancelledError):
        return
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    error_line(f"internal error: {context.get('message', 'asyncio')}{detail}")


async def _run_and_close(command: Command, args: argparse.Namespace) -> int:
    asyncio.get_running_loop().set_exception_handler(_loop_error)
    try:
        return await command.run(args)
    finally:
        await close_leftover_sessions()


def _run(command: Command, args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run_and_close(command, args))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except UsageError as exc:
        error_line(str(exc))
        return EXIT_USAGE
    except Unreachable:
        return EXIT_UNREACHABLE  # each host's failure is already on stderr
    except VtuiError as exc:
        error_line(str(exc))
        return EXIT_FAILED
    except BrokenPipeError:
        # `vtui list | head`: the reader left; stay quiet like any Unix filter
        _silence_stdout()
        return EXIT_FAILED
    except Exception as exc:  # a bug: still one line, never a traceback
        error_line(f"unexpected error: {type(exc).__name__}: {exc}")
        return EXIT_FAILED


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _exit_if_stuck(before: set[threading.Thread], code: int) -> None:
    """A host that never answered leaves its worker thread blocked inside libvirt, and
    Python would wait for it at exit (minutes, or forever). Everything is reported by
    now, so end the process instead of hanging the script that called us."""
    workers = [
        t
        for t in threading.enumerate()
        if t not in before and t.name.startswith("virt-") and not t.daemon
    ]
    deadline = time.monotonic() + 1.0
    for thread in workers:  # closed hosts' idle workers end within milliseconds
        thread.join(timeout=max(deadline - time.monotonic(), 0))
    if any(t.is_alive() for t in workers):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
