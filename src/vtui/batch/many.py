"""Batch commands over several guests: `vtui shutdown 'web-*' db1`, `vtui snapshot create
...`. GUEST arguments are names, UUIDs or patterns (globs like `web-*`, or `re:REGEX`
/ `/REGEX/`) over the guests of every connected host (or of --host). Each guest is
done on its own through the core's bulk runner (vtui.core.guests.bulk); successes are
lines on stdout, each failure one line on stderr (both in --json), and the status is 1
when any guest failed or an argument matched nothing."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from .output import error_line, print_json
from .parsing import EXIT_FAILED, EXIT_UNREACHABLE, add_connection_options
from .records import FORMAT_VERSION

if TYPE_CHECKING:
    from vtui.core.guests import BulkResult, BulkTarget

    from .session import Session

# The core's guest and session modules load libvirt: they are imported inside the
# functions, so a command's parser loads without them (batch/__init__.py's warm-up).

RESULT_FIELDS = ("host", "name", "uuid", "ok", "skipped", "message")


def add_guests_options(parser: argparse.ArgumentParser, *, json: bool = True) -> None:
    parser.add_argument(
        "guests",
        nargs="+",
        metavar="GUEST",
        help="guest names, UUIDs or patterns: a glob ('web-*', quoted) or re:REGEX",
    )
    parser.add_argument(
        "--host",
        metavar="HOST",
        help="only guests on this host: the name of a -c/--demo host, a saved host, "
        "ssh target or ~/.ssh/config alias",
    )
    if json:
        parser.add_argument(
            "--json", action="store_true", help="one JSON document of results (see docs/json.md)"
        )
    add_connection_options(parser, positional_hosts=False)


def single_guest(args: argparse.Namespace) -> bool:
    """One plain name, no --json: the command keeps its one-guest output and errors."""
    from vtui.core.guests.selection import is_pattern

    return len(args.guests) == 1 and not is_pattern(args.guests[0]) and not args.json


async def open_many(args: argparse.Namespace) -> Session:
    """Connect the hosts the options name (only --host's when given)."""
    from .session import Session, add_host_text, build_fleet, finish_fleet

    fleet = build_fleet(args, default=False)
    if args.host is not None:
        if args.host in fleet.hosts:
            fleet.hosts = {args.host: fleet.hosts[args.host]}
        else:
            fleet.hosts.clear()
            add_host_text(fleet, args.host, args)
    finish_fleet(fleet, args)
    session = Session(fleet)
    await session.connect()
    return session


class Selection:
    __slots__ = ("targets", "problems", "not_searched")

    def __init__(self) -> None:
        self.targets: list[BulkTarget] = []
        self.problems: list[str] = []  # arguments that found nothing usable
        self.not_searched = False  # some of them might be on a host that did not answer


def select(session: Session, arguments: Sequence[str]) -> Selection:
    """The guests the arguments name, each once, in the order named. A plain name on
    several hosts is a problem (say which with --host); a pattern takes them all."""
    from vtui.core.guests import BulkTarget, is_pattern, name_matcher

    chosen = Selection()
    seen: set[tuple[str, str]] = set()
    hosts = session.connected
    for argument in arguments:
        match = name_matcher(argument)
        found = sorted(
            (BulkTarget(h, g) for h in hosts for g in h.guests.values() if match(g)),
            key=lambda t: (t.host.name, t.guest.name),
        )
        if not found:
            what = "matches" if is_pattern(argument) else "called"
            chosen.problems.append(f"no guest {what} {argument!r}")
            chosen.not_searched |= bool(session.failures)
            continue
        if len(found) > 1 and not is_pattern(argument):
            where = ", ".join(sorted(t.host.name for t in found))
            chosen.problems.append(
                f"guest {argument!r} exists on several hosts ({where}); say which with --host"
            )
            continue
        for target in found:
            key = (target.host.name, target.guest.uuid)
            if key not in seen:
                seen.add(key)
                chosen.targets.append(target)
    return chosen


def failure_line(result: BulkResult) -> str:
    """'HOST: MESSAGE' when the message names the guest, else 'HOST: guest NAME: ...'."""
    if result.guest in result.message:
        return f"{result.host}: {result.message}"
    return f"{result.host}: guest {result.guest}: {result.message}"


def result_record(result: BulkResult) -> dict:
    return {
        "host": result.host,
        "name": result.guest,
        "uuid": result.uuid,
        "ok": result.ok,
        "skipped": result.skipped,
        "message": result.message,
    }


def report(
    session: Session,
    selection: Selection,
    results: Sequence[BulkResult],
    args: argparse.Namespace,
    command: str,
    line: Callable[[BulkResult], str] | None = None,
) -> int:
    """Print the results; the exit status (1 if anything failed, 3 if an argument may be
    on a host that did not answer)."""
    failed = [r for r in results if not r.ok]
    if getattr(args, "json", False):
        errors = session.errors() + [
            {"host": None, "uri": None, "message": p} for p in selection.problems
        ]
        print_json(
            {
                "format_version": FORMAT_VERSION,
                "command": command,
                "results": [result_record(r) for r in results],
                "errors": errors,
            }
        )
    else:
        for result in results:
            if result.ok:
                text = (
                    line(result) if line else f"{result.guest} on {result.host}: {result.message}"
                )
                print(text, flush=True)
    for result in failed:
        error_line(failure_line(result))
    for problem in selection.problems:
        not_searched = f"; not searched: {', '.join(session.failures)}" if session.failures else ""
        error_line(problem + not_searched)
    if selection.not_searched:
        return EXIT_UNREACHABLE
    return EXIT_FAILED if failed or selection.problems else 0
