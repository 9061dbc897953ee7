"""vtui as a command-line tool: `vtui list|top|host|start|...` for scripts and cron.

`main(argv)` runs one subcommand (argv[0] is its name) and returns the exit status:
0 success, 1 operation failed, 2 bad usage, 3 a host could not be connected.
Errors are one line on stderr (`vtui: ...`), never a traceback. No Textual here.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from vtui.core.errors import VtuiError

from .lifecycle import ACTION_COMMANDS
from .output import error_line
from .parsing import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    UsageError,
    configure_logging,
)

if TYPE_CHECKING:
    import asyncio


class Command(NamedTuple):
    """A command's module (imported only when that command runs: a script calling
    `vtui list` in a loop pays for no other command's imports), its parser and its
    coroutine there."""

    module: str
    parser_name: str
    run_name: str
    parser_args: tuple = ()
    needs_tls: bool = False  # it may fetch https:// URLs itself (create --location)

    def _function(self, name: str):
        return getattr(importlib.import_module(f"vtui.batch.{self.module}"), name)

    def parser(self) -> argparse.ArgumentParser:
        return self._function(self.parser_name)(*self.parser_args)

    @property
    def run(self) -> Callable[[argparse.Namespace], Awaitable[int]]:
        return self._function(self.run_name)


COMMANDS: dict[str, Command] = {
    "list": Command("commands", "list_parser", "run_list"),
    "host": Command("commands", "host_parser", "run_host"),
    "top": Command("top", "top_parser", "run_top"),
    **{
        name: Command("lifecycle", "action_parser", "run_action_command", (name,))
        for name in ACTION_COMMANDS
    },
    "migrate": Command("migrate", "migrate_parser", "run_migrate"),
    "snapshot": Command("snapshot", "snapshot_parser", "run_snapshot"),
    "clone": Command("clone", "clone_parser", "run_clone"),
    "rename": Command("clone", "rename_parser", "run_rename"),
    "networks": Command("networks", "networks_parser", "run_networks"),
    "devices": Command("devices", "devices_parser", "run_devices"),
    "pools": Command("storage", "pools_parser", "run_pools"),
    "volumes": Command("storage", "volumes_parser", "run_volumes"),
    "volume": Command("volume", "volume_parser", "run_volume"),
    "screenshot": Command("screenshot", "screenshot_parser", "run_screenshot"),
    "create": Command("create", "create_parser", "run_create", needs_tls=True),
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
    if not command.needs_tls:
        _without_tls()
    before = set(threading.enumerate())
    try:
        parser = command.parser()
        args = parser.parse_intermixed_args(argv[1:])  # HOSTs before or after options
    except UsageError as exc:
        error_line(str(exc))
        return EXIT_USAGE
    except SystemExit as exc:  # --help printed its text
        return exc.code if isinstance(exc.code, int) else 0
    _warm_up(args)
    try:
        problem = configure_logging(args)
        if problem:
            error_line(f"warning: {problem}")
        code = _run(command, args)
    finally:
        _stop_warm_logins()
    _exit_if_stuck(before, code)
    return code


def main_and_exit(argv: list[str]) -> NoReturn:
    """The `vtui <command>` process: main(), then exit at once. Everything is closed
    and written by then; Python's own teardown of a process that loaded libvirt and
    asyncio costs a script calling us in a loop 30-90 ms a call for nothing."""
    code = main(argv)
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            code = code or EXIT_FAILED  # (e.g. a closed pipe: not silently)
    os._exit(code)


def _stop_warm_logins() -> None:
    """SSH masters started for hosts the command never reached (it failed first)."""
    openssh = sys.modules.get("vtui.core.fleet.openssh")
    if openssh is not None:
        openssh.stop_all()


def _without_tls() -> None:
    """Batch commands never speak TLS from Python (SSH hosts are reached with OpenSSH;
    libvirt's TLS is its own): keep asyncio from loading Python's OpenSSL bindings, a
    sixth of the start-up of a command that scripts call in loops. Only in a process
    that has not loaded them already (and only for batch commands: `vtui` itself
    imports this package to know the command names)."""
    if "asyncio" not in sys.modules and "ssl" not in sys.modules:
        sys.modules["ssl"] = None  # type: ignore[assignment]  # (an ImportError for asyncio)


def _warm_up(args: argparse.Namespace) -> None:
    """Start the SSH logins to the hosts the command names before loading the rest of
    it (asyncio, the hosts' machinery): the login's round trips overlap the imports
    (core/fleet/openssh.py). A name that is no SSH host is left alone."""
    from vtui.core.uri import display_name

    texts = [*getattr(args, "hosts", ()), getattr(args, "host", None), getattr(args, "to", None)]
    texts += [uri for uri in args.connect if "+ssh://" in uri]
    # --host/--to may name a -c or --demo host instead
    named = {display_name(uri) for uri in args.connect if "+ssh://" not in uri}
    wanted = [t for t in texts if t and t not in named and not (args.demo and t == "demo")]
    if not wanted:
        return
    from vtui.core.fleet.openssh import warm_up
    from vtui.core.fleet.targets import ssh_target_of

    for text in wanted:
        target = ssh_target_of(text, ssh_config=args.ssh_config)
        if target is not None:
            warm_up(target, args.timeout)


def _loop_error(_loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """asyncio reports errors of callbacks and forgotten tasks with a traceback; here
    they become one line. A cancelled task reported this way is Python 3.11 noise
    (asyncio.start_unix_server's callback asks a cancelled task for its exception)."""
    import asyncio

    exc = context.get("exception")
    if isinstance(exc, asyncio.CancelledError):
        return
    detail = f": {type(exc).__name__}: {exc}" if exc is not None else ""
    error_line(f"internal error: {context.get('message', 'asyncio')}{detail}")


async def _run_and_close(command: Command, args: argparse.Namespace) -> int:
    import asyncio

    from .session import close_leftover_sessions

    asyncio.get_running_loop().set_exception_handler(_loop_error)
    _warn_about_saved_hosts()
    try:
        return await command.run(args)
    finally:
        await close_leftover_sessions()


def _warn_about_saved_hosts() -> None:
    """What is wrong in hosts.toml, one line each, whatever the command: a typo there
    must not go unnoticed until the host it breaks is needed (the good entries are
    used all the same)."""
    from vtui.core.settings import saved_hosts

    _hosts, problem = saved_hosts.load()
    if problem is None:
        return
    for line in getattr(problem, "problems", None) or [str(problem)]:
        error_line(f"warning: {line}")


def _run(command: Command, args: argparse.Namespace) -> int:
    import asyncio

    from .session import Unreachable

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
