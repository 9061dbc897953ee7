"""argparse for the batch commands: one-line usage errors (exit 2), shared options."""

from __future__ import annotations

import argparse
from pathlib import Path

from vtui.core import logs
from vtui.core.logs import LEVELS
from vtui.core.settings import paths, preferences
from vtui.core.timeouts import CONNECT_TIMEOUT

EXIT_OK = 0
EXIT_FAILED = 1  # the operation was attempted and failed (or was refused)
EXIT_USAGE = 2  # bad arguments, unknown host name
EXIT_UNREACHABLE = 3  # a host could not be connected
EXIT_INTERRUPTED = 130

EXIT_CODES_HELP = """\
exit status: 0 success, 1 operation failed, 2 bad usage, 3 a host could not be
reached (what the other hosts answered is still printed), 130 interrupted.
Output formats (--json, --csv) and exit status are documented in docs/json.md."""


class UsageError(Exception):
    """Bad arguments: reported as one line, exit status 2."""


class BatchParser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse would print the usage block and exit
        command = self.prog.removeprefix("vtui").strip()
        where = f"{command}: " if command else ""
        raise UsageError(f"{where}{message} (see '{self.prog} --help')")


def new_parser(command: str, description: str) -> BatchParser:
    return BatchParser(
        prog=f"vtui {command}",
        description=description,
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number: {text!r}")
    return value


def interval_seconds(text: str) -> float:
    """A refresh interval: a finite number of seconds, from 0.2 (a host sampled faster
    than that only costs CPU) to an hour."""
    value = positive_float(text)
    if not 0.2 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"must be between 0.2 and 3600 seconds: {text!r}")
    return value


def non_negative_float(text: str) -> float:
    if text.strip() in ("0", "0.0"):
        return 0.0
    return positive_float(text)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def default_timeout() -> float:
    """--timeout's default: settings.toml's [connection] timeout, else vtui's own."""
    return preferences.load().connect_timeout or CONNECT_TIMEOUT


def add_connection_options(parser: argparse.ArgumentParser, *, positional_hosts: bool) -> None:
    """How every command (and the TUI) picks its hosts, none meaning the default URI;
    plus the log options, which every command has too."""
    group = parser.add_argument_group("hosts")
    if positional_hosts:
        group.add_argument(
            "hosts",
            nargs="*",
            metavar="HOST",
            help="saved host name, ssh target (user@host) or ~/.ssh/config "
            "alias (repeatable; none: the default URI)",
        )
    group.add_argument(
        "-c",
        "--connect",
        action="append",
        default=[],
        metavar="URI",
        help="libvirt URI to open (repeatable)",
    )
    group.add_argument(
        "--demo",
        action="store_true",
        help="the shipped demo host (libvirt's test driver, no hypervisor)",
    )
    group.add_argument(
        "-r",
        "--readonly",
        action="store_true",
        help="open read-only connections (actions are refused)",
    )
    group.add_argument(
        "--ssh-config", metavar="FILE", help="extra ssh config file, read before ~/.ssh/config"
    )
    group.add_argument(
        "--timeout",
        type=positive_float,
        default=default_timeout(),
        metavar="SECONDS",
        help=f"give up connecting to a host after this long (default {CONNECT_TIMEOUT:g}; "
        "settings.toml [connection] timeout changes it)",
    )
    add_logging_options(parser)


def add_logging_options(parser: argparse.ArgumentParser) -> None:
    """Where failures are written in full (the screen or stderr shows one line)."""
    group = parser.add_argument_group("log")
    group.add_argument(
        "--log-level",
        choices=LEVELS,
        default="info",
        help="what goes into the log file (default info)",
    )
    group.add_argument(
        "--log-file",
        metavar="FILE",
        type=Path,
        help=f"the log file (default {paths.log_file()}, rotated)",
    )


def configure_logging(args: argparse.Namespace) -> str | None:
    """Start the log the options ask for; why it cannot be written, or None."""
    return logs.configure(args.log_level, args.log_file or paths.log_file())


DEFAULT_RATE_WAIT = 1.0


def add_rate_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "rates",
        "CPU % and disk/network rates are differences between two samples. By default "
        "there is one sample (about what `virsh list` costs) and they are unknown (null, "
        "'-'); --rates takes a second sample, so the command takes --wait seconds longer.",
    )
    choice = group.add_mutually_exclusive_group()
    choice.add_argument(
        "--rates",
        action="store_true",
        help=f"also CPU %% and rates: a second sample after --wait seconds "
        f"(default {DEFAULT_RATE_WAIT:g})",
    )
    choice.add_argument(
        "--no-rates",
        action="store_true",
        help="one sample only (the default; kept for scripts that ask for it)",
    )
    group.add_argument(
        "--wait",
        type=positive_float,
        metavar="SECONDS",
        help="time between the two samples (implies --rates)",
    )


def wants_rates(args: argparse.Namespace) -> bool:
    """--rates or --wait: two samples. --wait with --no-rates is a contradiction."""
    if args.no_rates and args.wait is not None:
        raise UsageError("--wait takes a second sample for the rates: not with --no-rates")
    return args.rates or args.wait is not None


def rate_wait(args: argparse.Namespace) -> float:
    return DEFAULT_RATE_WAIT if args.wait is None else args.wait


def _state_words() -> dict[str, str]:
    # (vtui.core.states loads libvirt: not before a command has started its SSH logins)
    from vtui.core.states import FILTER_STATES

    return {s.replace(" ", ""): s for s in (*FILTER_STATES, "blocked", "shutting down")}


def state_filter(text: str) -> set[str]:
    """'running,paused' or 'shutoff' or 'active'/'inactive' -> the state names."""
    wanted: set[str] = set()
    for word in text.lower().split(","):
        key = word.strip().replace(" ", "").replace("-", "").replace("_", "")
        if key in ("active", "inactive", "all"):
            wanted.add(key)
        elif key in _state_words():
            wanted.add(_state_words()[key])
        elif key:
            choices = "running, paused, shutoff, crashed, pmsuspended, active, inactive"
            raise argparse.ArgumentTypeError(f"unknown state {word.strip()!r} (one of {choices})")
    return wanted
