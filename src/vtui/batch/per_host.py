"""Running one core query on every connected host of a batch command at once.

A host that answers is listed; one whose query fails (its driver lacks the feature,
libvirt refuses) is reported on stderr and under "errors", and the command exits 1;
unreachable hosts are already reported by the session and make it exit 3.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from vtui.core.errors import VtuiError
from vtui.core.host import Host

from .output import error_line, print_json, print_lines, write_csv
from .parsing import EXIT_FAILED
from .records import FORMAT_VERSION, error_record
from .session import Session

T = TypeVar("T")


@dataclass
class PerHost(Generic[T]):
    answers: list[tuple[Host, T]] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # session failures and ours
    code: int = 0

    @property
    def hosts(self) -> list[str]:
        return [host.name for host, _ in self.answers]


async def query_hosts(session: Session, query: Callable[[Host], Awaitable[T]]) -> PerHost[T]:
    hosts = session.connected
    results = await asyncio.gather(*(query(h) for h in hosts), return_exceptions=True)
    out: PerHost[T] = PerHost(errors=session.errors())
    for host, result in zip(hosts, results):
        if isinstance(result, VtuiError):
            error_line(str(result) if result.host else f"{host.name}: {result}")
            out.errors.append(error_record(host, result.message))
            out.code = EXIT_FAILED
        elif isinstance(result, BaseException):
            raise result
        else:
            out.answers.append((host, result))
    out.code = session.exit_code(out.code)
    return out


def yes_no(flag: bool) -> str:
    return "yes" if flag else "no"


def print_listing(
    args: argparse.Namespace,
    found: PerHost,
    name: str,
    records: list[dict],
    *,
    csv_fields: Sequence[str],
    table_lines: Callable[[], list[str]],
    csv_records: Iterable[dict] | None = None,
    extra: dict | None = None,
) -> None:
    """A listing in the format the options ask for: --json (format_version, hosts,
    `extra`, `name`: records, errors), --csv, or the table for people."""
    if args.json:
        print_json(
            {
                "format_version": FORMAT_VERSION,
                "hosts": found.hosts,
                **(extra or {}),
                name: records,
                "errors": found.errors,
            }
        )
    elif args.csv:
        write_csv(csv_fields, records if csv_records is None else csv_records)
    else:
        print_lines(table_lines())
